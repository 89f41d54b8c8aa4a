"""Operations of recruitment (发展党员): open a case, record its steps, list cases.

Plain functions: validate, change objects, ``flush()``; the caller commits. Every
step passes :func:`tracker.recruitment.rules.check_step` (the order of the
stages, the configured intervals) and, when decided at a meeting, the meetings
ledger (the record is the branch's, of that day; admission, extension and 转正
need a 支部党员大会 with quorum). The admission creates the member row and its
'probationary from' fact, 转正 the 'full from' fact, through
:mod:`tracker.org.services` — the one writer of a member's status.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import Select, select
from sqlalchemy.orm import selectinload

from tracker import clock
from tracker.config import current_settings
from tracker.extensions import db
from tracker.meetings.models import Meeting
from tracker.models import Branch, Gender, MemberStatus, Region
from tracker.org.models import FactKind
from tracker.org.services import (
    EDUCATIONS,
    FactData,
    MemberData,
    OrgError,
    add_member,
    append_fact,
    clean_phone,
)
from tracker.recruitment.models import STEP_LABELS, RecruitCase, RecruitStep, Stage, StepKind
from tracker.recruitment.rules import (
    NEEDS_GENERAL_MEETING,
    RecruitError,
    Rules,
    StepInput,
    check_step,
    stage_of,
)
from tracker.scope import Scope
from tracker.trainings.models import Training
from tracker.workdays import WorkCalendar

GENERAL_MEETING = "branch_general_meeting"  # 支部党员大会 (tracker.meetings.rules)
EARLIEST = date(1950, 1, 1)

__all__ = ["RecruitError", "StepInput"]


def rules() -> Rules:
    """The configured rules (``[recruitment]``)."""
    return Rules.of(current_settings().recruitment)


@dataclass
class CaseInput:
    """What a user enters for an application (入党申请)."""

    name: str
    applied_on: date
    gender: Gender | None = None
    birth_date: date | None = None
    phone: str | None = None
    occupation: str | None = None
    education: str | None = None
    note: str | None = None


def _text(
    value: str | None, field: str, limit: int, what: str, required: bool = False
) -> str | None:
    text = (value or "").strip()
    if required and not text:
        raise RecruitError(f"请填写{what}", field)
    if len(text) > limit:
        raise RecruitError(f"{what}太长（最多 {limit} 个字符）", field)
    return text or None


def _day(day: date | None, field: str, what: str) -> None:
    if day is None:
        raise RecruitError(f"请填写{what}", field)
    if day > clock.today():
        raise RecruitError(f"{what}不能晚于今天", field)
    if day < EARLIEST:
        raise RecruitError(f"{what}不合理（早于 1950 年）", field)


def _apply_case(case: RecruitCase, data: CaseInput) -> None:
    case.name = _text(data.name, "name", 32, "姓名", required=True) or ""
    case.gender = Gender(data.gender) if data.gender else None
    if data.birth_date is not None and data.birth_date > clock.today() - timedelta(days=18 * 365):
        raise RecruitError("申请入党须年满十八周岁，请核对出生日期", "birth_date")
    case.birth_date = data.birth_date
    try:
        case.phone = clean_phone(data.phone)
    except OrgError as exc:  # the same message, beside our field
        raise RecruitError(str(exc), "phone") from exc
    case.occupation = _text(data.occupation, "occupation", 64, "职业")
    education = _text(data.education, "education", 16, "学历")
    if education and education not in EDUCATIONS:
        raise RecruitError("学历应为：" + "、".join(EDUCATIONS), "education")
    case.education = education
    case.note = _text(data.note, "note", 2000, "备注")


def open_case(branch: Branch, data: CaseInput, actor_id: int | None = None) -> RecruitCase:
    """A person hands in the application (递交入党申请书): the case and its first step."""
    _day(data.applied_on, "applied_on", "申请日期")
    case = RecruitCase(
        region_id=branch.region_id,
        branch_id=branch.id,
        applied_on=data.applied_on,
        stage=Stage.applicant,
        entered_by_id=actor_id,
    )
    _apply_case(case, data)
    case.steps = [
        RecruitStep(region_id=branch.region_id, kind=StepKind.application, on=data.applied_on)
    ]
    db.session.add(case)
    db.session.flush()
    return case


def update_case(case: RecruitCase, data: CaseInput) -> RecruitCase:
    """Correct a case's personal details (the dates are the steps', not editable here)."""
    _apply_case(case, data)
    if case.member is not None:
        case.member.name = case.name
        case.member.phone = case.phone
    db.session.flush()
    return case


def load_steps(case: RecruitCase) -> list[RecruitStep]:
    """The case's steps (``steps`` is ``lazy="raise"``: one object loads them here)."""
    db.session.refresh(case, ["steps"])
    return list(case.steps)


