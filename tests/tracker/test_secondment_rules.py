"""Pure rules of the secondment programme: weeks, deadlines, assessment windows."""

from __future__ import annotations

from datetime import date

import pytest

from tracker.secondment.rules import (
    SecondmentError,
    assessment_windows,
    due_assessments,
    overlaps,
    report_due_on,
    scheduled_weeks,
    validate_report_week,
    week_start,
)
from tracker.workdays import WorkCalendar

# 2035 lies outside the packaged official calendar: only these admin overrides apply.
CAL = WorkCalendar.from_rows([(date(2035, 10, 1), False), (date(2035, 10, 2), False)])


def test_a_week_starts_on_monday():
    assert week_start(date(2026, 3, 8)) == date(2026, 3, 2)
    assert week_start(date(2026, 3, 2)) == date(2026, 3, 2)


def test_a_report_is_due_two_working_days_after_sunday():
    assert report_due_on(date(2035, 3, 5), CAL, 2) == date(2035, 3, 13)


def test_holidays_push_the_report_deadline():
    # the week ends Sunday 2035-09-30; Mon 1 and Tue 2 October are holidays
    assert report_due_on(date(2035, 9, 24), CAL, 2) == date(2035, 10, 4)


def test_every_week_touched_by_the_term_is_scheduled():
    weeks = scheduled_weeks(date(2026, 3, 4), date(2026, 3, 16))
    assert weeks == [date(2026, 3, 2), date(2026, 3, 9), date(2026, 3, 16)]


def test_a_report_cannot_be_for_a_future_week():
    with pytest.raises(SecondmentError, match="未来"):
        validate_report_week(
            date(2026, 3, 16), date(2026, 3, 10), date(2026, 3, 2), date(2027, 1, 1)
        )
    validate_report_week(date(2026, 3, 9), date(2026, 3, 10), date(2026, 3, 2), date(2027, 1, 1))


def test_a_report_week_starts_on_monday_and_lies_in_the_term():
    with pytest.raises(SecondmentError, match="星期一"):
        validate_report_week(
            date(2026, 3, 10), date(2026, 4, 1), date(2026, 3, 2), date(2027, 1, 1)
        )
    with pytest.raises(SecondmentError, match="挂职期"):
        validate_report_week(
            date(2026, 2, 16), date(2026, 4, 1), date(2026, 3, 2), date(2027, 1, 1)
        )


def test_quarterly_windows_are_clipped_to_the_term_and_end_with_the_end():
    windows = assessment_windows("quarterly", date(2026, 3, 2), date(2026, 8, 31))
    assert windows == [
        ("2026-Q1", date(2026, 3, 2), date(2026, 3, 31)),
        ("2026-Q2", date(2026, 4, 1), date(2026, 6, 30)),
        ("2026-Q3", date(2026, 7, 1), date(2026, 8, 31)),
        ("end", date(2026, 8, 31), date(2026, 8, 31)),
    ]


def test_half_yearly_windows():
    keys = [w[0] for w in assessment_windows("half-yearly", date(2026, 3, 2), date(2027, 3, 1))]
    assert keys == ["2026-H1", "2026-H2", "2027-H1", "end"]


def test_an_unknown_assessment_cycle_is_refused():
    with pytest.raises(SecondmentError, match="考核周期"):
        assessment_windows("monthly", date(2026, 1, 1), date(2026, 12, 31))


def test_only_ended_windows_without_a_grade_are_due():
    due = due_assessments(
        "quarterly", date(2026, 3, 2), date(2027, 3, 1), date(2026, 7, 5), {"2026-Q1"}
    )
    assert [w[0] for w in due] == ["2026-Q2"]


def test_overlap_is_inclusive():
    assert overlaps(date(2026, 1, 1), date(2026, 6, 30), date(2026, 6, 30), date(2026, 12, 31))
    assert not overlaps(date(2026, 1, 1), date(2026, 6, 29), date(2026, 6, 30), date(2026, 12, 31))
