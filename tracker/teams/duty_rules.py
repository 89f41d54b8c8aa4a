"""Pure rules of the post and pledge registers: half-years, contact windows, deadlines.

No database, no Flask: values in, values out (tested without either).

- A post holder (设岗定责) is reviewed once per half-year (上半年 1 January – 30 June,
  下半年 1 July – 31 December); the review is due ``post_review_working_days``
  working days after the half-year ends.
- A year's pledges are rated (评诺) by ``pledge_rating_working_days`` working days
  after 31 December.
- A linked household (联户) needs a counting contact in every window of the
  configured frequency (``monthly`` by default: a visit a month) during which the
  link existed.
"""

from __future__ import annotations

from calendar import monthrange
from datetime import date, timedelta

from tracker.workdays import WorkCalendar

HALF_LABELS = {1: "上半年", 2: "下半年"}


def half_of(day: date) -> tuple[int, int]:
    """``(year, half)`` of a day."""
    return day.year, 1 if day.month <= 6 else 2


def half_bounds(year: int, half: int) -> tuple[date, date]:
    """First and last day of a half-year."""
    if half == 1:
        return date(year, 1, 1), date(year, 6, 30)
    return date(year, 7, 1), date(year, 12, 31)


def halves_between(start: date, end: date) -> list[tuple[int, int]]:
    """Every half-year that overlaps ``[start, end]``, in order."""
    out: list[tuple[int, int]] = []
    y, h = half_of(start)
    while half_bounds(y, h)[0] <= end:
        out.append((y, h))
        y, h = (y, 2) if h == 1 else (y + 1, 1)
    return out


def deadline_after(day: date, working_days: int, cal: WorkCalendar) -> date:
    """The day ``working_days`` working days after ``day`` (``day`` itself for 0)."""
    if working_days <= 0:
        return day
    due, _official = cal.add_working_days(day, working_days)
    return due


def review_deadline(year: int, half: int, working_days: int, cal: WorkCalendar) -> date:
    return deadline_after(half_bounds(year, half)[1], working_days, cal)


def rating_deadline(year: int, working_days: int, cal: WorkCalendar) -> date:
    return deadline_after(date(year, 12, 31), working_days, cal)


def window_kind(frequency: str) -> str | None:
    """``monthly`` / ``quarterly`` / ``yearly`` (``yearly:Q4`` is yearly), or ``None`` (off)."""
    f = frequency.lower()
    if f in ("none", "off"):
        return None
    return f.split(":")[0]


def window_of(day: date, kind: str) -> tuple[date, date]:
    """The contact window holding ``day``."""
    if kind == "monthly":
        return day.replace(day=1), day.replace(day=monthrange(day.year, day.month)[1])
    if kind == "quarterly":
        first = 3 * ((day.month - 1) // 3) + 1
        last = first + 2
        return date(day.year, first, 1), date(day.year, last, monthrange(day.year, last)[1])
    return date(day.year, 1, 1), date(day.year, 12, 31)


def windows_between(start: date, end: date, kind: str) -> list[tuple[date, date]]:
    """Every window of ``kind`` that overlaps ``[start, end]``."""
    out: list[tuple[date, date]] = []
    day = start
    while day <= end:
        w = window_of(day, kind)
        out.append(w)
        day = w[1] + timedelta(days=1)
    return out


def judged(deadline: date, cutoff: date, today: date) -> bool:
    """A deadline is judged once it has passed: on or before the cut-off and before today."""
    return deadline <= cutoff and deadline < today
