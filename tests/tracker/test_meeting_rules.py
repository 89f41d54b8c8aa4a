"""Pure rules of the meeting ledgers: periods, frequencies, obligations, quorum, lateness."""

from datetime import date

import pytest

from tracker.meetings.rules import (
    BranchFacts,
    Frequency,
    GroupFacts,
    MeetingFact,
    Period,
    PeriodError,
    RuleError,
    diff_snapshots,
    edit_locked,
    evaluate_branch,
    evaluate_many,
    is_late,
    quorum_met,
    summarize,
    year_grid,
)
from tracker.workdays import WorkCalendar

RULES = {
    "branch_general_meeting": Frequency.parse("quarterly"),
    "branch_committee_meeting": Frequency.parse("monthly"),
    "party_group_meeting": Frequency.parse("monthly"),
    "party_lecture": Frequency.parse("quarterly"),
    "theme_party_day": Frequency.parse("monthly"),
    "organizational_life_meeting": Frequency.parse("yearly:Q4"),
    "democratic_appraisal": Frequency.parse("yearly:Q4"),
    "heart_to_heart_talk": Frequency.parse("yearly"),
}
BRANCH = BranchFacts(1, date(2024, 1, 1))


def fact(i, kind, day, **kw):
    return MeetingFact(id=i, branch_id=1, kind=kind, held_on=day, **kw)


def of_kind(statuses, kind):
    return [s for s in statuses if s.kind == kind]


# -- periods -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("2026-03", date(2026, 3, 1), date(2026, 3, 31)),
        ("2026-Q1", date(2026, 1, 1), date(2026, 3, 31)),
        ("2026-q4", date(2026, 10, 1), date(2026, 12, 31)),
        ("2026", date(2026, 1, 1), date(2026, 12, 31)),
        ("2024-02", date(2024, 2, 1), date(2024, 2, 29)),
        ("2025-02", date(2025, 2, 1), date(2025, 2, 28)),
    ],
)
def test_period_strings_parse_to_calendar_bounds(text, start, end):
    p = Period.parse(text)
    assert (p.start, p.end) == (start, end)
    assert Period.parse(p.key) == p


@pytest.mark.parametrize("text", ["2026-13", "2026-Q5", "26", "2026-3-1", "", "abcd"])
def test_bad_period_strings_are_refused_in_chinese(text):
    with pytest.raises(PeriodError, match="期间|月份"):
        Period.parse(text)


def test_frequency_syntax_and_bad_values():
    assert Frequency.parse("yearly:Q4").windows_in_year(2026) == [Period.quarter(2026, 4)]
    assert len(Frequency.parse("monthly").windows_in_year(2026)) == 12
    assert Frequency.parse("none").windows_in_year(2026) == []
    with pytest.raises(RuleError):
        Frequency.parse("weekly")


def test_a_month_query_sees_the_quarter_window_of_a_quarterly_rule():
    assert Frequency.parse("quarterly").windows(Period.month(2026, 2)) == (Period.quarter(2026, 1),)
    assert Frequency.parse("yearly:Q4").windows(Period.month(2026, 5)) == ()


# -- obligations ---------------------------------------------------------------


def test_monthly_committee_met_missing_and_due_around_december_to_january():
    facts = [fact(1, "branch_committee_meeting", date(2025, 12, 31))]
    dec = evaluate_branch(BRANCH, [], facts, RULES, Period.month(2025, 12), date(2026, 1, 5))
    jan = evaluate_branch(BRANCH, [], facts, RULES, Period.month(2026, 1), date(2026, 1, 5))
    assert of_kind(dec, "branch_committee_meeting")[0].status == "met"
    assert of_kind(dec, "branch_committee_meeting")[0].record_ids == (1,)
    # The 31 December meeting does not count for January.
    assert of_kind(jan, "branch_committee_meeting")[0].status == "due"


def test_window_ends_at_midnight_of_the_last_day():
    facts: list[MeetingFact] = []
    on_last_day = evaluate_branch(
        BRANCH, [], facts, RULES, Period.month(2026, 3), date(2026, 3, 31)
    )
    next_day = evaluate_branch(BRANCH, [], facts, RULES, Period.month(2026, 3), date(2026, 4, 1))
    assert of_kind(on_last_day, "theme_party_day")[0].status == "due"
    assert of_kind(on_last_day, "theme_party_day")[0].due_soon
    assert of_kind(next_day, "theme_party_day")[0].status == "missing"


def test_quarter_end_general_meeting_on_the_last_day_of_the_quarter_counts():
    facts = [fact(7, "branch_general_meeting", date(2026, 3, 31))]
    q1 = evaluate_branch(BRANCH, [], facts, RULES, Period.quarter(2026, 1), date(2026, 4, 2))
    q2 = evaluate_branch(BRANCH, [], facts, RULES, Period.quarter(2026, 2), date(2026, 7, 1))
    assert of_kind(q1, "branch_general_meeting")[0].status == "met"
    assert of_kind(q2, "branch_general_meeting")[0].status == "missing"


