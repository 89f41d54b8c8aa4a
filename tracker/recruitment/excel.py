"""发展党员工作台账: the cases as an Excel sheet in the township's columns, and back.

The import replays every row's dates as steps through
:func:`tracker.recruitment.services.record_step`, so a row that breaks a rule is
refused like the form would refuse it (naming the row, the column and the rule);
admission, extension and 转正 link the branch's 支部党员大会 of that day. All rows,
or none.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select

from tracker import xlsx
from tracker.errors import DomainError
from tracker.extensions import db
from tracker.formatting import excel_formats
from tracker.models import Branch, Gender
from tracker.recruitment.models import STAGE_LABELS, RecruitCase, RecruitStep, Stage, StepKind
from tracker.recruitment.rules import RecruitError, StepInput
from tracker.recruitment.services import CaseInput, general_meeting_on, open_case, record_step
from tracker.workdays import WorkCalendar

COLUMNS = [
    "序号",
    "村",
    "姓名",
    "性别",
    "出生日期",
    "学历",
    "职业",
    "联系电话",
    "入党申请日期",
    "谈话日期",
    "谈话人",
    "确定积极分子日期",
    "积极分子决定机关",
    "培养联系人",
    "培养考察",
    "确定发展对象日期",
    "发展对象决定机关",
    "政审日期",
    "政审单位",
    "政审结论",
    "集中培训开始",
    "集中培训结束",
    "培训学时",
    "公示开始",
    "公示结束",
    "接收预备党员日期",
    "上级党委审批日期",
    "审批党委",
    "延长预备期决定日期",
    "延长预备期至",
    "转正日期",
    "终止或取消日期",
    "终止或取消原因",
    "当前阶段",
]
WIDTHS = [6, 10, 10, 6, 12, 10, 10, 13] + [12] * 25 + [14]
GENDERS = {Gender.male: "男", Gender.female: "女"}
PASSED = {True: "合格", False: "不合格"}
MAX_ROWS = 2000


def _first(steps: Sequence[RecruitStep], kind: StepKind) -> RecruitStep | None:
    return next((s for s in steps if s.kind == kind), None)


def _row(n: int, case: RecruitCase, village: str) -> list[Any]:
    s = case.steps
    talk = _first(s, StepKind.talk)
    activist = _first(s, StepKind.activist)
    candidate = _first(s, StepKind.candidate)
    political = _first(s, StepKind.political)
    training = _first(s, StepKind.training)
    publicity = _first(s, StepKind.publicity)
    admission = _first(s, StepKind.admission)
    approval = _first(s, StepKind.approval)
    extension = _first(s, StepKind.extension)
    full = _first(s, StepKind.full)
    end = _first(s, StepKind.cancel) or _first(s, StepKind.close)
    reviews = "\n".join(
        f"{r.on:%Y-%m-%d}：{r.result or ''}" for r in s if r.kind == StepKind.review
    )
    return [
        n,
        village,
        case.name,
        GENDERS.get(case.gender, "") if case.gender else "",
        case.birth_date,
        case.education or "",
        case.occupation or "",
        case.phone or "",
        case.applied_on,
        talk.on if talk else None,
        (talk.person_a or "") if talk else "",
        activist.on if activist else None,
        (activist.body or "") if activist else "",
        "、".join(p for p in (activist.person_a, activist.person_b) if p) if activist else "",
        reviews,
        candidate.on if candidate else None,
        (candidate.body or "") if candidate else "",
        political.on if political else None,
        (political.body or "") if political else "",
        PASSED.get(bool(political.passed), "") if political else "",
        training.on if training else None,
        training.until if training else None,
        float(training.hours) if training and training.hours is not None else None,
        publicity.on if publicity else None,
        publicity.until if publicity else None,
        admission.on if admission else None,
        approval.on if approval else None,
        (approval.body or "") if approval else "",
        extension.on if extension else None,
        extension.until if extension else None,
        full.on if full else None,
        end.on if end else None,
        (end.result or "") if end else "",
        STAGE_LABELS[case.stage],
    ]


def workbook(cases: Sequence[RecruitCase], villages: dict[int, str]) -> bytes:
    """The sheet of ``cases`` (their ``steps`` loaded)."""
    wb, ws = xlsx.new_workbook("发展党员工作台账")
    xlsx.title(ws, "发展党员工作台账", span=len(COLUMNS))
    xlsx.header(ws, COLUMNS)
    for i, case in enumerate(cases, start=1):
        xlsx.append(ws, _row(i, case, villages.get(case.region_id, "")))
    excel_formats(ws.iter_rows(min_row=3))
    xlsx.wrap(ws, 3)
    xlsx.widths(ws, WIDTHS)
    return xlsx.to_bytes(wb)


@dataclass
class ImportRow:
    """One row of the sheet: the application and the steps to replay, each with its column."""

    number: int
    case: CaseInput
    steps: list[tuple[str, StepInput]] = field(default_factory=list)


ORDER = list(StepKind)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _day(value: Any, row: int, column: str) -> date | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError as exc:
        raise RecruitError(f"第 {row} 行「{column}」应为日期，如 2026-03-05", "file") from exc


def _hours(value: Any, row: int) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value).strip())
    except InvalidOperation as exc:
        raise RecruitError(f"第 {row} 行「培训学时」应为数字", "file") from exc


def _parse(number: int, c: dict[str, Any]) -> ImportRow:
    def day(column: str) -> date | None:
        return _day(c.get(column), number, column)

    applied = day("入党申请日期")
    if applied is None:
        raise RecruitError(f"第 {number} 行「入党申请日期」为空", "file")
    gender_text = _text(c.get("性别"))
    gender = next((g for g, label in GENDERS.items() if label == gender_text), None)
    if gender_text and gender is None:
        raise RecruitError(f"第 {number} 行「性别」应为 男 或 女", "file")
    row = ImportRow(
        number,
        CaseInput(
            name=_text(c.get("姓名")),
            applied_on=applied,
            gender=gender,
            birth_date=day("出生日期"),
            phone=_text(c.get("联系电话")) or None,
            occupation=_text(c.get("职业")) or None,
            education=_text(c.get("学历")) or None,
        ),
    )
    add = row.steps.append
    if (on := day("谈话日期")) is not None:
        add(("谈话日期", StepInput(StepKind.talk, on, person_a=_text(c.get("谈话人")))))
    if (on := day("确定积极分子日期")) is not None:
        contacts = [p.strip() for p in _text(c.get("培养联系人")).replace(",", "、").split("、")]
        contacts = [p for p in contacts if p] + ["", ""]
        add(
            (
                "确定积极分子日期",
                StepInput(
                    StepKind.activist,
                    on,
                    body=_text(c.get("积极分子决定机关")),
                    person_a=contacts[0],
                    person_b=contacts[1],
                ),
            )
        )
    for line in _text(c.get("培养考察")).splitlines():
        when, _sep, opinion = line.strip().partition("：")
        if when.strip():
            on = _day(when.strip(), number, "培养考察")
            assert on is not None
            add(("培养考察", StepInput(StepKind.review, on, result=opinion.strip())))
    if (on := day("确定发展对象日期")) is not None:
        add(
            (
                "确定发展对象日期",
                StepInput(StepKind.candidate, on, body=_text(c.get("发展对象决定机关"))),
            )
        )
    if (on := day("政审日期")) is not None:
        verdict = _text(c.get("政审结论"))
        passed = {"合格": True, "不合格": False}.get(verdict)
        add(
            (
                "政审日期",
                StepInput(StepKind.political, on, body=_text(c.get("政审单位")), passed=passed),
            )
        )
    if (on := day("集中培训开始")) is not None:
        hours = _hours(c.get("培训学时"), number)
        add(
            (
                "集中培训开始",
                StepInput(StepKind.training, on, until=day("集中培训结束"), hours=hours),
            )
        )
    if (on := day("公示开始")) is not None:
        add(("公示开始", StepInput(StepKind.publicity, on, until=day("公示结束"))))
    if (on := day("接收预备党员日期")) is not None:
        add(("接收预备党员日期", StepInput(StepKind.admission, on, body="党支部党员大会")))
    if (on := day("上级党委审批日期")) is not None:
        add(("上级党委审批日期", StepInput(StepKind.approval, on, body=_text(c.get("审批党委")))))
    if (on := day("延长预备期决定日期")) is not None:
        until = day("延长预备期至")
        add(
            (
                "延长预备期决定日期",
                StepInput(StepKind.extension, on, until=until, body="党支部党员大会"),
            )
        )
    if (on := day("转正日期")) is not None:
        add(("转正日期", StepInput(StepKind.full, on, body="党支部党员大会")))
    if (on := day("终止或取消日期")) is not None:
        stage = _text(c.get("当前阶段"))
        kind = StepKind.cancel if stage == STAGE_LABELS[Stage.cancelled] else StepKind.close
        add(
            (
                "终止或取消日期",
                StepInput(kind, on, body="党支部党员大会", result=_text(c.get("终止或取消原因"))),
            )
        )
    row.steps.sort(key=lambda pair: (pair[1].on, ORDER.index(pair[1].kind)))
    return row


def read_rows(data: bytes) -> list[ImportRow]:
    """The rows of a sheet in :data:`COLUMNS`, read through :func:`tracker.xlsx.read_sheet`."""
    try:
        sheet = xlsx.read_sheet(
            data, required=["姓名", "入党申请日期"], max_rows=MAX_ROWS, header_within=5
        )
        rows = list(sheet.rows)
    except xlsx.BadWorkbook as exc:
        raise RecruitError(str(exc), "file") from exc
    out = []
    for row in rows:
        if row.errors:
            title, message = next(iter(row.errors.items()))
            raise RecruitError(f"第 {row.number} 行「{title}」：{message}", "file")
        if not _text(row.cells.get("姓名")) and not row.cells.get("入党申请日期"):
            continue
        out.append(_parse(row.number, row.cells))
    if not out:
        raise RecruitError("表格中没有数据行", "file")
    return out


def import_cases(
    branch: Branch, rows: Sequence[ImportRow], cal: WorkCalendar, actor_id: int | None = None
) -> int:
    """Open a case per row and replay its steps; any broken rule refuses the whole sheet."""
    for row in rows:
        taken = db.session.scalar(
            select(RecruitCase.id).where(
                RecruitCase.branch_id == branch.id,
                RecruitCase.name == row.case.name.strip(),
                RecruitCase.applied_on == row.case.applied_on,
            )
        )
        if taken is not None:
            raise RecruitError(
                f"第 {row.number} 行：{row.case.name} {row.case.applied_on:%Y-%m-%d} 的入党申请已登记",
                "file",
            )
        column = "姓名"
        try:
            case = open_case(branch, row.case, actor_id)
            for title, step in row.steps:
                column = title
                if step.kind in (StepKind.admission, StepKind.extension, StepKind.full):
                    meeting = general_meeting_on(branch.id, step.on)
                    if meeting is None:
                        raise RecruitError(f"{step.on:%Y-%m-%d} 本支部没有支部党员大会记录", "file")
                    step.meeting_id = meeting.id
                record_step(case, step, cal)
        except DomainError as exc:
            raise RecruitError(f"第 {row.number} 行「{column}」：{exc.message}", "file") from exc
    return len(rows)
