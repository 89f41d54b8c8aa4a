"""The rules of recruitment (发展党员), pure: intervals, deadlines, the next steps.

The defaults are those of the 中国共产党发展党员工作细则 (``[recruitment]`` in
config): a talk within a month of the application; at least a year as activist
before being listed as candidate, with a review every half year; concentrated
training of at least 3 days or 24 class hours; publicity for 5 working days;
the higher committee's approval within 3 months of the admission; one year of
probation, extended once by at most a year.

A step that breaks a rule is refused (:class:`RecruitError`, naming the rule
and the date it allows); a date exactly on the boundary is accepted. No
database, no Flask: every function takes values and returns values.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Protocol

from tracker.errors import DomainError
from tracker.recruitment.models import STEP_LABELS, Stage, StepKind
from tracker.workdays import WorkCalendar


class RecruitError(DomainError):
    """A broken rule of recruitment; ``field`` names the form field."""


class StepLike(Protocol):
    """What the rules read of a step (a :class:`~tracker.recruitment.models.RecruitStep`
    or a :class:`StepInput`)."""

    kind: StepKind
    on: date
    until: date | None
    hours: Decimal | None
    passed: bool | None


@dataclass
class StepInput:
    """A step a user enters (form, API or Excel row)."""

    kind: StepKind
    on: date
    until: date | None = None
    body: str | None = None
    meeting_id: int | None = None
    training_id: int | None = None
    person_a: str | None = None
    person_b: str | None = None
    hours: Decimal | None = None
    passed: bool | None = None
    result: str | None = None


@dataclass(frozen=True)
class Rules:
    """The configurable intervals (``[recruitment]``), in months, days and hours."""

    talk_within_months: int = 1
    activist_min_months: int = 12
    review_every_months: int = 6
    training_min_days: int = 3
    training_min_hours: int = 24
    publicity_min_working_days: int = 5
    approval_within_months: int = 3
    probation_months: int = 12
    extension_max_months: int = 12

    @classmethod
    def of(cls, settings: object) -> Rules:
        return cls(**{k: getattr(settings, k) for k in cls.__dataclass_fields__})


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later (the 31st → the last day of a shorter month)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


CN = "零一两三四五六七八九十"


def _span(months: int) -> str:
    """``12`` → 一年, ``3`` → 三个月, ``18`` → 18 个月 (as the regulations write them)."""
    if months % 12 == 0 and months // 12 <= 10:
        return f"{CN[months // 12]}年"
    if months <= 10:
        return f"{CN[months]}个月"
    return f"{months} 个月"


def _d(day: date) -> str:
    return f"{day:%Y-%m-%d}"


# Which steps each stage allows (the forms offered on the case page).
ALLOWED = {
    Stage.applicant: (StepKind.talk, StepKind.activist, StepKind.close),
    Stage.activist: (StepKind.review, StepKind.candidate, StepKind.close),
    Stage.candidate: (
        StepKind.political,
        StepKind.training,
        StepKind.publicity,
        StepKind.review,
        StepKind.admission,
        StepKind.close,
    ),
    Stage.probationary: (StepKind.approval, StepKind.extension, StepKind.full, StepKind.cancel),
    Stage.full: (),
    Stage.cancelled: (),
    Stage.closed: (),
}
# Steps that happen once per case.
ONCE = frozenset(set(StepKind) - {StepKind.review})
# Steps decided by a branch members' meeting (支部党员大会) with quorum: the record is required.
NEEDS_GENERAL_MEETING = frozenset({StepKind.admission, StepKind.extension, StepKind.full})
STAGE_AFTER = {
    StepKind.activist: Stage.activist,
    StepKind.candidate: Stage.candidate,
    StepKind.admission: Stage.probationary,
    StepKind.full: Stage.full,
    StepKind.cancel: Stage.cancelled,
    StepKind.close: Stage.closed,
}


def stage_of(steps: Sequence[StepLike]) -> Stage:
    """The stage the steps have reached."""
    stage = Stage.applicant
    for step in sorted(steps, key=lambda s: s.on):
        stage = STAGE_AFTER.get(step.kind, stage)
    return stage


def _first(steps: Sequence[StepLike], kind: StepKind) -> StepLike | None:
    return next((s for s in steps if s.kind == kind), None)


def probation_end(rules: Rules, steps: Sequence[StepLike]) -> date | None:
    """The day probation is complete (预备期满): a year after the admission, or the
    extended end."""
    admission = _first(steps, StepKind.admission)
    if admission is None:
        return None
    extension = _first(steps, StepKind.extension)
    if extension is not None and extension.until is not None:
        return extension.until
    return add_months(admission.on, rules.probation_months)


def _need(value: object, field: str, message: str) -> None:
    if value is None or (isinstance(value, str) and not value.strip()):
        raise RecruitError(message, field)


def check_step(
    rules: Rules,
    applied_on: date,
    steps: Sequence[StepLike],
    new: StepInput,
    cal: WorkCalendar,
) -> None:
    """Refuse ``new`` when it breaks the order of the stages or one of the rules."""
    stage = stage_of(steps)
    kind = new.kind
    label = STEP_LABELS[kind]
    if kind not in ALLOWED[stage]:
        raise RecruitError(f"当前阶段不能记录“{label}”", "kind")
    if kind in ONCE and _first(steps, kind) is not None:
        raise RecruitError(f"“{label}”已经记录过", "kind")
    if new.on < applied_on:
        raise RecruitError("日期不能早于入党申请日期", "on")
    latest = max((s.on for s in steps), default=applied_on)
    if kind != StepKind.review and new.on < latest:
        raise RecruitError(f"日期不能早于上一步骤（{_d(latest)}）", "on")
    if new.until is not None and new.until < new.on:
        raise RecruitError("结束日期不能早于开始日期", "until")
    check = CHECKS.get(kind)
    if check is not None:
        check(rules, applied_on, steps, new, cal)


def _talk(rules: Rules, applied_on: date, steps: Sequence[StepLike], new: StepInput, cal) -> None:
    _need(new.person_a, "person_a", "请填写谈话人")
    last = add_months(applied_on, rules.talk_within_months)
    if new.on > last:
        raise RecruitError(
            f"违反“收到入党申请书后{_span(rules.talk_within_months)}内派人谈话”的规定："
            f"申请日期 {_d(applied_on)}，谈话最迟应在 {_d(last)}",
            "on",
        )


def _activist(rules: Rules, applied_on: date, steps, new: StepInput, cal) -> None:
    if _first(steps, StepKind.talk) is None:
        raise RecruitError("请先记录入党申请谈话", "kind")
    _need(new.body, "body", "请填写决定机关（如 党支部委员会）")
    _need(new.person_a, "person_a", "请填写两名培养联系人")
    _need(new.person_b, "person_b", "请填写两名培养联系人")
    if (new.person_a or "").strip() == (new.person_b or "").strip():
        raise RecruitError("两名培养联系人不能是同一人", "person_b")


def _review(rules: Rules, applied_on: date, steps, new: StepInput, cal) -> None:
    activist = _first(steps, StepKind.activist)
    if activist is not None and new.on < activist.on:
        raise RecruitError("考察日期不能早于确定为入党积极分子的日期", "on")
    _need(new.result, "result", "请填写考察意见")


def _candidate(rules: Rules, applied_on: date, steps, new: StepInput, cal) -> None:
    _need(new.body, "body", "请填写决定机关（如 党支部委员会）")
    activist = _first(steps, StepKind.activist)
    assert activist is not None  # the stage is activist
    earliest = add_months(activist.on, rules.activist_min_months)
    if new.on < earliest:
        raise RecruitError(
            f"违反“入党积极分子经过{_span(rules.activist_min_months)}以上培养考察，"
            f"方可列为发展对象”的规定：确定为积极分子 {_d(activist.on)}，最早 {_d(earliest)}",
            "on",
        )


def _candidate_day(steps: Sequence[StepLike]) -> date:
    candidate = _first(steps, StepKind.candidate)
    assert candidate is not None  # the stage is candidate
    return candidate.on


def _political(rules: Rules, applied_on: date, steps, new: StepInput, cal) -> None:
    _need(new.body, "body", "请填写审查单位")
    _need(new.passed, "passed", "请选择政审结论")


def _training(rules: Rules, applied_on: date, steps, new: StepInput, cal) -> None:
    _need(new.until, "until", "请填写培训结束日期")
    assert new.until is not None
    days = (new.until - new.on).days + 1
    hours = new.hours or Decimal(0)
    if days < rules.training_min_days and hours < rules.training_min_hours:
        raise RecruitError(
            f"违反“发展对象集中培训不少于 {rules.training_min_days} 天或不少于 "
            f"{rules.training_min_hours} 学时”的规定：本次 {days} 天、{hours.normalize():f} 学时",
            "until",
        )


def _publicity(rules: Rules, applied_on: date, steps, new: StepInput, cal) -> None:
    _need(new.until, "until", "请填写公示结束日期")
    assert new.until is not None
    n = len(cal.workdays_in(new.on, new.until))
    if n < rules.publicity_min_working_days:
        raise RecruitError(
            f"违反“发展对象公示不少于 {rules.publicity_min_working_days} 个工作日”的规定："
            f"{_d(new.on)} 至 {_d(new.until)} 只有 {n} 个工作日",
            "until",
        )


def _admission(rules: Rules, applied_on: date, steps, new: StepInput, cal) -> None:
    political = _first(steps, StepKind.political)
    if political is None or not political.passed:
        raise RecruitError("发展对象须经政治审查合格，方可提交支部党员大会讨论", "kind")
    if _first(steps, StepKind.training) is None:
        raise RecruitError("发展对象须参加集中培训，方可提交支部党员大会讨论", "kind")
    publicity = _first(steps, StepKind.publicity)
    if publicity is None or publicity.until is None:
        raise RecruitError("发展对象须经公示，方可提交支部党员大会讨论", "kind")
    if new.on <= publicity.until:
        raise RecruitError(f"公示期（至 {_d(publicity.until)}）结束后方可召开支部党员大会", "on")
    _need(new.meeting_id, "meeting_id", "请选择接收预备党员的支部党员大会记录")


def _admitted(steps: Sequence[StepLike]) -> StepLike:
    admission = _first(steps, StepKind.admission)
    assert admission is not None  # the stage is probationary
    return admission


def _approval(rules: Rules, applied_on: date, steps, new: StepInput, cal) -> None:
    _need(new.body, "body", "请填写审批的上级党委")
    admission = _admitted(steps)
    last = add_months(admission.on, rules.approval_within_months)
    if new.on > last:
        raise RecruitError(
            f"违反“上级党委在支部党员大会接收后{_span(rules.approval_within_months)}内审批”的规定："
            f"接收日期 {_d(admission.on)}，最迟 {_d(last)}",
            "on",
        )


def _probation_checks(rules: Rules, steps: Sequence[StepLike], new: StepInput) -> date:
    if _first(steps, StepKind.approval) is None:
        raise RecruitError("请先记录上级党委审批", "kind")
    end = probation_end(rules, steps)
    assert end is not None
    return end


def _extension(rules: Rules, applied_on: date, steps, new: StepInput, cal) -> None:
    end = _probation_checks(rules, steps, new)
    _need(new.until, "until", "请填写延长后的预备期截止日期")
    assert new.until is not None
    if new.on < end:
        raise RecruitError(f"预备期满（{_d(end)}）时方可讨论延长预备期", "on")
    last = add_months(end, rules.extension_max_months)
    if new.until <= end or new.until > last:
        raise RecruitError(
            f"违反“延长预备期只能一次，最长不超过{_span(rules.extension_max_months)}”的规定："
            f"预备期满 {_d(end)}，延长至最迟 {_d(last)}",
            "until",
        )
    _need(new.meeting_id, "meeting_id", "请选择讨论延长预备期的支部党员大会记录")


def _full(rules: Rules, applied_on: date, steps, new: StepInput, cal) -> None:
    end = _probation_checks(rules, steps, new)
    if new.on < end:
        raise RecruitError(
            f"违反“预备期为{_span(rules.probation_months)}，期满方可转正”的规定："
            f"接收日期 {_d(_admitted(steps).on)}，最早 {_d(end)} 转正",
            "on",
        )
    _need(new.meeting_id, "meeting_id", "请选择讨论转正的支部党员大会记录")


def _cancel(rules: Rules, applied_on: date, steps, new: StepInput, cal) -> None:
    _need(new.body, "body", "请填写决定机关")
    _need(new.result, "result", "请填写取消预备党员资格的原因")


def _close(rules: Rules, applied_on: date, steps, new: StepInput, cal) -> None:
    _need(new.result, "result", "请填写终止培养的原因")


CHECKS = {
    StepKind.talk: _talk,
    StepKind.activist: _activist,
    StepKind.review: _review,
    StepKind.candidate: _candidate,
    StepKind.political: _political,
    StepKind.training: _training,
    StepKind.publicity: _publicity,
    StepKind.admission: _admission,
    StepKind.approval: _approval,
    StepKind.extension: _extension,
    StepKind.full: _full,
    StepKind.cancel: _cancel,
    StepKind.close: _close,
}


class Obligation:
    """The overdue conditions shown on the home to-do and the dashboard."""

    talk = "talk_overdue"  # 入党申请谈话逾期
    review = "review_overdue"  # 积极分子考察逾期
    approval = "approval_overdue"  # 上级党委审批逾期
    probation = "probation_ended"  # 预备期满未转正


OBLIGATION_LABELS = {
    Obligation.talk: "入党申请谈话逾期",
    Obligation.review: "积极分子考察逾期",
    Obligation.approval: "上级党委审批逾期",
    Obligation.probation: "预备期满未转正",
}


@dataclass(frozen=True)
class Due:
    """A step the case waits for: earliest and latest day allowed, overdue on ``today``."""

    kind: StepKind
    earliest: date | None = None
    latest: date | None = None
    obligation: str | None = None  # set when overdue

    @property
    def label(self) -> str:
        return STEP_LABELS[self.kind]


def due_steps(rules: Rules, applied_on: date, steps: Sequence[StepLike], today: date) -> list[Due]:
    """The steps a case waits for, in order, with their windows and whether one is overdue."""
    stage = stage_of(steps)
    out: list[Due] = []
    if stage == Stage.applicant:
        if _first(steps, StepKind.talk) is None:
            last = add_months(applied_on, rules.talk_within_months)
            late = Obligation.talk if today > last else None
            out.append(Due(StepKind.talk, applied_on, last, late))
        else:
            out.append(Due(StepKind.activist))
    elif stage == Stage.activist:
        activist = _first(steps, StepKind.activist)
        assert activist is not None
        last_review = max((s.on for s in steps if s.kind == StepKind.review), default=activist.on)
        next_review = add_months(last_review, rules.review_every_months)
        late = Obligation.review if today > next_review else None
        out.append(Due(StepKind.review, None, next_review, late))
        out.append(Due(StepKind.candidate, add_months(activist.on, rules.activist_min_months)))
    elif stage == Stage.candidate:
        day = _candidate_day(steps)
        for kind in (StepKind.political, StepKind.training, StepKind.publicity):
            if _first(steps, kind) is None:
                out.append(Due(kind, day))
        publicity = _first(steps, StepKind.publicity)
        if not out and publicity is not None and publicity.until is not None:
            out.append(Due(StepKind.admission, date.fromordinal(publicity.until.toordinal() + 1)))
    elif stage == Stage.probationary:
        admission = _admitted(steps)
        if _first(steps, StepKind.approval) is None:
            last = add_months(admission.on, rules.approval_within_months)
            late = Obligation.approval if today > last else None
            out.append(Due(StepKind.approval, admission.on, last, late))
        end = probation_end(rules, steps)
        assert end is not None
        late = Obligation.probation if today > end else None
        out.append(Due(StepKind.full, end, None, late))
    return out
