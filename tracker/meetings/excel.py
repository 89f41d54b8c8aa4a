"""Excel export of a branch's year and import of historic records (openpyxl).

Columns are those of the county's paper-era spreadsheets: 会议类型, 党小组,
日期, 开始, 结束, 地点, 主持人, 记录人, 授课人, 议题, 会议内容, 决议,
缺席人员（姓名（原因）、…）, 请假人员（姓名（原因）、…）, 列席人员. Everyone on
the roster not listed as absent or on leave was present.

Import is all-or-nothing: every row is recorded inside a savepoint that is
rolled back for the preview (so the preview applies exactly the rules of a
real save), and the real import commits only when no row has an error.
Imported records are marked ``imported`` with the import time as their entry
time: a record typed in years later is late (补录), and says so.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from flask_babel import gettext
from openpyxl.styles import Alignment, PatternFill
from sqlalchemy import select

from tracker import clock, xlsx
from tracker.extensions import db
from tracker.formatting import excel_datetime
from tracker.meetings.models import Attendance, Meeting
from tracker.meetings.services import (
    MeetingError,
    MeetingInput,
    branch_roster,
    kinds,
    meetings_of_branch,
    record_meeting,
)
from tracker.models import Branch, Member, PartyGroup
from tracker.workdays import WorkCalendar

COLUMNS = [
    "会议类型",
    "党小组",
    "日期",
    "开始时间",
    "结束时间",
    "地点",
    "主持人",
    "记录人",
    "授课人",
    "议题",
    "会议内容",
    "决议",
    "缺席人员",
    "请假人员",
    "列席人员",
]
EXPORT_EXTRA = [
    "应到正式党员",
    "实到正式党员",
    "达到法定人数",
    "录入时间",
    "补录",
    "导入",
    "版本",
    "状态",
]
MAX_ROWS = 2000


def export_year(branch: Branch, year: int) -> bytes:
    """The branch's records of ``year`` as an .xlsx workbook."""
    known = kinds(include_inactive=True)
    wb, ws = xlsx.new_workbook(f"{year}年会议记录")
    xlsx.header(ws, COLUMNS + EXPORT_EXTRA, fill=PatternFill("solid", fgColor="F3D6D6"))
    for m in sorted(meetings_of_branch(branch.id, year), key=lambda m: m.started_at):
        start = m.started_at.astimezone(clock.zone())
        end = m.ended_at.astimezone(clock.zone())
        absent = _names(a for a in m.attendance if not a.present and not a.excused)
        excused = _names(a for a in m.attendance if not a.present and a.excused)
        xlsx.append(
            ws,
            [
                known[m.kind].name if m.kind in known else m.kind,
                m.group.name if m.group else "",
                start.date(),
                start.time().replace(second=0, microsecond=0, tzinfo=None),
                end.time().replace(second=0, microsecond=0, tzinfo=None),
                m.place,
                m.host.name,
                m.recorder,
                m.lecturer or "",
                m.topics,
                m.content,
                m.resolutions,
                absent,
                excused,
                m.guests,
                m.full_members,
                m.full_present,
                "" if m.quorum_met is None else ("是" if m.quorum_met else "否"),
                excel_datetime(m.entered_at),
                "是" if m.late else "",
                "是" if m.imported else "",
                m.version,
                f"已删除：{m.deleted_reason}" if m.deleted_at else "",
            ],
        )
    widths = [12, 10, 12, 8, 8, 16, 8, 8, 8, 30, 40, 30, 24, 24, 16, 8, 8, 8, 16, 6, 6, 6, 16]
    for i, w in enumerate(widths, start=1):
        ws.column_dimensions[ws.cell(1, i).column_letter].width = w
    for row in ws.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        row[2].number_format = "yyyy-mm-dd"
        row[3].number_format = row[4].number_format = "hh:mm"
        row[COLUMNS.index("列席人员") + 4].number_format = "yyyy-mm-dd hh:mm"  # 录入时间
    ws.freeze_panes = "A2"
    return xlsx.to_bytes(wb)


def _names(attendance: Iterable[Attendance]) -> str:
    """``张三（外出务工）、李四``: the names with their reasons, as the import reads them."""
    return "、".join(
        f"{a.member.name}（{a.absence_reason}）" if a.absence_reason else a.member.name
        for a in attendance
    )


def template_workbook() -> bytes:
    """An empty import template with the expected columns and one example row."""
    wb, ws = xlsx.new_workbook("会议记录")
    xlsx.header(ws, COLUMNS)
    xlsx.example(
        ws,
        [
            "支部委员会",
            "",
            "2025-03-05",
            "09:00",
            "10:30",
            "村党员活动室",
            "（主持人姓名）",
            "（记录人）",
            "",
            "研究春耕生产",
            "",
            "",
            "张三（外出务工）",
            "李四（生病住院）",
            "",
        ],
    )
    return xlsx.to_bytes(wb)


@dataclass
class ImportRow:
    """One spreadsheet row: what it says and what is wrong with it."""

    row: int
    values: dict[str, str]
    data: MeetingInput | None = None
    errors: list[str] = field(default_factory=list)


class ImportError_(ValueError):
    """The file itself cannot be read (message for the user)."""

    field = "file"


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _parse_date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _text(value).replace("/", "-").replace(".", "-")
    m = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", text) or re.fullmatch(
        r"(\d{4})年(\d{1,2})月(\d{1,2})日", _text(value)
    )
    if not m:
        return None
    try:
        return date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        return None