def _meeting(case: RecruitCase, data: StepInput) -> Meeting | None:
    if data.meeting_id is None:
        return None
    meeting = db.session.get(Meeting, data.meeting_id)
    if meeting is None or meeting.branch_id != case.branch_id or meeting.deleted_at is not None:
        raise RecruitError("所选会议记录不属于本支部", "meeting_id")
    held = clock.local_date(meeting.started_at)
    if held != data.on:
        raise RecruitError(f"所选会议于 {held:%Y-%m-%d} 召开，与本步骤日期不一致", "meeting_id")
    if data.kind in NEEDS_GENERAL_MEETING:
        if meeting.kind != GENERAL_MEETING:
            raise RecruitError(
                f"“{STEP_LABELS[data.kind]}”须由支部党员大会讨论决定，所选会议不是支部党员大会",
                "meeting_id",
            )
        if not meeting.quorum_met:
            raise RecruitError(
                "所选支部党员大会到会有表决权的党员未超过半数，不能讨论接收或转正", "meeting_id"
            )
    return meeting


def _training(case: RecruitCase, data: StepInput) -> None:
    if data.training_id is None:
        return
    training = db.session.get(Training, data.training_id)
    if training is None or training.region_id != case.region_id or training.deleted_at is not None:
        raise RecruitError("所选培训记录不属于本村", "training_id")
    # The register holds one day and the hours; the step may add the last day.
    if data.on != training.held_on:
        raise RecruitError(
            f"所选培训于 {training.held_on:%Y-%m-%d} 开始，与培训开始日期不一致", "training_id"
        )
    if data.hours is None:
        data.hours = Decimal(training.hours)
    if data.until is None:
        data.until = data.on


def _clean(data: StepInput) -> StepInput:
    _day(data.on, "on", "日期")
    if data.until is not None and data.until > clock.today() and data.kind != StepKind.extension:
        raise RecruitError("结束日期不能晚于今天", "until")
    data.body = _text(data.body, "body", 64, "决定机关")
    data.person_a = _text(data.person_a, "person_a", 32, "姓名")
    data.person_b = _text(data.person_b, "person_b", 32, "姓名")
    data.result = _text(data.result, "result", 500, "情况说明")
    if data.hours is not None and not Decimal(0) <= data.hours <= Decimal(999):
        raise RecruitError("学时应在 0 到 999 之间", "hours")
    return data


def record_step(
    case: RecruitCase, data: StepInput, cal: WorkCalendar, rule_set: Rules | None = None
) -> RecruitStep:
    """Record one step of a case after checking the stages' order and the rules."""
    data = _clean(data)
    steps = load_steps(case)
    _training(case, data)
    check_step(rule_set or rules(), case.applied_on, steps, data, cal)
    _meeting(case, data)
    step = RecruitStep(
        case_id=case.id,
        region_id=case.region_id,
        kind=data.kind,
        on=data.on,
        until=data.until,
        body=data.body,
        meeting_id=data.meeting_id,
        training_id=data.training_id,
        person_a=data.person_a,
        person_b=data.person_b,
        hours=data.hours,
        passed=data.passed,
        result=data.result,
    )
    if data.kind == StepKind.admission:
        _admit(case, data.on)
    elif data.kind == StepKind.full:
        assert case.member is not None
        append_fact(case.member, FactKind.full, data.on)
    elif data.kind == StepKind.cancel and case.member is not None:
        note = f"取消预备党员资格：{data.result}"[:200]
        append_fact(case.member, FactData(kind=FactKind.left, on=data.on, note=note))
    case.steps.append(step)
    case.stage = stage_of(case.steps)
    db.session.flush()
    return step


