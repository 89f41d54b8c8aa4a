"""The flood limit of the pages open without an account (tracker.public_pages): one count
per page and sender, in the database, by a keyed hash — never the address itself."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select, update

from tracker.models import PublicHit
from tracker.models.base import utcnow
from tracker.public_pages import over_limit, sender_hash


def test_each_page_counts_its_own_requests_per_sender(app: Any, db: Any) -> None:
    with app.test_request_context(environ_base={"REMOTE_ADDR": "203.0.113.7"}):
        assert [over_limit("page_a", 2) for _ in range(4)] == [False, False, True, True]
        assert over_limit("page_b", 2) is False  # another page, its own count
    with app.test_request_context(environ_base={"REMOTE_ADDR": "203.0.113.8"}):
        assert over_limit("page_a", 2) is False  # another sender
    stored = db.session.scalars(select(PublicHit.sender_hash)).all()
    assert len(stored) == 6 and len(set(stored)) == 2
    assert all("203.0.113" not in h and len(h) == 64 for h in stored)


def test_the_hash_is_keyed_and_old_rows_go(app: Any, db: Any) -> None:
    with app.test_request_context(environ_base={"REMOTE_ADDR": "198.51.100.1"}):
        mine = sender_hash()
        over_limit("page_a", 5)
    other_key = app.config["SECRET_KEY"]
    app.config["SECRET_KEY"] = other_key + "-rotated"
    try:
        with app.test_request_context(environ_base={"REMOTE_ADDR": "198.51.100.1"}):
            assert sender_hash() != mine  # not a plain hash of the address
    finally:
        app.config["SECRET_KEY"] = other_key
    db.session.execute(update(PublicHit).values(at=utcnow() - timedelta(days=2)))
    with app.test_request_context(environ_base={"REMOTE_ADDR": "198.51.100.1"}):
        assert over_limit("page_a", 1) is False  # the old row neither counts nor stays
    assert db.session.scalars(select(PublicHit.sender_hash)).all() == [mine]
