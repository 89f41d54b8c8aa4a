"""The reserve-cadre register as an Excel sheet in the paper ledger's columns, and back."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date, datetime
from typing import IO

from tracker import xlsx
from tracker.formatting import excel_formats
from tracker.models import Region
from tracker.teams.models import (
    SOURCE_LABELS,
    STATUS_LABELS,
    TRACK_LABELS,
    ReserveCadre,
)
from tracker.teams.services import ReserveInput, TeamError

COLUMNS = [
    "序号",
    "姓名",
    "培养方向",
    "来源",
    "入库日期",
    "结对培养人",
    "培养计划",
    "考察情况",
    "状态",
    "状态日期",
    "任用职务或退出原因",
]
WIDTHS = [6, 10, 14, 14, 12, 12, 36, 40, 8, 12, 24]


def workbook(village: Region, reserves: Sequence[ReserveCadre]) -> io.BytesIO:
    wb, ws = xlsx.new_workbook("后备干部台账")
    xlsx.title(ws, f"{village.name} 村级后备干部台账", span=len(COLUMNS))
    xlsx.header(ws, COLUMNS)
    for i, r in enumerate(reserves, start=1):
        xlsx.append(
            ws,
            [
                i,
                r.name,
                r.track_label,
                r.source_label,
                r.entered_on,
                r.mentor,
                r.plan,
                "；".join(
                    f"{a.assessed_on:%Y-%m-%d} {a.assessor}：{a.result}" for a in r.assessments
                ),
                r.status_label,
                r.status_on,
                r.status_reason,
            ],
        )
    excel_formats(ws.iter_rows(min_row=3))
    xlsx.widths(ws, WIDTHS)
    return io.BytesIO(xlsx.to_bytes(wb))


def _label(value: object, labels: dict, what: str, row: int):
    text = str(value or "").strip()
    for key, label in labels.items():
        if text in (label, key.value):
            return key
    raise TeamError(f"第 {row} 行：无法识别的{what}「{text}」", "file")


def _day(value: object, row: int) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError as exc:
        raise TeamError(f"第 {row} 行：入库日期应为日期，如 2026-03-05", "file") from exc


MAX_ROWS = 2000  # a village's reserve ledger is tens of rows; far more is not this sheet


def read_rows(stream: IO[bytes]) -> list[tuple[int, ReserveInput]]:
    """Rows of a sheet in :data:`COLUMNS` (the export's layout) as inputs, with their row number.

    Read through :func:`tracker.xlsx.read_sheet` (size, row-count and XML limits,
    control characters refused per cell) like every other import.
    """
    try:
        sheet = xlsx.read_sheet(
            stream.read(), required=COLUMNS[:7], max_rows=MAX_ROWS, header_within=5
        )
        rows = list(sheet.rows)
    except xlsx.BadWorkbook as exc:
        raise TeamError(str(exc), "file") from exc
    out: list[tuple[int, ReserveInput]] = []
    for row in rows:
        if row.errors:
            title, message = next(iter(row.errors.items()))
            raise TeamError(f"第 {row.number} 行「{title}」：{message}", "file")
        c = row.cells
        if not any(c.get(t) for t in COLUMNS[1:7]):
            continue
        n = row.number
        out.append(
            (
                n,
                ReserveInput(
                    name=str(c.get(COLUMNS[1]) or "").strip(),
                    track=_label(c.get(COLUMNS[2]), TRACK_LABELS, "培养方向", n),
                    source=_label(c.get(COLUMNS[3]), SOURCE_LABELS, "来源", n),
                    entered_on=_day(c.get(COLUMNS[4]), n),
                    mentor=str(c.get(COLUMNS[5]) or "").strip(),
                    plan=str(c.get(COLUMNS[6]) or "").strip(),
                ),
            )
        )
    if not out:
        raise TeamError("表格中没有数据行", "file")
    return out


__all__ = ["COLUMNS", "STATUS_LABELS", "read_rows", "workbook"]