# Steps that wrote a member fact or opened the case: corrected on the roster, not withdrawn.
KEPT = frozenset({StepKind.application, StepKind.admission, StepKind.full, StepKind.cancel})


def withdraw_step(step: RecruitStep) -> RecruitCase:
    """Withdraw the latest step of a case entered by mistake (撤销; the audit log keeps it)."""
    case = step.case
    steps = load_steps(case)
    if step.kind in KEPT:
        raise RecruitError(f"“{STEP_LABELS[step.kind]}”不能撤销", "step")
    if steps[-1].id != step.id:
        raise RecruitError("只能撤销最后一个步骤", "step")
    case.steps.remove(step)
    db.session.delete(step)
    case.stage = stage_of(case.steps)
    db.session.flush()
    return case


def _admit(case: RecruitCase, on: date) -> None:
    """The branch members' meeting admits the candidate: the member row and its first fact."""
    member = add_member(
        case.branch,
        MemberData(
            name=case.name,
            status=MemberStatus.probationary,
            gender=case.gender,
            birth_year=case.birth_date.year if case.birth_date else None,
            birth_date=case.birth_date,
            phone=case.phone,
            joined_on=on,
            occupation=case.occupation,
            education=case.education,
        ),
    )
    case.member_id = member.id
    case.member = member


@dataclass(frozen=True)
class CaseFilter:
    """Filters of the list page and the API list."""

    village_id: int | None = None
    stage: Stage | None = None
    q: str = ""


def cases_stmt(scope: Scope, flt: CaseFilter | None = None) -> Select[RecruitCase]:
    """Cases in scope, newest application first, with their steps loaded (no query per row)."""
    flt = flt or CaseFilter()
    stmt = scope.filter(select(RecruitCase), RecruitCase).options(selectinload(RecruitCase.steps))
    if flt.village_id is not None:
        stmt = stmt.where(RecruitCase.region_id == flt.village_id)
    if flt.stage is not None:
        stmt = stmt.where(RecruitCase.stage == flt.stage)
    if flt.q:
        stmt = stmt.where(RecruitCase.name.contains(flt.q, autoescape=True))
    return stmt.order_by(RecruitCase.applied_on.desc(), RecruitCase.id.desc())


def villages_of(scope: Scope) -> list[Region]:
    """The villages in scope (the list's filter)."""
    from tracker.models import RegionLevel

    return list(
        db.session.scalars(
            scope.select(Region).where(Region.level == RegionLevel.village).order_by(Region.path)
        )
    )


def meetings_for(case: RecruitCase, since: date | None = None) -> Sequence[Meeting]:
    """The branch's meeting records a step may link to (newest first)."""
    stmt = select(Meeting).where(Meeting.branch_id == case.branch_id, Meeting.deleted_at.is_(None))
    if since is not None:
        stmt = stmt.where(Meeting.started_at >= clock.at_local(since))
    return db.session.scalars(stmt.order_by(Meeting.started_at.desc()).limit(200)).all()


def trainings_for(case: RecruitCase, since: date | None = None) -> Sequence[Training]:
    """The village's trainings a concentrated-training step may link to."""
    stmt = select(Training).where(
        Training.region_id == case.region_id, Training.deleted_at.is_(None)
    )
    if since is not None:
        stmt = stmt.where(Training.held_on >= since)
    return db.session.scalars(stmt.order_by(Training.held_on.desc()).limit(200)).all()


def general_meeting_on(branch_id: int, day: date) -> Meeting | None:
    """The branch's 支部党员大会 of that day (the Excel import links steps by date)."""
    start = clock.at_local(day)
    return db.session.scalars(
        select(Meeting)
        .where(
            Meeting.branch_id == branch_id,
            Meeting.kind == GENERAL_MEETING,
            Meeting.deleted_at.is_(None),
            Meeting.started_at >= start,
            Meeting.started_at < clock.at_local(day + timedelta(days=1)),
        )
        .order_by(Meeting.started_at)
    ).first()
