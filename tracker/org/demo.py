"""Demo data of the organisation: reserve cadres (后备干部, the "2+5" register),
a retired cadre, members who left, and one village whose roster is still to be
imported — so the roster filters, the cadre register and the admin's to-dos
have something to show."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from tracker.demo import DemoWorld
from tracker.extensions import db
from tracker.models import Member
from tracker.org.models import FactKind
from tracker.org.services import CadreData, add_cadre, create_child_region, member_leaves


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
    # A village added this year whose roster still sits in an Excel sheet.
    create_child_region(world.townships[-1], "新建村")
