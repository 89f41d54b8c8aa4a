"""Loads the working-day calendar with the admin overrides from the database."""

from __future__ import annotations

from sqlalchemy import select

from tracker.extensions import db
from tracker.models import CalendarOverride
from tracker.workdays import WorkCalendar


def load_calendar() -> WorkCalendar:
    """The calendar in force: package, then the admin's overrides, then Mon–Fri."""
    rows = db.session.execute(select(CalendarOverride.day, CalendarOverride.is_workday)).all()
    return WorkCalendar.from_rows((r[0], r[1]) for r in rows)