def _parse_time(value: Any) -> time | None:
    if isinstance(value, datetime):
        return value.time()
    if isinstance(value, time):
        return value
    m = re.fullmatch(r"(\d{1,2})[:：](\d{2})(?::\d{2})?", _text(value))
    if not m or int(m[1]) > 23 or int(m[2]) > 59:
        return None
    return time(int(m[1]), int(m[2]))


REQUIRED = ("会议类型", "日期", "开始时间", "结束时间", "地点", "主持人", "记录人", "议题")


def read_rows(branch: Branch, content: bytes) -> list[ImportRow]:
    """Read the workbook into rows, checking types and names (not yet the meeting rules)."""
    try:
        return _read_rows(branch, content)
    except xlsx.BadWorkbook as exc:
        raise ImportError_(str(exc)) from exc


def _read_rows(branch: Branch, content: bytes) -> list[ImportRow]:
    sheet = xlsx.read_sheet(content, required=REQUIRED, max_rows=MAX_ROWS)
    known = kinds()
    by_name = {k.name: k for k in known.values()}
    groups = {
        g.name: g
        for g in db.session.scalars(select(PartyGroup).where(PartyGroup.branch_id == branch.id))
    }
    members = db.session.scalars(select(Member).where(Member.branch_id == branch.id)).all()
    out: list[ImportRow] = []
    for row in sheet.rows:
        cells = row.cells
        values = {c: _text(cells.get(c)) for c in COLUMNS}
        if not any(values.values()) or xlsx.is_example(values["会议类型"]):
            continue  # empty, or the template's 示例 row
        item = ImportRow(row.number, values)
        out.append(item)
        if row.errors:
            item.errors.extend(f"{c}：{m}" for c, m in row.errors.items())
            continue
        kind = by_name.get(values["会议类型"]) or known.get(values["会议类型"])
        if kind is None:
            item.errors.append(gettext("会议类型“%(v)s”不认识", v=values["会议类型"]))
        day = _parse_date(cells.get("日期"))
        if day is None:
            item.errors.append(gettext("日期格式应为 2025-03-05"))
        t0, t1 = _parse_time(cells.get("开始时间")), _parse_time(cells.get("结束时间"))
        if t0 is None:
            item.errors.append(gettext("开始时间格式应为 09:00"))
        if t1 is None:
            item.errors.append(gettext("结束时间格式应为 10:30"))
        group_id = None
        if values["党小组"]:
            group = groups.get(values["党小组"])
            if group is None:
                item.errors.append(gettext("没有名为“%(v)s”的党小组", v=values["党小组"]))
            else:
                group_id = group.id
        if day is None or t0 is None or t1 is None or kind is None:
            continue
        active = {m.name: m for m in members if m.active_on(day)}
        host = active.get(values["主持人"])
        if host is None:
            item.errors.append(gettext("主持人“%(v)s”不在当日本支部名册中", v=values["主持人"]))
        reasons: dict[int, str] = {}
        excused: set[int] = set()
        for column in ("缺席人员", "请假人员"):
            for part in re.split(r"[、,，;；\n]+", values[column]):
                part = part.strip()
                if not part:
                    continue
                m = re.fullmatch(r"(.+?)\s*[（(](.*)[）)]", part)
                name, reason = (m[1].strip(), m[2].strip()) if m else (part, "")
                member = active.get(name)
                if member is None:
                    item.errors.append(
                        gettext("缺席人员“%(v)s”不在当日本支部名册中", v=name)
                        if column == "缺席人员"
                        else gettext("请假人员“%(v)s”不在当日本支部名册中", v=name)
                    )
                    continue
                reasons[member.id] = reason
                if column == "请假人员":
                    excused.add(member.id)
        roster = [
            m for m in branch_roster(branch, day) if group_id is None or m.group_id == group_id
        ]
        item.data = MeetingInput(
            kind=kind.code,
            group_id=group_id,
            started_at=datetime.combine(day, t0, clock.zone()),
            ended_at=datetime.combine(day, t1, clock.zone()),
            place=values["地点"],
            host_id=host.id if host else None,
            recorder=values["记录人"],
            lecturer=values["授课人"] or None,
            topics=values["议题"],
            content=values["会议内容"],
            resolutions=values["决议"],
            guests=values["列席人员"],
            present_ids={m.id for m in roster if m.id not in reasons},
            absence_reasons=reasons,
            excused_ids=excused,
        )
    if not out:
        raise ImportError_(gettext("文件中没有数据行"))
    return out


def _existing_keys(branch: Branch) -> set[tuple[str, datetime]]:
    rows = db.session.execute(
        select(Meeting.kind, Meeting.started_at).where(
            Meeting.branch_id == branch.id, Meeting.deleted_at.is_(None)
        )
    ).all()
    return {(k, s) for k, s in rows}


def run_import(
    branch: Branch, rows: list[ImportRow], actor_id: int | None, cal: WorkCalendar, commit: bool
) -> list[Meeting]:
    """Record every row inside a savepoint; keep it only if ``commit`` and no row failed.

    Fills ``row.errors`` with the meeting rules' Chinese messages.
    """
    seen = _existing_keys(branch)
    created: list[Meeting] = []
    savepoint = db.session.begin_nested()
    for row in rows:
        if row.data is None or row.errors:
            continue
        key = (row.data.kind, row.data.started_at)
        if key in seen:
            row.errors.append(gettext("与已有记录重复（同类型、同一开始时间）"))
            continue
        seen.add(key)
        try:
            with db.session.begin_nested():
                created.append(record_meeting(branch, row.data, actor_id, cal, imported=True))
        except MeetingError as exc:
            row.errors.append(str(exc))
    if commit and not any(r.errors for r in rows):
        savepoint.commit()
        return created
    savepoint.rollback()
    return []
