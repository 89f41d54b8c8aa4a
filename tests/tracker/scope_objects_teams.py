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


SCOPE_OBJECTS = {"reserve_id": _reserve}
