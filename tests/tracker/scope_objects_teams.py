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


# -- 设岗定责 and 一诺三联四帮 (tracker.teams.duty_models) ---------------------------------


def _county_post(village: Region) -> int:
    from tracker.teams.duty_posts import PostInput, catalog, county_of, create_post

    county = county_of(village)
    existing = [p for p in catalog(county) if p.name == "政策宣传岗"]
    if existing:
        return existing[0].id
    return create_post(county, PostInput("思想政治", "政策宣传岗", "宣传惠农政策")).id


def _post(world: World, village: Region) -> int:
    return _county_post(village)


def _assignment(world: World, village: Region) -> int:
    from tracker.teams.duty_models import PostAssignment

    member = world.members[village.id][4]
    a = PostAssignment(
        region_id=village.id,
        member_id=member.id,
        post_id=_county_post(village),
        started_on=date(2025, 3, 1),
    )
    db.session.add(a)
    db.session.flush()
    return a.id


def _link(world: World, village: Region) -> int:
    from tracker.teams.duty_models import HouseholdLink

    link = HouseholdLink(
        region_id=village.id,
        member_id=world.members[village.id][0].id,
        head="王大山",
        address="三组 12 号",
        phone="13912345678",
        since=date(2025, 3, 1),
    )
    db.session.add(link)
    db.session.flush()
    return link.id


SCOPE_OBJECTS.update({"post_id": _post, "assignment_id": _assignment, "link_id": _link})
