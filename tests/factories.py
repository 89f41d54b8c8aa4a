"""Test data factories: small, explicit and deterministic."""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass, field
from datetime import date, timedelta

from tracker.extensions import db
from tracker.models import Branch, Member, MemberStatus, PartyGroup, Region, RegionLevel, Role, User
from tracker.org.services import add_member, create_branch, create_group, create_region
from tracker.security import hash_password

PASSWORD = "correct-horse-9"
_seq = itertools.count(1)


def unique(prefix: str) -> str:
    return f"{prefix}{next(_seq)}"


def on_test_day(change: dict) -> dict:
    """Resolve the day offsets (``timedelta``) of a parametrized change to dates.

    A parameter list is built at collection time, minutes before the test
    runs; a run that crosses midnight in the configured zone (16:00 UTC for
    Asia/Shanghai) would test "tomorrow" against a today that has become it.
    Offsets are resolved when the test runs, against the ``clock.today()`` the
    code reads.
    """
    from tracker import clock

    today = clock.today()
    return {k: today + v if isinstance(v, timedelta) else v for k, v in change.items()}


@dataclass
class World:
    """city → county A (township A1: villages A1a, A1b; township A2: village A2a)
    → county B (township B1: village B1a); one branch per village; users per role."""

    city: Region
    county_a: Region
    county_b: Region
    town_a1: Region
    town_a2: Region
    town_b1: Region
    village_a1a: Region
    village_a1b: Region
    village_a2a: Region
    village_b1a: Region
    branches: dict[int, Branch] = field(default_factory=dict)
    groups: dict[int, list[PartyGroup]] = field(default_factory=dict)
    members: dict[int, list[Member]] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)

    def branch(self, village: Region) -> Branch:
        return self.branches[village.id]


@functools.cache
def _password_hash() -> str:
    # argon2 is deliberately slow; hash the shared test password once per run.
    return hash_password(PASSWORD)


def make_user(role: Role, region: Region, username: str | None = None) -> User:
    """A user with the test password (same rules as ``create_user``, one hash per run)."""
    name = username or unique(f"{role.value}_")
    user = User(
        username=name,
        display_name=name,
        password_hash=_password_hash(),
        role=role,
        region_id=region.id,
    )
    db.session.add(user)
    db.session.flush()
    return user


def build_world() -> World:
    city = create_region(unique("市"), RegionLevel.city)
    county_a = create_region("县甲", RegionLevel.county, city)
    county_b = create_region("县乙", RegionLevel.county, city)
    town_a1 = create_region("镇甲一", RegionLevel.township, county_a)
    town_a2 = create_region("镇甲二", RegionLevel.township, county_a)
    town_b1 = create_region("镇乙一", RegionLevel.township, county_b)
    w = World(
        city=city,
        county_a=county_a,
        county_b=county_b,
        town_a1=town_a1,
        town_a2=town_a2,
        town_b1=town_b1,
        village_a1a=create_region("村甲一甲", RegionLevel.village, town_a1),
        village_a1b=create_region("村甲一乙", RegionLevel.village, town_a1),
        village_a2a=create_region("村甲二甲", RegionLevel.village, town_a2),
        village_b1a=create_region("村乙一甲", RegionLevel.village, town_b1),
    )
    for village in (w.village_a1a, w.village_a1b, w.village_a2a, w.village_b1a):
        branch = create_branch(village, founded_on=date(2000, 1, 1))
        branch.tracked_from = date(2025, 1, 1)
        groups = [
            create_group(branch, "第一党小组", date(2025, 1, 1)),
            create_group(branch, "第二党小组", date(2025, 1, 1)),
        ]
        members = []
        for i in range(6):
            status = MemberStatus.probationary if i == 5 else MemberStatus.full
            members.append(
                add_member(
                    branch,
                    f"{village.name}党员{i + 1}",
                    status=status,
                    group=groups[i % 2],
                    joined_on=date(2010, 1, 1),
                    phone="13800001234",
                )
            )
        w.branches[village.id] = branch
        w.groups[village.id] = groups
        w.members[village.id] = members
    w.users = {
        "city_admin": make_user(Role.admin, city),
        "county_a_admin": make_user(Role.admin, county_a),
        "county_a_viewer": make_user(Role.viewer, county_a),
        "town_a1_editor": make_user(Role.editor, town_a1),
        "town_a2_editor": make_user(Role.editor, town_a2),
        "town_b1_editor": make_user(Role.editor, town_b1),
        "village_a1a_editor": make_user(Role.editor, w.village_a1a),
    }
    return w
