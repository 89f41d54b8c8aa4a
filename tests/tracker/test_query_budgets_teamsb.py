"""Query budgets of the farmer-training, concentrated-training, per-person hours,
resident-service and post-vacancy lists: the same statements for a few rows and for many."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest

from tests.factories import World, add_member, unique
from tracker import clock
from tracker.extensions import db
from tracker.halls import resident
from tracker.halls import services as halls
from tracker.halls.models import ActivityUnit, ResidentKind
from tracker.models import MemberStatus, VillageCadre
from tracker.teams.models import Grade, ReserveSource, ReserveTrack, VacancyCause
from tracker.teams.posts import fill_vacancy, vacate_post
from tracker.teams.recall import assess_cadre
from tracker.teams.services import ReserveInput, create_reserve
from tracker.trainings.concentrated import ConcentratedInput, create_concentrated
from tracker.trainings.farmers import FarmerInput, TraineeInput, create_farmer_training
from tracker.trainings.models import TrainingKind
from tracker.trainings.services import TrainingInput, create_training
from tracker.workdays import WorkCalendar


def grow(world: World, n: int) -> None:
    village = world.village_a1a
    today = clock.today()
    hall = halls.create_hall(village, halls.HallData(name=unique("大厅")))
    for i in range(n):
        create_farmer_training(
            village,
            FarmerInput(
                topic="技能",
                title="种植技术",
                held_on=today - timedelta(days=i % 20),
                hours="2",
                place="村部",
                trainee_count=3,
                trainees=[TraineeInput(unique("村民"), "13900001111")],
            ),
            None,
        )
        create_concentrated(
            world.town_a1,
            ConcentratedInput(
                "轮训", today - timedelta(days=i % 20), "2", "镇党校", participants=5
            ),
            None,
        )
        member = add_member(
            world.branch(village),
            unique("党员"),
            status=MemberStatus.full,
            joined_on=date(2012, 1, 1),
        )
        create_training(
            world.branch(village),
            TrainingInput(
                kind=TrainingKind.party_education,
                title="学习",
                held_on=today - timedelta(days=1),
                hours="1",
                place="活动室",
                attendee_ids=[member.id],
            ),
            None,
            WorkCalendar(),
        )
        db.session.add(
            VillageCadre(
                region_id=village.id, name=unique("干部"), post="委员", member_id=member.id
            )
        )
        service = resident.create_service(
            hall,
            resident.ResidentInput(
                kind=ResidentKind.ecommerce,
                name=unique("服务"),
                provider="电商中心",
                since=today - timedelta(days=90),
                unit=ActivityUnit.visits,
            ),
        )
        resident.record_activity(service, today.replace(day=1), 5)
        cadre = VillageCadre(
            region_id=village.id, name=unique("离任"), post="委员", since=date(2020, 1, 1)
        )
        db.session.add(cadre)
        db.session.flush()
        vac = vacate_post(cadre, today, VacancyCause.resigned, "辞职", WorkCalendar())
        reserve = create_reserve(
            village,
            ReserveInput(
                name=unique("后备"),
                source=ReserveSource.farmer,
                track=ReserveTrack.committee,
                entered_on=today - timedelta(days=30),
            ),
        )
        fill_vacancy(vac, today, reserve=reserve)
        assess_cadre(cadre, today.year - 1, Grade.incompetent, "镇党委", today, WorkCalendar())
    db.session.commit()


CASES: list[tuple[str, str, int]] = [
    ("/trainings/v/{w.village_a1a.id}/farmers", "town_a1_editor", 12),
    ("/trainings/v/{w.village_a1a.id}/farmers.xlsx", "town_a1_editor", 9),
    ("/api/v1/farmer-trainings?village_id={w.village_a1a.id}", "town_a1_editor", 9),
    ("/trainings/concentrated", "city_admin", 9),
    ("/api/v1/concentrated-trainings?year={year}", "city_admin", 8),
    ("/trainings/v/{w.village_a1a.id}/hours", "town_a1_editor", 11),
    ("/trainings/v/{w.village_a1a.id}/hours.xlsx", "town_a1_editor", 10),
    ("/api/v1/training-hours?village_id={w.village_a1a.id}&year={year}", "town_a1_editor", 9),
    ("/halls/services.xlsx", "city_admin", 9),
    ("/api/v1/hall-services", "city_admin", 8),
    ("/teams/vacancies", "city_admin", 11),
    ("/teams/cadre-posts/v/{w.village_a1a.id}", "town_a1_editor", 12),
    ("/api/v1/post-vacancies", "city_admin", 9),
    ("/teams/recalls/export.xlsx?region_id={w.county_a.id}", "city_admin", 10),
    ("/teams/recalls/print?region_id={w.county_a.id}", "city_admin", 10),
    ("/api/v1/recall-cases", "city_admin", 9),
]


@pytest.mark.parametrize(("url", "user", "budget"), CASES, ids=[c[0] for c in CASES])
def test_list_runs_the_same_statements_at_two_sizes(
    url: str,
    user: str,
    budget: int,
    world: World,
    db: Any,
    login: Callable[[Any], Any],
    assert_max_queries: Any,
) -> None:
    db.session.commit()
    target = url.format(w=world, year=clock.today().year)
    client = login(world.users[user])
    logs = []
    for n in (1, 4):
        grow(world, n)
        client.get(target)
        with assert_max_queries(budget) as log:
            resp = client.get(target)
        assert resp.status_code == 200, (target, resp.status_code)
        logs.append(log)
    small, large = logs
    assert small.count == large.count, (
        f"{target}: {small.count} → {large.count} statements:\n{large.report()}"
    )
