"""Objects of the team registers for the route walk in test_scope_routes."""

from __future__ import annotations

from datetime import date

from tests.factories import World
from tracker.extensions import db
from tracker.models import Region
from tracker.teams.models import ReserveCadre, ReserveSource, ReserveTrack


def _reserve(world: World, village: Region) -> int:
    reserve = ReserveCadre(
        region_id=village.id,
        name="王宇航",
        source=ReserveSource.graduate,
        track=ReserveTrack.committee,
        entered_on=date(2025, 3, 5),
    )
    db.session.add(reserve)
    db.session.flush()
    return reserve.id


def _case(world: World, village: Region) -> int:
    from tracker.models import VillageCadre
    from tracker.teams.models import Grade
    from tracker.teams.recall import assess_cadre
    from tracker.workdays import WorkCalendar

    cadre = VillageCadre(region_id=village.id, name="张国华", post="委员")
    db.session.add(cadre)
    db.session.flush()
    a = assess_cadre(cadre, 2025, Grade.incompetent, "镇党委", date(2026, 1, 10), WorkCalendar())
    db.session.flush()
    from sqlalchemy import select

    from tracker.teams.models import RecallCase

    return db.session.scalar(select(RecallCase.id).where(RecallCase.assessment_id == a.id))


def _step(world: World, village: Region) -> int:
    from tracker.teams.models import RecallCase

    case = db.session.get(RecallCase, _case(world, village))
    return case.steps[0].id


SCOPE_OBJECTS = {"reserve_id": _reserve, "case_id": _case, "step_id": _step}
