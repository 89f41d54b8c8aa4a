"""Excel workbooks of the dashboard and the monthly report kept for download.

One workbook per region and period: a summary sheet (the region's score, its
components and the scoring method), one sheet per component with a row per
village (numerator, denominator, rate, points), and a sheet with every village's
score. Built from the snapshots only (one query), so a county of 1,000 villages
exports in well under a second.
"""

from __future__ import annotations

from types import SimpleNamespace

from openpyxl.styles import PatternFill
from sqlalchemy import select

from tracker import xlsx
from tracker.dashboard import rules, services
from tracker.dashboard.models import DashboardReport, VillageScore
from tracker.dashboard.sources import figures_for_score
from tracker.extensions import db
from tracker.formatting import excel_datetime
from tracker.models import Region, utcnow
from tracker.periods import Period

FILLS = {
    "green": PatternFill("solid", fgColor="C6EFCE"),
    "amber": PatternFill("solid", fgColor="FFEB9C"),
    "red": PatternFill("solid", fgColor="FFC7CE"),
    "none": PatternFill("solid", fgColor="E7E6E6"),
}


def region_workbook(region: Region, period: Period) -> bytes:
    """The ``.xlsx`` bytes of a region's dashboard for a period."""
    config = services.scoring_config()
    summary = services.region_score(region, period)
    col = services.level_column(region.level)
    town = Region.__table__.alias("town")
    rows = db.session.execute(
        select(VillageScore, Region.name, town.c.name)
        .join(Region, Region.id == VillageScore.region_id)
        .join(town, town.c.id == VillageScore.township_id)
        .where(VillageScore.period == period.key, col == region.id)
        .order_by(town.c.name, Region.name)
    ).all()
    wb, ws = xlsx.new_workbook("汇总")
    xlsx.title(ws, f"{region.name}{period.label_zh}村级党建合规看板")
    xlsx.append(ws, ["期间", period.key])
    xlsx.append(ws, ["数据截至", excel_datetime(summary.computed_at)])
    ws.cell(row=ws.max_row, column=2).number_format = "yyyy-mm-dd hh:mm"
    xlsx.append(ws, ["得分（下辖各村得分平均）", summary.score.value])
    xlsx.append(ws, ["等级", summary.band.label])
    xlsx.append(ws, ["村数 / 有得分的村", summary.villages, summary.scored])
    xlsx.append(ws, [])
    xlsx.header(
        ws, ["构成项", "分子", "分母", "比率（合并）", "目标", "得分", "权重", "说明"], fill=None
    )
    for c in summary.score.components:
        xlsx.append(
            ws,
            [
                f"{c.name}（{c.spec.unit}）",
                c.spec.shown(c.numerator),
                c.spec.shown(c.denominator),
                c.rate,
                c.target,
                None if c.points is None else round(c.points, 1),
                c.weight,
                c.reason or f"{c.spec.numerator_label} / {c.spec.denominator_label}",
            ],
        )
        ws.cell(row=ws.max_row, column=4).number_format = "0.0%"
        ws.cell(row=ws.max_row, column=5).number_format = "0%"
    xlsx.append(ws, [])
    xlsx.append(ws, ["计分方法"])
    xlsx.append(ws, ["村得分 = 适用各项得分按权重加权平均（不适用的项不计分，其权重按比例分摊）"])
    xlsx.append(
        ws, ["各项得分 = 100 × min(比率 ÷ 目标, 1)；乡镇/县/市得分 = 下辖各村得分的算术平均"]
    )
    xlsx.append(ws, [f"等级：≥{config.band_green:g} 良好，≥{config.band_amber:g} 需关注，其余落后"])
    xlsx.widths(ws, [26, 12, 12, 14, 8, 8, 8, 60])

    wv = wb.create_sheet("各村得分")
    comp_keys = services.active_components(config)
    xlsx.header(wv, ["乡镇", "村", "得分", "等级"] + [c.name for c in comp_keys], fill=None)
    for vs, vname, tname in rows:
        sc = rules.score(figures_for_score(vs), config)
        xlsx.append(
            wv,
            [tname, vname, vs.score, rules.Band(vs.band).label]
            + [sc.component(c.key).rate for c in comp_keys],
        )
        wv.cell(row=wv.max_row, column=4).fill = FILLS.get(vs.band, FILLS["none"])
        for i in range(len(comp_keys)):
            wv.cell(row=wv.max_row, column=5 + i).number_format = "0.0%"
    xlsx.widths(wv, [16, 16, 8, 8] + [12] * len(comp_keys))

    for spec in comp_keys:
        sheet = wb.create_sheet(spec.name)
        xlsx.header(
            sheet,
            [
                "乡镇",
                "村",
                f"{spec.numerator_label}（{spec.unit}）",
                f"{spec.denominator_label}（{spec.unit}）",
                spec.rate_label,
                "得分",
            ]
            + _extra_headers(spec.key),
            fill=None,
        )
        for vs, vname, tname in rows:
            comp = rules.score(figures_for_score(vs), config).component(spec.key)
            num, den = spec.shown(comp.numerator), spec.shown(comp.denominator)
            xlsx.append(
                sheet,
                [
                    tname,
                    vname,
                    num,
                    den,
                    comp.rate,
                    None if comp.points is None else round(comp.points, 1),
                ]
                + _extras(spec.key, vs),
            )
            sheet.cell(row=sheet.max_row, column=5).number_format = "0.0%"
        xlsx.widths(sheet, [16, 16, 12, 12, 16, 8, 14, 14, 14])
    for key, reason in config.unavailable.items():
        note = wb.create_sheet(rules.COMPONENT_BY_KEY[key].name)
        xlsx.append(note, [reason])
    return xlsx.to_bytes(wb)


def _extra_headers(key: str) -> list[str]:
    return {
        "meetings": ["其中补录完成", "缺失"],
        "on_time_entry": ["补录", "修改过"],
        "service_on_time": ["受理", "逾期未办结"],
        "callbacks": [],
        "camera_uptime": ["摄像头数", "未知（时）", "已核准说明（时）"],
        "trainings": [],
        "secondment": [],
    }.get(key, [])


def _extras(key: str, vs: VillageScore | SimpleNamespace) -> list[object]:
    if key == "meetings":
        return [vs.meetings_met_late, vs.meetings_due - vs.meetings_met - vs.meetings_met_late]
    if key == "on_time_entry":
        return [vs.records_late, vs.records_edited]
    if key == "service_on_time":
        return [vs.matters_received, vs.matters_overdue_open]
    if key == "camera_uptime":
        return [vs.cameras, round(vs.cam_unknown_s / 3600, 1), round(vs.cam_excused_s / 3600, 1)]
    return []


def store_monthly_report(region: Region, period: Period) -> DashboardReport:
    """Generate and keep (replace) the report workbook of a region and month."""
    data = region_workbook(region, period)
    rep = db.session.scalar(
        select(DashboardReport).where(
            DashboardReport.region_id == region.id, DashboardReport.period == period.key
        )
    )
    if rep is None:
        rep = DashboardReport(region_id=region.id, period=period.key, filename="", content=b"")
        db.session.add(rep)
    rep.filename = f"月度合规报告-{region.name}-{period.label_zh}.xlsx"
    rep.content = data
    rep.size = len(data)
    rep.created_at = utcnow()
    db.session.flush()
    return rep
