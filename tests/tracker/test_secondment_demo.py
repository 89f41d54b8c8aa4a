"""The demo seeds a batch of seconded cadres the programme view can show."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from tracker import clock
from tracker.secondment.models import Candidate, CandidateStatus, Complaint, Secondment


@pytest.fixture(autouse=True)
def _cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    from argon2 import PasswordHasher

    from tracker import security

    monkeypatch.setattr(
        security, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )


@pytest.mark.slow
def test_the_demo_has_a_batch_of_seconded_cadres(db, app):
    from tracker.calendar_service import load_calendar
    from tracker.demo import seed_demo
    from tracker.secondment.figures import programme
    from tracker.secondment.services import sees_identity

    today = date(2026, 11, 20)
    with clock.frozen(today):
        world = seed_demo(today)
        db.session.flush()
        rows = list(db.session.scalars(select(Secondment)))
        assert len(rows) == 7
        assert (
            db.session.scalar(
                select(func.count(Candidate.id)).where(Candidate.status == CandidateStatus.vetoed)
            )
            == 1
        )
        p = programme(rows, date(2026, 1, 1), today, today, load_calendar())
        assert p.reports_received > 0 and p.reports_scheduled > p.reports_received
        assert p.visits > 0 and p.solved + p.reported + p.suggestions > 0
        assert p.outcomes == {"promoted": 1} and p.open_complaints == 1
        assert any(s.user_id == world.users["cadre"].id for s in rows)
        complaint = db.session.scalars(select(Complaint)).first()
        assert complaint is not None
        assert sees_identity(world.users["office"], complaint)
        assert not sees_identity(world.users["admin"], complaint)
