"""Reporting periods: parsing, bounds and navigation at every boundary."""

from datetime import UTC, date, datetime

import pytest

from tracker.periods import Period, PeriodError, PeriodKind


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("2026-03", date(2026, 3, 1), date(2026, 3, 31)),
        ("2024-02", date(2024, 2, 1), date(2024, 2, 29)),  # leap year
        ("2026-02", date(2026, 2, 1), date(2026, 2, 28)),
        ("2026-Q1", date(2026, 1, 1), date(2026, 3, 31)),
        ("2026-q4", date(2026, 10, 1), date(2026, 12, 31)),
        ("2026", date(2026, 1, 1), date(2026, 12, 31)),
    ],
)
def test_parse_gives_inclusive_bounds(text, start, end):
    p = Period.parse(text)
    assert (p.start, p.end) == (start, end)


@pytest.mark.parametrize("bad", ["", "26-03", "2026-13", "2026-Q5", "2026/03", "abc", "2026-3"])
def test_bad_period_strings_are_refused_in_chinese(bad):
    with pytest.raises(PeriodError, match="期间|月份"):
        Period.parse(bad)


def test_december_rolls_over_to_january():
    assert Period.parse("2026-12").next() == Period.parse("2027-01")
    assert Period.parse("2027-01").previous() == Period.parse("2026-12")


def test_quarter_rolls_over_the_year():
    assert Period.parse("2026-Q4").next() == Period.parse("2027-Q1")
    assert Period.parse("2026-Q1").previous() == Period.parse("2025-Q4")


def test_quarter_months_and_trend_window():
    assert [m.key for m in Period.parse("2026-Q2").months()] == ["2026-04", "2026-05", "2026-06"]
    assert [p.key for p in Period.parse("2026-02").last(3)] == ["2025-12", "2026-01", "2026-02"]


def test_containing_and_labels():
    day = date(2026, 11, 26)
    assert Period.containing(day, PeriodKind.quarter).label == "2026年第四季度"
    assert Period.month_of(day).label == "2026年11月"
    assert Period.year_of(day).key == "2026"


def test_utc_bounds_are_shanghai_midnights():
    lo, hi = Period.parse("2026-03").utc_bounds()
    assert lo == datetime(2026, 2, 28, 16, 0, tzinfo=UTC)
    assert hi == datetime(2026, 3, 31, 16, 0, tzinfo=UTC)