def test_general_meeting_without_quorum_does_not_satisfy_the_obligation():
    facts = [fact(3, "branch_general_meeting", date(2026, 2, 10), counts=False)]
    s = of_kind(
        evaluate_branch(BRANCH, [], facts, RULES, Period.quarter(2026, 1), date(2026, 4, 1)),
        "branch_general_meeting",
    )[0]
    assert s.status == "missing"
    assert s.other_record_ids == (3,)


def test_late_only_records_give_met_late_and_an_on_time_one_wins():
    late = fact(1, "theme_party_day", date(2026, 3, 2), late=True)
    on_time = fact(2, "theme_party_day", date(2026, 3, 20))
    only_late = evaluate_branch(BRANCH, [], [late], RULES, Period.month(2026, 3), date(2026, 4, 5))
    both = evaluate_branch(
        BRANCH, [], [late, on_time], RULES, Period.month(2026, 3), date(2026, 4, 5)
    )
    assert of_kind(only_late, "theme_party_day")[0].status == "met_late"
    assert of_kind(both, "theme_party_day")[0].status == "met"
    assert of_kind(both, "theme_party_day")[0].record_ids == (2, 1)


def test_branch_created_mid_quarter_owes_that_quarter_nothing_but_the_next_months():
    branch = BranchFacts(1, date(2026, 2, 15))
    q1 = evaluate_branch(branch, [], [], RULES, Period.quarter(2026, 1), date(2026, 4, 10))
    kinds = {(s.kind, s.window.key) for s in q1}
    assert ("branch_general_meeting", "2026-Q1") not in kinds
    assert ("theme_party_day", "2026-02") not in kinds
    assert ("theme_party_day", "2026-03") in kinds
    q2 = evaluate_branch(branch, [], [], RULES, Period.quarter(2026, 2), date(2026, 7, 10))
    assert of_kind(q2, "branch_general_meeting")[0].status == "missing"


def test_party_group_created_mid_month_owes_from_the_next_month():
    groups = [
        GroupFacts(10, 1, "第一党小组", date(2024, 1, 1)),
        GroupFacts(11, 1, "第二党小组", date(2026, 3, 12)),
    ]
    facts = [fact(1, "party_group_meeting", date(2026, 3, 5), group_id=10)]
    march = of_kind(
        evaluate_branch(BRANCH, groups, facts, RULES, Period.month(2026, 3), date(2026, 4, 1)),
        "party_group_meeting",
    )
    april = of_kind(
        evaluate_branch(BRANCH, groups, facts, RULES, Period.month(2026, 4), date(2026, 4, 1)),
        "party_group_meeting",
    )
    assert [(s.group_id, s.status) for s in march] == [(10, "met")]
    assert sorted(s.group_id for s in april) == [10, 11]


def test_group_meeting_of_one_group_does_not_meet_another_groups_obligation():
    groups = [GroupFacts(10, 1, "一"), GroupFacts(11, 1, "二")]
    facts = [fact(1, "party_group_meeting", date(2026, 3, 5), group_id=10)]
    march = of_kind(
        evaluate_branch(BRANCH, groups, facts, RULES, Period.month(2026, 3), date(2026, 4, 1)),
        "party_group_meeting",
    )
    assert {s.group_id: s.status for s in march} == {10: "met", 11: "missing"}


def test_leap_day_meeting_counts_for_february_and_q1():
    facts = [
        fact(1, "theme_party_day", date(2028, 2, 29)),
        fact(2, "branch_general_meeting", date(2028, 2, 29)),
    ]
    feb = evaluate_branch(BRANCH, [], facts, RULES, Period.month(2028, 2), date(2028, 3, 1))
    assert of_kind(feb, "theme_party_day")[0].status == "met"
    assert of_kind(feb, "branch_general_meeting")[0].window == Period.quarter(2028, 1)
    assert Period.month(2028, 2).end == date(2028, 2, 29)


def test_yearly_q4_rule_only_counts_meetings_inside_q4():
    facts = [fact(1, "organizational_life_meeting", date(2026, 6, 1))]
    year = evaluate_branch(BRANCH, [], facts, RULES, Period.of_year(2026), date(2027, 1, 2))
    s = of_kind(year, "organizational_life_meeting")[0]
    assert s.window == Period.quarter(2026, 4)
    assert s.status == "missing"


def test_future_window_is_due_but_not_started_and_not_due_soon():
    year = evaluate_branch(BRANCH, [], [], RULES, Period.of_year(2026), date(2026, 3, 28))
    dec = [s for s in year if s.kind == "theme_party_day" and s.window.index == 12][0]
    assert dec.status == "due" and not dec.started and not dec.due_soon
    mar = [s for s in year if s.kind == "theme_party_day" and s.window.index == 3][0]
    assert mar.due_soon


