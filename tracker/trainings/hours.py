"""Per-person training hours per year (党员、村干部年度参训学时).

A member's hours are the class hours of the (not deleted) trainings of the register
whose attendance list names them, in the year of ``held_on``. A village cadre's hours
are those of the roster member the cadre is linked to; a cadre without a roster link
has none recorded (shown as such, not as 0 hours attended).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select

from tracker.extensions import db
from tracker.trainings.models import Training, TrainingAttendee


@dataclass(frozen=True)
class PersonHours:
    sessions: int
    hours: Decimal


def member_hours(member_ids: Iterable[int], year: int) -> Mapping[int, PersonHours]:
    """Sessions and class hours per member in ``year``, with ONE grouped query."""
    ids = list(member_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        select(TrainingAttendee.member_id, func.count(), func.sum(Training.hours))
        .join(Training, Training.id == TrainingAttendee.training_id)
        .where(
            TrainingAttendee.member_id.in_(ids),
            Training.deleted_at.is_(None),
            Training.held_on >= date(year, 1, 1),
            Training.held_on <= date(year, 12, 31),
        )
        .group_by(TrainingAttendee.member_id)
    ).all()
    found = {
        mid: PersonHours(n, Decimal(str(h or 0)).quantize(Decimal("0.1"))) for mid, n, h in rows
    }
    return {mid: found.get(mid, PersonHours(0, Decimal("0.0"))) for mid in ids}
