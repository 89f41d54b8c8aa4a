"""Demo data of the organisation: reserve cadres (后备干部, the "2+5" register),
a retired cadre, members who left, and one village whose roster is still to be
imported — so the roster filters, the cadre register and the admin's to-dos
have something to show.

:func:`seed_member_facts` adds the dated facts that make the roster differ by
date (党员状态记录): probationary members made full (转正) when their year was
up, mobile members (流动党员) away in the cities (some back again), and members
transferred in (组织关系转入) a few months ago — so "截至日期" on the roster, the
meetings' quorum and the dues ledger have a history to answer from.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from sqlalchemy import select

from tracker.demo import DemoWorld
from tracker.extensions import db
from tracker.models import Member, MemberStatus
from tracker.org.models import FactKind
from tracker.org.services import (
    CadreData,
    FactData,
    add_cadre,
    append_fact,
    create_child_region,
    member_leaves,
)

CITIES = [
    ("长春市", "长春市朝阳区流动党员党支部"),
    ("大连市", "大连市甘井子区流动党员党支部"),
    ("北京市", "北京市大兴区非公企业联合党委"),
    ("天津市", "天津市滨海新区流动党员服务站"),
]
INCOMING = ["孙立新", "曹玉兰", "袁德胜", "邓春梅", "许晓东", "傅淑珍"]


def seed_org(world: DemoWorld) -> None:
    """Reserve cadres in every village, a few departures, one empty village."""
    rng = world.rng
    for village in world.villages:
        branch = world.branches[village.id]
        members = list(
            db.session.scalars(select(Member).where(Member.branch_id == branch.id)).all()
        )
        young = sorted(members, key=lambda m: -(m.birth_year or 0))[:2]
        for member in young:
            add_cadre(
                village,
                CadreData(
                    name=member.name,
                    post="后备干部",
                    phone=member.phone,
                    since=date(world.today.year - 1, 3, 1),
                    reserve=True,
                    member_id=member.id,
                ),
            )
        if rng.random() < 0.4:
            leaver = rng.choice(members)
            day = world.today - timedelta(days=rng.randint(20, 200))
            if not leaver.joined_on or leaver.joined_on < day:
                member_leaves(leaver, day, "组织关系转出", kind=FactKind.transfer_out)
    seed_member_facts(world)
    # A village added this year whose roster still sits in an Excel sheet.
    create_child_region(world.townships[-1], "新建村")


def seed_member_facts(world: DemoWorld) -> None:
    """转正 when the probation year is up, 流动党员 away (and back), 组织关系转入.

    Its own random generator: the other seeders' sequence stays the same.
    """
    rng = random.Random(14_014)
    today = world.today
    for i, village in enumerate(world.villages):
        branch = world.branches[village.id]
        members = list(
            db.session.scalars(
                select(Member)
                .where(Member.branch_id == branch.id, Member.left_on.is_(None))
                .order_by(Member.id)
            ).all()
        )
        for m in members:
            if m.status != MemberStatus.probationary or m.joined_on is None:
                continue
            due = m.joined_on.replace(year=m.joined_on.year + 1)
            if due + timedelta(days=7) <= today:
                append_fact(
                    m,
                    FactData(
                        kind=FactKind.full,
                        on=due + timedelta(days=rng.randint(0, 6)),
                        note="支部党员大会讨论通过，按期转正",
                    ),
                )
        full = [m for m in members if m.status == MemberStatus.full]
        if i % 3 == 0 and len(full) > 4:
            for m in rng.sample(full, 2):
                place, org = rng.choice(CITIES)
                since = today - timedelta(days=rng.randint(60, 300))
                back = since + timedelta(days=rng.randint(30, 120))
                append_fact(
                    m,
                    FactData(
                        kind=FactKind.away,
                        on=since,
                        until=back if back < today and rng.random() < 0.5 else None,
                        place=place,
                        org=org,
                        note="外出务工，定期线上参加组织生活",
                    ),
                )
        if i % 4 == 1:
            day = today - timedelta(days=rng.randint(90, 240))
            newcomer = Member(
                branch_id=branch.id,
                region_id=village.id,
                name=INCOMING[(i // 4) % len(INCOMING)],
                birth_year=rng.randint(1970, 1995),
                joined_on=date(rng.randint(2000, 2020), rng.randint(1, 12), 1),
                group_id=members[0].group_id if members else None,
            )
            db.session.add(newcomer)
            db.session.flush()
            append_fact(
                newcomer,
                FactData(
                    kind=FactKind.transfer_in,
                    on=day,
                    status=MemberStatus.full,
                    org="洮南市某村党支部",
                    letter_no=f"吉组转〔{day.year}〕{rng.randint(10, 99)}号",
                    note="返乡创业，组织关系转入",
                ),
            )
