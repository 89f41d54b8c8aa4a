"""Objects of the secondment programme for the route walk in test_scope_routes."""

from __future__ import annotations

from tests.factories import World
from tests.tracker.secondment_helpers import seconded
from tracker.extensions import db
from tracker.models import Region
from tracker.secondment.models import Secondment
from tracker.secondment.services import file_complaint


def _secondment(world: World, village: Region) -> int:
    found = db.session.query(Secondment.id).filter(Secondment.region_id == village.id).first()
    return found[0] if found else seconded(world, village, name=f"挂职{village.id}").id


def _complaint(world: World, village: Region) -> int:
    s = db.session.get(Secondment, _secondment(world, village))
    assert s is not None
    return file_complaint(s, "反映情况").id


SCOPE_OBJECTS = {"secondment_id": _secondment, "complaint_id": _complaint}


def _batch(world: World, village: Region) -> int:
    return db.session.get(Secondment, _secondment(world, village)).batch_id  # type: ignore[union-attr]


def _candidate(world: World, village: Region) -> int:
    return db.session.get(Secondment, _secondment(world, village)).candidate_id  # type: ignore[union-attr]


SCOPE_OBJECTS.update({"batch_id": _batch, "candidate_id": _candidate})
