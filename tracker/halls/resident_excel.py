"""The resident services' monthly figures (场所功能提升) as an Excel sheet and back.

One row a service and month in the columns a township keeps on paper — 村（社区）,
服务名称, 月份, 数量 — for the villages under a region. Written and read through
:mod:`tracker.xlsx` only; the import enters every row or none (the first broken row
names its row and column), skips the template's example row (示例), and refuses a month
before the service moved in (:func:`tracker.halls.resident.record_activity`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from flask_babel import gettext
from sqlalchemy import select

from tracker import xlsx
from tracker.extensions import db
from tracker.halls import resident
from tracker.halls.models import ResidentService, ServiceHall
from tracker.models import Region, RegionLevel
from tracker.models.regions import in_subtree
from tracker.periods import Period, PeriodError

MAX_ROWS = 5000
VILLAGE, SERVICE, MONTH, VALUE = "村（社区）", "服务名称", "月份", "数量"
COLUMNS = ["序号", VILLAGE, SERVICE, MONTH, VALUE, "统计口径"]
FIELD_COLUMNS = {"month": MONTH, "value": VALUE}


def services_under(region: Region) -> list[ResidentService]:
    """Resident services of the halls in the villages at or below ``region`` (months loaded)."""
    halls = (
        select(ServiceHall.id)
        .join(Region, Region.id == ServiceHall.region_id)
        .where(in_subtree(region.path))
    )
    return list(db.session.scalars(resident.services_stmt(halls.scalar_subquery())).all())


def village_names(services: Sequence[ResidentService]) -> dict[int, str]:
    ids = {s.region_id for s in services}
    if not ids:
        return {}
    return dict(db.session.execute(select(Region.id, Region.name).where(Region.id.in_(ids))).all())


def workbook(region: Region, months: Sequence[date]) -> bytes:
    """The figures typed in for ``months``, one row a service and month (blank months left
    out), after an example row."""
    services = services_under(region)
    names = village_names(services)
    wb, ws = xlsx.new_workbook("月度业务量")
    xlsx.title(ws, f"{region.name} 服务大厅入驻服务月度业务量", span=len(COLUMNS))
    xlsx.header(ws, COLUMNS)
    xlsx.example(ws, ["示例", "红旗村", "农村电商服务点", "2026-03", 120, "业务笔数"])
    n = 0
    for s in services:
        for m in months:
            value = resident.month_value(s, m)
            if value is None:
                continue
            n += 1
            xlsx.append(
                ws,
                [
                    n,
                    names.get(s.region_id, ""),
                    s.name,
                    f"{m:%Y-%m}",
                    value,
                    resident.UNIT_LABELS[s.unit],
                ],
            )
    xlsx.widths(ws, [6, 14, 22, 10, 10, 10])
    return xlsx.to_bytes(wb)


def _text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value if value is not None else "").strip()


def _refuse(n: int, column: str, message: str) -> resident.ResidentError:
    return resident.ResidentError(
        gettext("第 %(n)s 行「%(column)s」：%(message)s", n=n, column=column, message=message),
        "file",
    )


def _month(value: object, n: int) -> date:
    if isinstance(value, datetime | date):
        return date(value.year, value.month, 1)
    try:
        period = Period.parse(_text(value))
    except PeriodError:
        period = None
    if period is None or period.kind != "month":
        raise _refuse(n, MONTH, gettext("月份格式应为 2026-03"))
    return period.start


def _value(value: object, n: int) -> int:
    text = _text(value)
    if not text.isdigit():
        raise _refuse(n, VALUE, gettext("应为不小于 0 的整数"))
    return int(text)


def import_months(region: Region, data: bytes) -> int:
    """Type in the sheet's monthly figures for the services under ``region``: every row or
    none. A row names a village under the region and one of its services by name."""
    try:
        sheet = xlsx.read_sheet(
            data, required=[VILLAGE, SERVICE, MONTH, VALUE], max_rows=MAX_ROWS, header_within=5
        )
        rows = list(sheet.rows)
    except xlsx.BadWorkbook as exc:
        raise resident.ResidentError(str(exc), "file") from exc
    services = services_under(region)
    names = village_names(services)
    villages = set(
        db.session.scalars(
            select(Region.name).where(in_subtree(region.path), Region.level == RegionLevel.village)
        ).all()
    )
    by_key: dict[tuple[str, str], list[ResidentService]] = {}
    for s in services:
        by_key.setdefault((names.get(s.region_id, ""), s.name), []).append(s)
    entered = 0
    for row in rows:
        if xlsx.is_example(row.cells.get("序号")):
            continue
        if row.errors:
            title, message = next(iter(row.errors.items()))
            raise _refuse(row.number, title, message)
        n, cells = row.number, row.cells
        village, name = _text(cells.get(VILLAGE)), _text(cells.get(SERVICE))
        if village not in villages:
            raise _refuse(
                n, VILLAGE, gettext("%(region)s下没有“%(v)s”", region=region.name, v=village)
            )
        found = by_key.get((village, name), [])
        if len(found) != 1:
            message = (
                gettext("%(v)s的服务大厅没有入驻“%(s)s”", v=village, s=name)
                if not found
                else gettext("%(v)s有多项名为“%(s)s”的入驻服务", v=village, s=name)
            )
            raise _refuse(n, SERVICE, message)
        month, value = _month(cells.get(MONTH), n), _value(cells.get(VALUE), n)
        service = found[0]
        if resident.month_value(service, month) != value:
            try:
                resident.record_activity(service, month, value)
            except resident.ResidentError as exc:
                raise _refuse(n, FIELD_COLUMNS.get(exc.field or "", MONTH), exc.message) from exc
        entered += 1
    if not entered:
        raise resident.ResidentError(gettext("表格中没有数据行"), "file")
    return entered
