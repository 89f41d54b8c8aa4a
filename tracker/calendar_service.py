"""Loads the working-day calendar with the admin overrides from the database."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from tracker.extensions import db
from tracker.models import CalendarOverride
from tracker.workdays import WorkCalendar

# The calendar built from the override rows last read: a request whose rows are the
# same gets the same value, with the running counts of working days it already built
# (one small query per request either way, so an admin's change shows at once).
_last: tuple[tuple[tuple[date, bool], ...], WorkCalendar] | None = None


def load_calendar() -> WorkCalendar:
    """The calendar in force: package, then the admin's overrides, then Mon–Fri."""
    global _last
    rows = tuple(
        (r[0], bool(r[1]))
        for r in db.session.execute(
            select(CalendarOverride.day, CalendarOverride.is_workday).order_by(CalendarOverride.day)
        )
    )
    cached = _last
    if cached is not None and cached[0] == rows:
        return cached[1]
    calendar = WorkCalendar.from_rows(rows)
    _last = (rows, calendar)
    return calendar
