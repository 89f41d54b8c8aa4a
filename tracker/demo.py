"""Demo data: a small Baicheng-like city with a year of plausible ledgers.

``tracker seed-demo`` (and ``make run`` on an empty database) calls
:func:`seed_demo`. The base seed builds the region tree, branches, groups,
members, cadres and demo accounts; each domain adds its own ledgers through the
seeder its ``DOMAIN`` names (:class:`tracker.domain.Domain`), called in the
order of :data:`tracker.domain.PACKAGES` with the same random generator, so
the demo is the same on every machine.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select

from tracker import clock
from tracker.extensions import db
from tracker.models import (
    Branch,
    Gender,
    Member,
    MemberStatus,
    Region,
    RegionLevel,
    Role,
    User,
    VillageCadre,
)
from tracker.org.services import add_member, create_branch, create_group, create_region, create_user
from tracker.workdays import WorkCalendar

DEMO_PASSWORD = "demo-2026!"

TREE = {
    "洮北区": {"平台镇": 5, "德顺蒙古族乡": 5},
    "镇赉县": {"坦途镇": 5, "嘎什根乡": 5},
}
VILLAGE_NAMES = [
    "平安村",
    "红旗村",
    "胜利村",
    "永丰村",
    "新发村",
    "东升村",
    "前进村",
    "长胜村",
    "富强村",
    "兴隆村",
    "太平村",
    "和平村",
    "光明村",
    "幸福村",
    "团结村",
    "民主村",
    "五四村",
    "建设村",
    "友谊村",
    "同心村",
]
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
GIVEN = "国华建军丽娟秀英志强海燕明辉春梅玉兰德胜桂芝红霞文杰晓东淑珍立新永刚凤琴宝山"
CADRE_POSTS = ["党支部书记", "村委会主任", "党支部副书记", "村务监督委员会主任", "妇联主席", "委员"]


# The demo's story: the few villages that fall short, and why. Every other village
# keeps its ledgers on time, enters them in office hours and closes its matters
# in time, so what the county dashboard flags is exactly this list.
STORY: dict[str, frozenset[str]] = {
    # 落后: the Party secretary has been away working since the autumn — no committee,
    # group or general meeting for the last three months, matters left open, and the
    # hall's cameras dark for eight days last month with nobody reporting it.
    "胜利村": frozenset({"secretary_away", "overdue_matters", "dark_camera"}),
    # 落后: a new, overstretched committee — most monthly meetings missed, a general
    # meeting without quorum, several matters open far past their due date.
    # Only one candidate for secretary and three for committee posts in reserve (后备干部
    # below "2+5"); a committee member graded 不称职 whose recall training is overdue.
    # An application handed in seven weeks ago without the talk due within a month (发展党员);
    # its members' posts were not reviewed last half-year, last year's pledges were never
    # rated and nobody visited the linked households last month (duty_lapsed).
    "五四村": frozenset(
        {"missed_meetings", "overdue_matters", "few_reserves", "talk_overdue", "duty_lapsed"}
    ),
    # 需关注: meetings were held, but last month's records were written up in one go
    # just before the township's inspection (补录); one matter open past due, two closed late.
    "东升村": frozenset({"backfill", "one_overdue"}),
    # 需关注: the hall's network link failed for almost two weeks last month (both cameras; the
    # excuse filed was rejected: no report from the operator), and several matters were
    # closed late and entered days afterwards.
    "光明村": frozenset({"dark_camera", "late_matters"}),
}


def office_time(
    day: date, rng: random.Random, calendar: WorkCalendar, not_before: datetime | None = None
) -> datetime:
    """A time in office hours (08:30–17:00 Beijing) on the first working day from ``day``
    that is not before ``not_before`` — when a clerk at the township would type it in."""
    while True:
        while not calendar.is_workday(day):
            day += timedelta(days=1)
        at = datetime.combine(day, time(8, 30), clock.zone()) + timedelta(
            minutes=rng.randint(0, 500)
        )
        if not_before is None or at >= not_before:
            return at.astimezone(UTC)
        if clock.local_date(not_before) == day and clock.local(not_before).time() < time(16, 30):
            return (not_before + timedelta(minutes=rng.randint(10, 30))).astimezone(UTC)
        day += timedelta(days=1)


def entry_time(
    held: date,
    ended: datetime,
    working_days: int,
    rng: random.Random,
    calendar: WorkCalendar,
    now: datetime,
) -> datetime | None:
    """When a record of something held on ``held`` (ended at ``ended``) was typed in:
    ``working_days`` later in office hours — or sooner when that is still to come;
    ``None`` when no office hours lie between the end and ``now`` (held last night, not
    written up yet: the demo has no such record, as the ledger would not)."""
    for delay in (working_days, 0):
        day, _ = calendar.add_working_days(held, delay)
        at = office_time(day, rng, calendar, not_before=ended)
        if at < now:
            return at
    return None


def story(village: Region) -> frozenset[str]:
    """The demo problems of a village (empty for the villages that keep their ledgers)."""
    return STORY.get(village.name, frozenset())


@dataclass
class DemoWorld:
    """What the base seed made, handed to every domain seeder."""

    rng: random.Random
    today: date
    city: Region
    counties: list[Region] = field(default_factory=list)
    townships: list[Region] = field(default_factory=list)
    villages: list[Region] = field(default_factory=list)
    branches: dict[int, Branch] = field(default_factory=dict)  # village id → branch
    users: dict[str, User] = field(default_factory=dict)


Seeder = Callable[[DemoWorld], None]


def database_is_empty() -> bool:
    return not db.session.scalar(select(func.count(Region.id)))


def _person_name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.sample(GIVEN, rng.choice([1, 2])))


def _phone(rng: random.Random) -> str:
    return "1" + rng.choice("3589") + "".join(rng.choice("0123456789") for _ in range(9))


def seed_base(today: date, rng: random.Random) -> DemoWorld:
    city = create_region("白城市", RegionLevel.city, code="220800000000")
    world = DemoWorld(rng=rng, today=today, city=city)
    names = iter(VILLAGE_NAMES)
    start = date(today.year - 1, 1, 1)
    for c_i, (county_name, townships) in enumerate(TREE.items(), start=1):
        county = create_region(county_name, RegionLevel.county, city, code=f"22080{c_i}000000")
        world.counties.append(county)
        for t_i, (town_name, n_villages) in enumerate(townships.items(), start=1):
            town = create_region(
                town_name, RegionLevel.township, county, code=f"22080{c_i}{t_i:03d}000"
            )
            world.townships.append(town)
            for v_i in range(1, n_villages + 1):
                village = create_region(
                    next(names), RegionLevel.village, town, code=f"22080{c_i}{t_i:03d}{v_i:03d}"
                )
                world.villages.append(village)
                world.branches[village.id] = _seed_branch(village, start, rng)
    world.users = _seed_users(world)
    return world


def _seed_branch(village: Region, start: date, rng: random.Random) -> Branch:
    branch = create_branch(village, founded_on=date(1998, 7, 1))
    branch.tracked_from = start
    groups = [create_group(branch, f"第{n}党小组", created_on=start) for n in ("一", "二", "三")]
    for _ in range(rng.randint(14, 26)):
        status = MemberStatus.probationary if rng.random() < 0.08 else MemberStatus.full
        joined = date(rng.randint(1975, 2024), rng.randint(1, 12), rng.randint(1, 28))
        if status == MemberStatus.probationary:
            joined = start + timedelta(days=rng.randint(0, 300))
        add_member(
            branch,
            _person_name(rng),
            status=status,
            group=rng.choice(groups),
            gender=rng.choice([Gender.male, Gender.male, Gender.female]),
            birth_year=rng.randint(1950, 1998),
            phone=_phone(rng),
            joined_on=joined,
        )
    members = db.session.scalars(select(Member).where(Member.branch_id == branch.id)).all()
    for post, member in zip(CADRE_POSTS[:4], rng.sample(list(members), 4), strict=True):
        db.session.add(
            VillageCadre(
                region_id=village.id,
                member_id=member.id,
                name=member.name,
                post=post,
                phone=member.phone,
                since=date(2021, 1, 15),
            )
        )
    return branch


def _seed_users(world: DemoWorld) -> dict[str, User]:
    t0, t1 = world.townships[0], world.townships[1]
    specs = [
        ("admin", "市委组织部管理员", Role.admin, world.city),
        ("county", "洮北区组织部", Role.viewer, world.counties[0]),
        ("county_admin", "洮北区管理员", Role.admin, world.counties[0]),
        ("town", f"{t0.name}党建办", Role.editor, t0),
        ("town2", f"{t1.name}党建办", Role.editor, t1),
        ("village", f"{world.villages[0].name}文书", Role.editor, world.villages[0]),
    ]
    return {
        username: create_user(username, DEMO_PASSWORD, role, region, display_name=name)
        for username, name, role, region in specs
    }


def seed_demo(today: date | None = None, seed: int = 2026) -> DemoWorld:
    """Seed the whole demo (base + every domain). The caller commits."""
    from tracker.domain import import_models, loaded

    import_models()
    rng = random.Random(seed)
    world = seed_base(today or clock.today(), rng)
    fn: Seeder
    for fn in loaded("seeder"):
        fn(world)
        db.session.flush()
    return world


DEMO_LOGINS = [
    ("admin", "市级管理员：全市、管理用户"),
    ("county", "洮北区查看者：全区只读"),
    ("town", "平台镇录入员：录入本镇台账"),
    ("village", "平安村录入员：本村台账与服务登记"),
]
