"""The demo city seeds cleanly and its organisation data is what the pages need."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from tracker.models import Member, Region, VillageCadre


@pytest.fixture(autouse=True)
def _cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2 at its production cost takes most of a second per user; tests need no such cost."""
    from argon2 import PasswordHasher

    from tracker import security

    monkeypatch.setattr(
        security, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )


@pytest.mark.slow
def test_demo_has_reserve_cadres_departures_and_a_village_to_fill(db):
    from tracker.demo import seed_demo
    from tracker.org.home import villages_without_branch
    from tracker.scope import Scope

    world = seed_demo(date(2026, 11, 20))
    db.session.flush()
    reserves = db.session.scalar(
        select(func.count(VillageCadre.id)).where(VillageCadre.reserve.is_(True))
    )
    assert reserves == 2 * len(world.villages)
    assert db.session.scalar(select(func.count(Member.id)).where(Member.left_on.is_not(None)))
    admin = world.users["admin"]
    missing = villages_without_branch(Scope.for_user(admin))
    assert [r.name for r in missing] == ["新建村"]
    assert db.session.scalar(select(Region).where(Region.name == "新建村")).parent_id
