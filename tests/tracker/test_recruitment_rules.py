"""The rules of 发展党员 without a database: each interval refused when short (or late) and
accepted exactly on the boundary, with the rule named in the message."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from tracker.recruitment.models import Stage, StepKind
from tracker.recruitment.rules import (
    Obligation,
    RecruitError,
    Rules,
    StepInput,
    add_months,
    check_step,
    due_steps,
    probation_end,
    stage_of,
)
from tracker.workdays import WorkCalendar

RULES = Rules()
# The official calendar (chinesecalendar): 2024-04-04/05 were the Qingming holiday.
CAL = WorkCalendar()
APPLIED = date(2023, 1, 16)
D = timedelta(days=1)


def S(kind: StepKind, on: date, **kw) -> StepInput:  # type: ignore[no-untyped-def]
    return StepInput(kind=kind, on=on, **kw)


def refused(steps: list[StepInput], new: StepInput, field: str, rule: str) -> None:
    with pytest.raises(RecruitError) as info:
        check_step(RULES, APPLIED, steps, new, CAL)
    assert info.value.field == field
    assert rule in info.value.message


def accepted(steps: list[StepInput], new: StepInput) -> None:
    check_step(RULES, APPLIED, steps, new, CAL)


APPLICATION = [S(StepKind.application, APPLIED)]
TALKED = APPLICATION + [S(StepKind.talk, date(2023, 2, 1), person_a="书记")]
ACTIVIST_ON = date(2023, 3, 1)
ACTIVIST = TALKED + [S(StepKind.activist, ACTIVIST_ON, body="支委会", person_a="甲", person_b="乙")]
CANDIDATE_ON = date(2024, 3, 1)
CANDIDATE = ACTIVIST + [S(StepKind.candidate, CANDIDATE_ON, body="支委会")]
READY = CANDIDATE + [
    S(StepKind.political, date(2024, 3, 10), body="镇党委", passed=True),
    S(StepKind.training, date(2024, 3, 20), until=date(2024, 3, 22), hours=Decimal(24)),
    S(StepKind.publicity, date(2024, 4, 15), until=date(2024, 4, 19)),
]
ADMITTED_ON = date(2024, 4, 25)
ADMITTED = READY + [S(StepKind.admission, ADMITTED_ON, meeting_id=1, body="支部党员大会")]
APPROVED = ADMITTED + [S(StepKind.approval, date(2024, 5, 10), body="镇党委")]


def test_months_are_calendar_months_clamped_to_the_month_end():
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert add_months(date(2024, 2, 29), 12) == date(2025, 2, 28)
    assert add_months(date(2024, 11, 15), 3) == date(2025, 2, 15)
    assert add_months(date(2025, 3, 1), -13) == date(2024, 2, 1)


def test_the_talk_on_the_last_day_of_the_month_is_accepted():
    accepted(APPLICATION, S(StepKind.talk, date(2023, 2, 16), person_a="书记"))


def test_a_talk_a_day_after_the_month_is_refused_naming_the_rule():
    refused(
        APPLICATION,
        S(StepKind.talk, date(2023, 2, 17), person_a="书记"),
        "on",
        "收到入党申请书后一个月内派人谈话",
    )


def test_an_activist_needs_the_talk_first_and_two_different_contacts():
    refused(
        APPLICATION,
        S(StepKind.activist, ACTIVIST_ON, body="支委会", person_a="甲", person_b="乙"),
        "kind",
        "谈话",
    )
    refused(
        TALKED,
        S(StepKind.activist, ACTIVIST_ON, body="支委会", person_a="甲"),
        "person_b",
        "两名培养联系人",
    )
    refused(
        TALKED,
        S(StepKind.activist, ACTIVIST_ON, body="支委会", person_a="甲", person_b="甲"),
        "person_b",
        "同一人",
    )


def test_a_candidate_exactly_a_year_after_becoming_activist_is_accepted():
    accepted(ACTIVIST, S(StepKind.candidate, date(2024, 3, 1), body="支委会"))


def test_a_candidate_a_day_short_of_the_year_is_refused():
    refused(
        ACTIVIST,
        S(StepKind.candidate, date(2024, 2, 29), body="支委会"),
        "on",
        "入党积极分子经过一年以上培养考察，方可列为发展对象",
    )


def test_training_of_three_days_or_of_24_hours_is_accepted():
    accepted(CANDIDATE, S(StepKind.training, date(2024, 3, 20), until=date(2024, 3, 22)))
    accepted(
        CANDIDATE,
        S(StepKind.training, date(2024, 3, 20), until=date(2024, 3, 20), hours=Decimal(24)),
    )


def test_training_of_two_days_and_under_24_hours_is_refused():
    refused(
        CANDIDATE,
        S(StepKind.training, date(2024, 3, 20), until=date(2024, 3, 21), hours=Decimal("23.5")),
        "until",
        "发展对象集中培训不少于 3 天或不少于 24 学时",
    )


def test_publicity_of_five_working_days_is_accepted():
    # Monday 2024-04-15 to Friday 2024-04-19.
    accepted(CANDIDATE, S(StepKind.publicity, date(2024, 4, 15), until=date(2024, 4, 19)))
    # Over a weekend: Wednesday to the next Tuesday is five working days too.
    accepted(CANDIDATE, S(StepKind.publicity, date(2024, 4, 17), until=date(2024, 4, 23)))


def test_publicity_of_four_working_days_is_refused():
    refused(
        CANDIDATE,
        S(StepKind.publicity, date(2024, 4, 17), until=date(2024, 4, 22)),
        "until",
        "发展对象公示不少于 5 个工作日",
    )


def test_the_publicity_rule_counts_the_official_calendar():
    # 2024-04-04/05 were the Qingming holiday and Sunday 04-07 a make-up workday.
    cal = CAL
    with pytest.raises(RecruitError):
        check_step(
            RULES,
            APPLIED,
            CANDIDATE,
            S(StepKind.publicity, date(2024, 4, 1), until=date(2024, 4, 5)),
            cal,
        )
    check_step(
        RULES,
        APPLIED,
        CANDIDATE,
        S(StepKind.publicity, date(2024, 4, 1), until=date(2024, 4, 8)),
        cal,
    )


def test_admission_needs_review_training_publicity_and_a_meeting_after_publicity():
    refused(CANDIDATE, S(StepKind.admission, ADMITTED_ON, meeting_id=1), "kind", "政治审查")
    refused(READY, S(StepKind.admission, date(2024, 4, 19), meeting_id=1), "on", "公示期")
    refused(READY, S(StepKind.admission, ADMITTED_ON), "meeting_id", "支部党员大会")
    accepted(READY, S(StepKind.admission, date(2024, 4, 20), meeting_id=1))


def test_approval_on_the_last_day_of_three_months_is_accepted():
    accepted(ADMITTED, S(StepKind.approval, date(2024, 7, 25), body="镇党委"))


def test_approval_a_day_after_three_months_is_refused():
    refused(
        ADMITTED,
        S(StepKind.approval, date(2024, 7, 26), body="镇党委"),
        "on",
        "上级党委在支部党员大会接收后三个月内审批",
    )


def test_full_membership_exactly_a_year_after_admission_is_accepted():
    accepted(APPROVED, S(StepKind.full, date(2025, 4, 25), meeting_id=2))


def test_full_membership_a_day_short_of_the_year_is_refused():
    refused(
        APPROVED,
        S(StepKind.full, date(2025, 4, 24), meeting_id=2),
        "on",
        "预备期为一年，期满方可转正",
    )


def test_full_membership_needs_the_approval():
    refused(ADMITTED, S(StepKind.full, date(2025, 4, 25), meeting_id=2), "kind", "上级党委审批")


def test_an_extension_of_exactly_a_year_is_accepted_and_a_day_more_refused():
    accepted(
        APPROVED, S(StepKind.extension, date(2025, 4, 25), until=date(2026, 4, 25), meeting_id=2)
    )
    refused(
        APPROVED,
        S(StepKind.extension, date(2025, 4, 25), until=date(2026, 4, 26), meeting_id=2),
        "until",
        "延长预备期只能一次，最长不超过一年",
    )


def test_probation_may_be_extended_once_and_full_membership_waits_for_its_end():
    extended = APPROVED + [
        S(StepKind.extension, date(2025, 4, 25), until=date(2025, 10, 15), meeting_id=2)
    ]
    assert probation_end(RULES, extended) == date(2025, 10, 15)
    refused(
        extended,
        S(StepKind.extension, date(2025, 10, 15), until=date(2026, 1, 1), meeting_id=3),
        "kind",
        "已经记录过",
    )
    refused(extended, S(StepKind.full, date(2025, 10, 14), meeting_id=3), "on", "期满方可转正")
    accepted(extended, S(StepKind.full, date(2025, 10, 15), meeting_id=3))


def test_configured_intervals_replace_the_national_defaults():
    rules = Rules(activist_min_months=18, publicity_min_working_days=7)
    with pytest.raises(RecruitError, match="一年以上|18 个月以上"):
        check_step(
            rules, APPLIED, ACTIVIST, S(StepKind.candidate, date(2024, 8, 31), body="支委会"), CAL
        )
    check_step(
        rules, APPLIED, ACTIVIST, S(StepKind.candidate, date(2024, 9, 1), body="支委会"), CAL
    )


def test_steps_keep_the_order_of_the_stages():
    refused(
        APPLICATION, S(StepKind.candidate, date(2024, 3, 1), body="x"), "kind", "当前阶段不能记录"
    )
    refused(
        TALKED,
        S(StepKind.activist, date(2023, 1, 20), body="x", person_a="甲", person_b="乙"),
        "on",
        "不能早于上一步骤",
    )
    assert stage_of(APPROVED) == Stage.probationary


def test_due_steps_flag_the_overdue_obligations():
    talk = due_steps(RULES, APPLIED, APPLICATION, date(2023, 2, 17))
    assert talk[0].kind == StepKind.talk and talk[0].obligation == Obligation.talk
    assert due_steps(RULES, APPLIED, APPLICATION, date(2023, 2, 16))[0].obligation is None
    review = due_steps(RULES, APPLIED, ACTIVIST, date(2023, 9, 2))
    assert review[0].obligation == Obligation.review
    assert review[1].kind == StepKind.candidate and review[1].earliest == CANDIDATE_ON
    approval = due_steps(RULES, APPLIED, ADMITTED, date(2024, 7, 26))
    assert approval[0].obligation == Obligation.approval
    probation = due_steps(RULES, APPLIED, APPROVED, date(2025, 4, 26))
    assert [d.obligation for d in probation] == [Obligation.probation]
    assert due_steps(RULES, APPLIED, APPROVED, date(2025, 4, 25))[0].obligation is None
