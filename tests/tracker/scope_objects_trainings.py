"""Objects of the trainings register for the route walk in test_scope_routes."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from tests.factories import World
from tracker.extensions import db
from tracker.models import Region
from tracker.trainings.models import Training, TrainingAttendee, TrainingKind


def _training(world: World, village: Region) -> int:
    branch = world.branch(village)
    training = Training(
        branch_id=branch.id,
        region_id=village.id,
        kind=TrainingKind.party_education,
        title="党章学习",
        held_on=date(2026, 3, 5),
        hours=Decimal("2"),
        place="活动室",
    )
    training.attendees = [TrainingAttendee(member_id=world.members[village.id][0].id)]
    db.session.add(training)
    db.session.flush()
    return training.id


SCOPE_OBJECTS = {"training_id": _training}
