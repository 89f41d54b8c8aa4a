"""Reporting periods: a month (``2026-03``), a quarter (``2026-Q1``) or a year (``2026``).

Pure values used by the obligations engine, the uptime figures, the service
measures and the dashboard, so that every page, API and export speaks about
the same period the same way. Dates are local (Asia/Shanghai) calendar dates;
:meth:`Period.utc_bounds` gives the matching UTC instants for queries on
stored timestamps.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property
from typing import Literal
from zoneinfo import ZoneInfo

from tracker import clock
from tracker.errors import DomainError

_PATTERN = re.compile(r"^(?P<year>\d{4})(?:-(?:(?P<month>\d{2})|[Qq](?P<quarter>[1-4])))?$")


Unit = Literal["month", "quarter", "year"]


class PeriodKind(enum.StrEnum):
    month = "month"
    quarter = "quarter"
    year = "year"


class PeriodError(DomainError):
    """A period string that cannot be read; the message is for the user."""

    field = "period"


@dataclass(frozen=True, order=True)
class Period:
    """A calendar period. ``index`` is the month (1–12), quarter (1–4) or 1 for a year."""

    year: int
    kind: PeriodKind
    index: int = 1

    def __post_init__(self) -> None:
        # Accept the plain strings "month" / "quarter" / "year" too.
        object.__setattr__(self, "kind", PeriodKind(self.kind))
        limit = {PeriodKind.month: 12, PeriodKind.quarter: 4, PeriodKind.year: 1}[self.kind]
        if not 1 <= self.index <= limit or not 1900 <= self.year <= 2999:
            raise PeriodError(f"没有这个期间：{self.year} {self.kind} {self.index}")

    # -- construction -----------------------------------------------------
    @classmethod
    def parse(cls, text: str) -> Period:
        """``2026-03`` (month), ``2026-Q1`` (quarter) or ``2026`` (year)."""
        m = _PATTERN.match((text or "").strip())
        if not m:
            raise PeriodError("期间格式应为 2026-03、2026-Q1 或 2026")
        year = int(m["year"])
        if m["month"]:
            month = int(m["month"])
            if not 1 <= month <= 12:
                raise PeriodError("月份应为 01–12")
            return cls(year, PeriodKind.month, month)
        if m["quarter"]:
            return cls(year, PeriodKind.quarter, int(m["quarter"]))
        return cls(year, PeriodKind.year)

    @classmethod
    def month(cls, year: int, month: int) -> Period:
        return cls(year, PeriodKind.month, month)

    @classmethod
    def quarter(cls, year: int, quarter: int) -> Period:
        return cls(year, PeriodKind.quarter, quarter)

    @classmethod
    def of_year(cls, year: int) -> Period:
        return cls(year, PeriodKind.year)

    @classmethod
    def month_of(cls, day: date) -> Period:
        return cls(day.year, PeriodKind.month, day.month)

    @classmethod
    def quarter_of(cls, day: date) -> Period:
        return cls(day.year, PeriodKind.quarter, (day.month - 1) // 3 + 1)

    @classmethod
    def year_of(cls, day: date) -> Period:
        return cls(day.year, PeriodKind.year)

    @classmethod
    def containing(cls, day: date, kind: PeriodKind | Unit) -> Period:
        return {
            PeriodKind.month: cls.month_of,
            PeriodKind.quarter: cls.quarter_of,
            PeriodKind.year: cls.year_of,
        }[PeriodKind(kind)](day)

    @property
    def unit(self) -> Unit:
        """The kind as a plain string (``"month"``, ``"quarter"``, ``"year"``)."""
        return self.kind.value

    @cached_property
    def first_month(self) -> int:
        return self.start.month

    @cached_property
    def n_months(self) -> int:
        return {PeriodKind.month: 1, PeriodKind.quarter: 3, PeriodKind.year: 12}[self.kind]

    # -- bounds -------------------------------------------------------------
    @cached_property
    def start(self) -> date:
        if self.kind == PeriodKind.month:
            return date(self.year, self.index, 1)
        if self.kind == PeriodKind.quarter:
            return date(self.year, 3 * self.index - 2, 1)
        return date(self.year, 1, 1)

    @cached_property
    def end(self) -> date:
        """The last day (inclusive)."""
        return self.next().start - timedelta(days=1)

    @cached_property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.end

    def overlaps(self, other: Period) -> bool:
        return self.start <= other.end and other.start <= self.end

    def utc_bounds(self, tz: ZoneInfo | None = None) -> tuple[datetime, datetime]:
        """``[start, end)`` as UTC instants: local midnight to local midnight."""
        tz = tz or clock.zone()
        lo = datetime.combine(self.start, time.min, tz).astimezone(UTC)
        hi = datetime.combine(self.end + timedelta(days=1), time.min, tz).astimezone(UTC)
        return lo, hi

    # -- navigation -----------------------------------------------------------
    def next(self) -> Period:
        if self.kind == PeriodKind.month:
            return (
                Period(self.year + 1, self.kind, 1)
                if self.index == 12
                else Period(self.year, self.kind, self.index + 1)
            )
        if self.kind == PeriodKind.quarter:
            return (
                Period(self.year + 1, self.kind, 1)
                if self.index == 4
                else Period(self.year, self.kind, self.index + 1)
            )
        return Period(self.year + 1, self.kind)

    def previous(self) -> Period:
        if self.kind == PeriodKind.month:
            return (
                Period(self.year - 1, self.kind, 12)
                if self.index == 1
                else Period(self.year, self.kind, self.index - 1)
            )
        if self.kind == PeriodKind.quarter:
            return (
                Period(self.year - 1, self.kind, 4)
                if self.index == 1
                else Period(self.year, self.kind, self.index - 1)
            )
        return Period(self.year - 1, self.kind)

    def months(self) -> list[Period]:
        """The months inside this period, in order."""
        first = Period.month_of(self.start)
        out = [first]
        while out[-1].end < self.end:
            out.append(out[-1].next())
        return out

    def last(self, n: int) -> list[Period]:
        """The ``n`` periods ending with this one, oldest first (for trends)."""
        out = [self]
        while len(out) < n:
            out.append(out[-1].previous())
        return out[::-1]

    # -- text -------------------------------------------------------------------
    @cached_property
    def key(self) -> str:
        """The API form: ``2026-03``, ``2026-Q1``, ``2026``."""
        if self.kind == PeriodKind.month:
            return f"{self.year}-{self.index:02d}"
        if self.kind == PeriodKind.quarter:
            return f"{self.year}-Q{self.index}"
        return str(self.year)

    @property
    def label(self) -> str:
        """The label in the page's language: 2026年3月, 2026年第一季度, 2026年 (March 2026 …)."""
        from flask_babel import gettext

        if self.kind == PeriodKind.month:
            return gettext("%(year)s年%(month)s月", year=self.year, month=self.index)
        if self.kind == PeriodKind.quarter:
            quarters = (
                gettext("%(year)s年第一季度", year=self.year),
                gettext("%(year)s年第二季度", year=self.year),
                gettext("%(year)s年第三季度", year=self.year),
                gettext("%(year)s年第四季度", year=self.year),
            )
            return quarters[self.index - 1]
        return gettext("%(year)s年", year=self.year)

    @property
    def label_zh(self) -> str:
        """The Chinese label whatever the page's language (file names, Excel titles)."""
        if self.kind == PeriodKind.month:
            return f"{self.year}年{self.index}月"
        if self.kind == PeriodKind.quarter:
            return f"{self.year}年第{'一二三四'[self.index - 1]}季度"
        return f"{self.year}年"

    def __str__(self) -> str:
        return self.key
