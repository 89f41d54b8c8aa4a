"""工作日 official Chinese working days, with 调休 make-up workdays.

The order of authority, for each day:

1. the ``chinesecalendar`` package (the State Council's published holidays and
   make-up workdays) for the years it covers;
2. the admin override table (:class:`tracker.models.CalendarOverride`) — an admin
   enters next year's published calendar before the package is updated; a year
   with any override is treated as published, its other days Mon–Fri;
3. otherwise Monday–Friday, with the answer flagged *unofficial*.

Nothing here raises for an uncovered year: deadlines must always be computable,
and the ``official`` flag tells the user when to double-check.

Pure functions: the calendar is a value built once from the overrides.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache

import chinese_calendar


@lru_cache(maxsize=4096)
def _package_is_workday(day: date) -> bool | None:
    """The package's answer, or ``None`` when it does not cover the year."""
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        return None


@lru_cache(maxsize=64)
def package_covers(year: int) -> bool:
    """Whether the installed ``chinesecalendar`` publishes ``year``."""
    return _package_is_workday(date(year, 6, 30)) is not None


@dataclass(frozen=True)
class WorkdayAnswer:
    """Whether a day is a working day, and whether that comes from a published calendar."""

    workday: bool
    official: bool


@dataclass(frozen=True)
class WorkCalendar:
    """The working-day calendar: package, then overrides, then Mon–Fri.

    A value: its answers never change, so it keeps, per year asked about, the
    running count of working days (built once, 366 checks) and answers
    :meth:`working_days_between` by subtraction instead of walking the days —
    a list of 50 overdue matters, each hundreds of days late, costs 50
    look-ups, not 50 × 300 day checks.
    """

    overrides: Mapping[date, bool] = field(default_factory=dict)
    # year → running count: _counts[y][i] = working days from 1 January to day i (0-based)
    _counts: dict[int, list[int]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    _years: frozenset[int] = field(default=frozenset(), init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_years", frozenset(d.year for d in self.overrides))

    @classmethod
    def from_rows(cls, rows: Iterable[tuple[date, bool]]) -> WorkCalendar:
        return cls(overrides=dict(rows))

    @property
    def _override_years(self) -> frozenset[int]:
        return self._years

    def _running(self, year: int) -> list[int]:
        """The running count of working days through each day of ``year``."""
        counts = self._counts.get(year)
        if counts is None:
            counts = []
            total = 0
            day = date(year, 1, 1)
            while day.year == year:
                total += self.is_workday(day)
                counts.append(total)
                day += timedelta(days=1)
            self._counts[year] = counts
        return counts

    def _through(self, day: date) -> int:
        """Working days from 1 January of ``day``'s year through ``day``."""
        return self._running(day.year)[day.timetuple().tm_yday - 1]

    def year_is_official(self, year: int) -> bool:
        """Whether ``year`` has a published calendar (package or admin)."""
        return package_covers(year) or year in self._override_years

    def check(self, day: date) -> WorkdayAnswer:
        """Whether ``day`` is a working day, with its provenance."""
        pkg = _package_is_workday(day)
        if pkg is not None:
            return WorkdayAnswer(pkg, True)
        if day in self.overrides:
            return WorkdayAnswer(self.overrides[day], True)
        return WorkdayAnswer(day.weekday() < 5, day.year in self._override_years)

    def is_workday(self, day: date) -> bool:
        return self.check(day).workday

    def add_working_days(self, start: date, n: int) -> tuple[date, bool]:
        """The n-th working day *after* ``start`` (限时办结: counted from the next day).

        ``n == 0`` means the same day (即办件). Returns ``(day, official)``;
        ``official`` is False if any day counted came from the Mon–Fri fallback.
        """
        if n < 0:
            raise ValueError("n must be >= 0")
        official = True
        day = start
        counted = 0
        while counted < n:
            day += timedelta(days=1)
            answer = self.check(day)
            official = official and answer.official
            if answer.workday:
                counted += 1
        return day, official

    def working_days_between(self, start: date, end: date) -> int:
        """Working days in ``(start, end]``: how many working days after ``start`` is ``end``.

        0 when ``end`` is on or before ``start``.
        """
        if end <= start:
            return 0
        count = self._through(end) - self._through(start)
        for year in range(start.year, end.year):  # whole years crossed
            count += self._running(year)[-1]
        return count

    def workdays_in(self, start: date, end: date) -> list[date]:
        """Working days in ``[start, end]``."""
        days = []
        day = start
        while day <= end:
            if self.is_workday(day):
                days.append(day)
            day += timedelta(days=1)
        return days
