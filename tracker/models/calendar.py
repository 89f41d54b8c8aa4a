"""工作日 working-day overrides entered by an admin (for years the official package lacks)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from tracker.models.base import Base, audited, utcnow


@audited
class CalendarOverride(Base):
    """An admin's ruling on one day: a working day or not, with a note (e.g. "2027 春节")."""

    __tablename__ = "calendar_override"

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(unique=True)
    is_workday: Mapped[bool]
    note: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
