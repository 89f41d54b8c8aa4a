"""农民教育培训 as an Excel sheet in the columns a township keeps on paper, and back.

Written and read through :mod:`tracker.xlsx` only. The import takes the export's
columns; every row is entered or none (the first broken row names its row and column),
the template's example row (示例) is skipped. Villagers' phones are masked in the export;
a masked phone cannot be imported back (type the full number or leave it out).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from flask_babel import gettext

from tracker import xlsx
from tracker.formatting import excel_formats, mask_phone
from tracker.models import Region, User
from tracker.trainings.farmers import FarmerInput, TraineeInput, create_farmer_training
from tracker.trainings.models import FarmerTraining
from tracker.trainings.services import TrainingError

MAX_ROWS = 2000
TRAINEES = "逐一登记的学员"
TRAINEES_MASKED = "逐一登记的学员（电话已遮挡）"
COLUMNS = [
    "序号",
    "培训日期",
    "专题类别",
    "培训主题",
    "学时",
    "地点",
    "组织单位",
    "授课人",
    "参训人数",
    TRAINEES_MASKED,
]
REQUIRED = COLUMNS[1:6]
# TrainingError.field -> the column it came from
FIELD_COLUMNS = {
    "held_on": "培训日期",
    "topic": "专题类别",
    "title": "培训主题",
    "hours": "学时",
    "place": "地点",
    "trainee_count": "参训人数",
    "trainees": TRAINEES,
}


def _trainees_cell(t: FarmerTraining) -> str:
    return "、".join(f"{p.name} {mask_phone(p.phone)}".strip() for p in t.trainees)


def workbook(village: Region, year: int, rows: Sequence[FarmerTraining]) -> bytes:
    wb, ws = xlsx.new_workbook(f"{year}年农民教育培训")
    xlsx.title(ws, f"{village.name} {year}年农民教育培训台账", span=len(COLUMNS))
    xlsx.header(ws, COLUMNS)
    xlsx.example(
        ws,
        [
            "示例",
            date(year, 3, 5),
            "种植养殖",
            "玉米高产栽培",
            2,
            "村党群服务中心",
            "乡农业站",
            "张技术员",
            25,
            "王春山、李秋林",
        ],
    )
    for i, t in enumerate(rows, start=1):
        xlsx.append(
            ws,
            [
                i,
                t.held_on,
                t.topic,
                t.title,
                float(t.hours),
                t.place,
                t.organizer,
                t.lecturer,
                t.total,
                _trainees_cell(t),
            ],
        )
    excel_formats(ws.iter_rows(min_row=3))
    xlsx.widths(ws, [6, 12, 10, 30, 6, 16, 16, 10, 10, 50])
    return xlsx.to_bytes(wb)


def _text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value if value is not None else "").strip()


def _refuse(n: int, column: str, message: str) -> TrainingError:
    return TrainingError(
        gettext("第 %(n)s 行「%(column)s」：%(message)s", n=n, column=column, message=message),
        "file",
    )


def _day(value: object, n: int) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(_text(value))
    except ValueError as exc:
        raise _refuse(n, "培训日期", gettext("应为日期，如 2026-03-05")) from exc


def _trainees(value: object, n: int, column: str) -> list[TraineeInput]:
    out = []
    for part in _text(value).replace("，", "、").replace(",", "、").replace("\n", "、").split("、"):
        words = part.split()
        if not words:
            continue
        if len(words) > 2:
            raise _refuse(
                n,
                column,
                gettext("“%(part)s”应为“姓名 电话”，多名学员用顿号分隔", part=part.strip()),
            )
        phone = words[1] if len(words) > 1 else ""
        if "*" in phone:
            raise _refuse(
                n,
                column,
                gettext("%(name)s的电话是打码后的内容，请填写完整号码或留空", name=words[0]),
            )
        out.append(TraineeInput(words[0], phone))
    return out


def _count(value: object, n: int) -> int:
    text = _text(value)
    if not text:
        return 0
    if not text.isdigit():
        raise _refuse(n, "参训人数", gettext("应为不小于 0 的整数"))
    return int(text)


def _row_input(n: int, cells: dict[str, Any], trainee_column: str | None) -> FarmerInput:
    people = _trainees(cells.get(trainee_column), n, trainee_column) if trainee_column else []
    total = _count(cells.get("参训人数"), n)
    if total and total < len(people):
        raise _refuse(
            n,
            "参训人数",
            gettext("少于逐一登记的学员（%(n)s 名）", n=len(people)),
        )
    hours: Any = cells.get("学时")
    return FarmerInput(
        topic=_text(cells.get("专题类别")),
        title=_text(cells.get("培训主题")),
        held_on=_day(cells.get("培训日期"), n),
        hours=Decimal(str(hours)) if isinstance(hours, int | float) else _text(hours),
        place=_text(cells.get("地点")),
        organizer=_text(cells.get("组织单位")),
        lecturer=_text(cells.get("授课人")),
        trainee_count=total - len(people) if total else 0,
        trainees=people,
    )


def import_farmer_trainings(village: Region, data: bytes, user: User | None) -> int:
    """Enter the sheet's farmer trainings for ``village``: all rows or none."""
    try:
        sheet = xlsx.read_sheet(data, required=REQUIRED, max_rows=MAX_ROWS, header_within=5)
        rows = list(sheet.rows)
    except xlsx.BadWorkbook as exc:
        raise TrainingError(str(exc), "file") from exc
    trainee_column = next((t for t in (TRAINEES_MASKED, TRAINEES) if t in sheet.titles), None)
    entered = 0
    for row in rows:
        if xlsx.is_example(row.cells.get("序号")):
            continue
        if row.errors:
            title, message = next(iter(row.errors.items()))
            raise _refuse(row.number, title, message)
        data_in = _row_input(row.number, row.cells, trainee_column)
        try:
            create_farmer_training(village, data_in, user)
        except TrainingError as exc:
            column = FIELD_COLUMNS.get(exc.field or "", "")
            if column == TRAINEES and trainee_column:
                column = trainee_column
            raise _refuse(row.number, column or "—", exc.message) from exc
        entered += 1
    if not entered:
        raise TrainingError(gettext("表格中没有数据行"), "file")
    return entered
