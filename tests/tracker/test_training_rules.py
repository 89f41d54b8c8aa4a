"""培训台账: which obligation windows a branch's trainings meet (pure, no database)."""

from datetime import date
from decimal import Decimal

from tracker.meetings.rules import Frequency
from tracker.periods import Period
from tracker.trainings.services import evaluate

QUARTERLY = Frequency.parse("quarterly")


def rows(*days: date, late: bool = False) -> list[tuple[date, bool, Decimal]]:
    return [(d, late, Decimal("2")) for d in days]


def test_a_training_in_every_ended_quarter_meets_the_year():
    f = evaluate(
        rows(date(2025, 2, 1), date(2025, 5, 1), date(2025, 8, 1), date(2025, 11, 1)),
        Period.parse("2025"),
        QUARTERLY,
        today=date(2026, 1, 10),
        since=None,
    )
    assert (f.windows_met, f.windows_required, f.missing_windows) == (4, 4, ())
    assert f.count == 4 and f.hours == Decimal("8")


def test_an_ended_quarter_without_training_is_missing():
    f = evaluate(rows(date(2025, 2, 1)), Period.parse("2025-Q2"), QUARTERLY, date(2025, 7, 2), None)
    assert f.missing_windows == ("2025-Q2",)
    assert f.rate == 0.0


def test_a_running_quarter_without_training_is_due_not_missing():
    f = evaluate([], Period.parse("2026-11"), QUARTERLY, today=date(2026, 11, 26), since=None)
    assert (f.windows_required, f.missing_windows, f.rate) == (0, (), None)


def test_a_month_inside_a_met_quarter_counts_the_quarter():
    f = evaluate(
        rows(date(2026, 10, 9)), Period.parse("2026-11"), QUARTERLY, date(2026, 11, 26), None
    )
    assert (f.windows_met, f.windows_required) == (1, 1)
    assert f.count == 0  # the training itself was held in October


def test_quarters_before_the_branch_was_tracked_do_not_count():
    f = evaluate([], Period.parse("2025"), QUARTERLY, date(2026, 1, 5), since=date(2025, 7, 15))
    assert f.missing_windows == ("2025-Q3", "2025-Q4")


def test_late_entries_are_counted():
    f = evaluate(
        rows(date(2025, 2, 1), late=True),
        Period.parse("2025-Q1"),
        QUARTERLY,
        date(2025, 6, 1),
        None,
    )
    assert f.late == 1 and f.windows_met == 1
