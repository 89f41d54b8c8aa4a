"""Objects of the farmer-training, resident-service and post-vacancy registers for the
route walk in test_scope_routes (created in the village the walk asks for)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select

from tests.factories import World
from tracker.extensions import db
from tracker.halls import services as halls
from tracker.halls.models import ActivityUnit, ResidentKind, ResidentService, ServiceHall
from tracker.models import Region, VillageCadre
from tracker.teams.models import PostVacancy, VacancyCause
from tracker.trainings.models import ConcentratedTraining, FarmerTraining


def _farmer(world: World, village: Region) -> int:
    row = FarmerTraining(
        region_id=village.id,
        topic="技能",
        title="种植技术",
        held_on=date(2026, 3, 5),
        hours=Decimal("2"),
        place="村部",
        trainee_count=10,
    )
    db.session.add(row)
    db.session.flush()
    return row.id


def _concentrated(world: World, village: Region) -> int:
    row = ConcentratedTraining(
        region_id=village.id,
        title="集中轮训",
        held_on=date(2026, 3, 5),
        hours=Decimal("8"),
        place="镇党校",
        participants=20,
    )
    db.session.add(row)
    db.session.flush()
    return row.id


def _resident(world: World, village: Region) -> int:
    hall = db.session.scalar(select(ServiceHall).where(ServiceHall.region_id == village.id))
    if hall is None:
        hall = halls.create_hall(village, halls.HallData(name="便民服务中心"))
    row = ResidentService(
        hall_id=hall.id,
        region_id=village.id,
        kind=ResidentKind.postal,
        name="物流服务站",
        provider="邮政",
        since=date(2025, 1, 1),
        unit=ActivityUnit.transactions,
    )
    db.session.add(row)
    db.session.flush()
    return row.id


def _vacancy(world: World, village: Region) -> int:
    cadre = VillageCadre(region_id=village.id, name="离任干部", post="委员", since=date(2020, 1, 1))
    db.session.add(cadre)
    db.session.flush()
    cadre.until = date(2026, 1, 5)
    row = PostVacancy(
        region_id=village.id,
        post="委员",
        previous_cadre_id=cadre.id,
        cause=VacancyCause.resigned,
        reason="辞职",
        vacated_on=date(2026, 1, 5),
        due_on=date(2026, 2, 13),
    )
    db.session.add(row)
    db.session.flush()
    return row.id


SCOPE_OBJECTS = {
    "farmer_training_id": _farmer,
    "concentrated_training_id": _concentrated,
    "resident_service_id": _resident,
    "post_vacancy_id": _vacancy,
}
