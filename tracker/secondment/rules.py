"""Pure rules of the secondment programme: weeks, report deadlines, assessment windows.

No database, no Flask: values in, values out (tested in
``tests/tracker/test_secondment_rules.py``).

- A weekly report (周报) covers a Monday–Sunday week and is due
  ``n`` official working days after the Sunday (``[rules]
  secondment_report_working_days``). A week is *scheduled* when the cadre was in
  post on at least one of its days; it is *missing* when its deadline has
  passed with no report, *due* while the deadline is still ahead.
- Periodic assessment (定期考核) windows are quarters or half-years
  (``[rules] secondment_assessment``), plus one ``end`` window at the end of
  term. A window is due once it has ended (or the term has ended inside it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from tracker.errors import DomainError
from tracker.workdays import WorkCalendar


class SecondmentError(DomainError):
    """A broken rule of the secondment programme; ``field`` names the input."""


def week_start(day: date) -> date:
    """The Monday of ``day``'s week."""
    return day - timedelta(days=day.weekday())


def report_due_on(monday: date, cal: WorkCalendar, working_days: int) -> date:
    """The last day a week's report is on time: ``working_days`` after its Sunday."""
    return cal.add_working_days(monday + timedelta(days=6), working_days)[0]


def scheduled_weeks(start: date, end: date) -> list[date]:
    """Mondays of every week with at least one day of the term ``[start, end]``."""
    weeks = []
    monday = week_start(start)
    while monday <= end:
        weeks.append(monday)
        monday += timedelta(days=7)
    return weeks


@dataclass(frozen=True)
class WeekState:
    """One scheduled week of a cadre and what became of its report."""

    monday: date
    due_on: date
    submitted: bool
    on_time: bool

    @property
    def missing(self) -> bool:
        return not self.submitted

    def overdue(self, today: date) -> bool:
        """No report and the deadline has passed (flagged as missing)."""
        return not self.submitted and today > self.due_on


def validate_report_week(monday: date, today: date, start: date, end: date) -> None:
    """A report must be for a Monday of a week the cadre served, and not a future week."""
    if monday.weekday() != 0:
        raise SecondmentError("周报的周次应从星期一开始", "week_start")
    if monday > week_start(today):
        raise SecondmentError("不能填报未来周次的周报", "week_start")
    if monday + timedelta(days=6) < start or monday > end:
        raise SecondmentError("该周不在挂职期内", "week_start")


def assessment_windows(kind: str, start: date, end: date) -> list[tuple[str, date, date]]:
    """``(key, first day, last day)`` of every assessment window of a term, then ``end``.

    ``kind`` is ``quarterly`` or ``half-yearly``; windows are clipped to the term.
    """
    value = (kind or "").strip().lower()
    if value not in ("quarterly", "half-yearly"):
        raise SecondmentError(f"考核周期“{kind}”无法识别：应为 quarterly 或 half-yearly")
    months = 3 if value == "quarterly" else 6
    out: list[tuple[str, date, date]] = []
    year, first = start.year, ((start.month - 1) // months) * months + 1
    while date(year, first, 1) <= end:
        last_month = first + months - 1
        nxt = date(year + 1, 1, 1) if last_month == 12 else date(year, last_month + 1, 1)
        w_start, w_end = date(year, first, 1), nxt - timedelta(days=1)
        idx = (first - 1) // months + 1
        key = f"{year}-Q{idx}" if months == 3 else f"{year}-H{idx}"
        out.append((key, max(w_start, start), min(w_end, end)))
        year, first = nxt.year, nxt.month
    out.append(("end", end, end))
    return out


def due_assessments(
    kind: str, start: date, end: date, today: date, done: set[str]
) -> list[tuple[str, date, date]]:
    """Windows that have ended by ``today`` with no assessment recorded."""
    return [w for w in assessment_windows(kind, start, end) if w[2] < today and w[0] not in done]


def overlaps(a_start: date, a_end: date, b_start: date, b_end: date) -> bool:
    """Two closed date ranges share a day."""
    return a_start <= b_end and b_start <= a_end