def test_county_override_changes_a_frequency_for_its_branches_only():
    b1, b2 = BranchFacts(1, None, county_id=100), BranchFacts(2, None, county_id=200)
    override = {**RULES, "party_lecture": Frequency.parse("monthly")}
    out = evaluate_many(
        [b1, b2], [], [], {100: override}, RULES, Period.quarter(2026, 1), date(2026, 4, 2)
    )
    assert len(of_kind(out[1], "party_lecture")) == 3
    assert len(of_kind(out[2], "party_lecture")) == 1


def test_evaluate_many_groups_rows_per_branch():
    facts = [
        MeetingFact(1, 2, "theme_party_day", date(2026, 3, 3)),
        MeetingFact(2, 1, "theme_party_day", date(2026, 3, 4), late=True),
    ]
    out = evaluate_many(
        [BranchFacts(1), BranchFacts(2)],
        [],
        facts,
        {},
        RULES,
        Period.month(2026, 3),
        date(2026, 4, 1),
    )
    assert of_kind(out[1], "theme_party_day")[0].status == "met_late"
    assert of_kind(out[2], "theme_party_day")[0].status == "met"
    total = summarize(out[1]) + summarize(out[2])
    assert total.met >= 1 and total.met_late == 1


def test_summary_rate_counts_settled_obligations_only():
    s = summarize(
        evaluate_branch(
            BRANCH,
            [],
            [fact(1, "theme_party_day", date(2026, 3, 3))],
            RULES,
            Period.month(2026, 3),
            date(2026, 4, 1),
        )
    )
    assert s.met == 1 and s.missing >= 1
    assert 0 < (s.rate or 0) < 1


def test_year_grid_covers_twelve_months_per_row():
    year = evaluate_branch(
        BRANCH, [GroupFacts(10, 1, "一")], [], RULES, Period.of_year(2026), date(2026, 6, 1)
    )
    rows = year_grid(year, 2026)
    for row in rows:
        assert sum(c.span for c in row.cells) == 12
    olm = next(r for r in rows if r.kind == "organizational_life_meeting")
    assert [(c.first, c.span, c.status is not None) for c in olm.cells] == [
        (1, 9, False),
        (10, 3, True),
    ]


# -- quorum, lateness, lock ----------------------------------------------------


@pytest.mark.parametrize(
    ("full", "present", "ok"),
    [(10, 6, True), (10, 5, False), (9, 5, True), (1, 1, True), (0, 0, False)],
)
def test_quorum_is_more_than_half_of_full_members(full, present, ok):
    assert quorum_met(full, present) is ok


def test_late_entry_counts_official_working_days_with_holidays():
    cal = WorkCalendar()
    # 2025-09-30 (Tue) meeting; 1–8 October is the National Day holiday.
    assert not is_late(
        date(2025, 9, 30), date(2025, 10, 11), cal, 3
    )  # 11 Oct (Sat) is a make-up workday
    assert is_late(date(2025, 9, 30), date(2025, 10, 14), cal, 3)
    # An ordinary week: Monday meeting, entered Thursday is on time, Friday late.
    assert not is_late(date(2026, 3, 2), date(2026, 3, 5), cal, 3)
    assert is_late(date(2026, 3, 2), date(2026, 3, 6), cal, 3)


def test_edit_lock_after_configured_days():
    assert not edit_locked(date(2026, 1, 1), date(2026, 3, 31), 90)
    assert edit_locked(date(2026, 1, 1), date(2026, 4, 2), 90)


def test_diff_lists_changed_fields_only():
    assert diff_snapshots({"a": 1, "b": 2}, {"a": 1, "b": 3, "c": 4}) == {
        "b": [2, 3],
        "c": [None, 4],
    }


def test_evaluate_many_remembers_only_identical_inputs():
    """The memo behind evaluate_many is keyed by every fact it reads: asked again it gives
    the same statuses; one record changed (late, deleted, another day) changes them."""
    period, today = Period.of_year(2026), date(2026, 6, 15)

    def run(facts):
        return evaluate_many([BRANCH], [], facts, {}, RULES, period, today)[1]

    base = [fact(1, "theme_party_day", date(2026, 3, 3))]
    first = run(base)
    assert run(list(base)) == first
    march = [s for s in run(base) if s.kind == "theme_party_day" and s.window.index == 3]
    assert march[0].status == "met"
    for changed in (
        [fact(1, "theme_party_day", date(2026, 3, 3), late=True)],
        [fact(1, "theme_party_day", date(2026, 3, 3), counts=False)],
        [fact(1, "theme_party_day", date(2026, 4, 3))],
    ):
        status = [s for s in run(changed) if s.kind == "theme_party_day" and s.window.index == 3]
        assert status[0].status != "met"
    assert run(base) == first
    # the answer is the caller's own list
    run(base).clear()
    assert run(base) == first
