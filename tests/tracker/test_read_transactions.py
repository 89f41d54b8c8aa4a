"""How a read request's transaction begins (``tracker.transactions``).

On PostgreSQL a GET runs without a transaction (no ``BEGIN``, no ``ROLLBACK``
round trip) until its first statement that writes or locks; from there it is an
ordinary transaction: rolled back as a whole, committed as a whole, its data
versions bumped inside it. On SQLite a GET keeps its deferred read transaction.

These tests use an app of their own, not the per-test transaction of the ``db``
fixture (a connection inside a transaction cannot be in autocommit): what the
routes write they roll back, or delete again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask, jsonify
from sqlalchemy import create_engine, delete, insert, select, text

from tests.conftest import TEST_DB_URL

ON_POSTGRES = TEST_DB_URL.startswith("postgresql")
SENDER = "test_read_transactions"


def _state() -> dict[str, Any]:
    """The request session's connection: the driver's autocommit, and whether a
    transaction is open on the server (psycopg) or in the file (sqlite3)."""
    from tracker.extensions import db

    dbapi: Any = db.session.connection().connection.dbapi_connection
    if ON_POSTGRES:
        from psycopg.pq import TransactionStatus

        return {
            "autocommit": dbapi.autocommit,
            "open": dbapi.pgconn.transaction_status != TransactionStatus.IDLE,
        }
    return {"autocommit": False, "open": dbapi.in_transaction}


@pytest.fixture
def probe_app(app_factory: Callable[..., Flask]) -> Iterator[Flask]:
    from tracker.extensions import db
    from tracker.models import PublicHit

    app = app_factory()

    def hit() -> Any:
        return insert(PublicHit).values(page="probe", sender_hash=SENDER, at=datetime.now(UTC))

    @app.get("/_probe/read")
    def read() -> Any:
        db.session.execute(select(PublicHit.id).limit(1)).all()
        first = _state()
        db.session.execute(text("SELECT 1")).scalar()
        return jsonify(first=first, second=_state())

    @app.get("/_probe/write-then-rollback")
    def write_then_rollback() -> Any:
        db.session.execute(select(PublicHit.id).limit(1)).all()
        before = _state()
        db.session.execute(hit())
        after = _state()
        db.session.rollback()
        return jsonify(before=before, after=after)

    @app.get("/_probe/lock")
    def lock() -> Any:
        db.session.execute(select(PublicHit.id).limit(1).with_for_update()).all()
        return jsonify(after=_state())

    @app.get("/_probe/write-and-commit")
    def write_and_commit() -> Any:
        db.session.execute(hit())
        db.session.commit()
        return jsonify(after=_state())

    try:
        yield app
    finally:
        engine = create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
        with engine.begin() as conn:
            conn.execute(delete(PublicHit).where(PublicHit.sender_hash == SENDER))
        engine.dispose()
        with app.app_context():
            db.engine.dispose()


def _hits(app: Flask) -> int:
    from tracker.models import PublicHit

    engine = create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    with engine.connect() as conn:
        n = conn.execute(select(PublicHit.id).where(PublicHit.sender_hash == SENDER)).all()
    engine.dispose()
    return len(n)


def _version(app: Flask, table: str) -> int:
    engine = create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    with engine.connect() as conn:
        n = conn.execute(
            text("SELECT n FROM data_version WHERE table_name = :t"), {"t": table}
        ).scalar()
    engine.dispose()
    return int(n or 0)


def test_a_read_request_opens_no_transaction_on_postgres_and_keeps_one_on_sqlite(
    probe_app: Flask,
) -> None:
    answer = probe_app.test_client().get("/_probe/read").get_json()
    if ON_POSTGRES:
        # no BEGIN was sent: the server sees no open transaction between statements
        assert answer == {
            "first": {"autocommit": True, "open": False},
            "second": {"autocommit": True, "open": False},
        }
    else:
        assert answer["first"]["open"] and answer["second"]["open"]


def test_a_write_in_a_read_request_runs_in_a_transaction_a_rollback_undoes(
    probe_app: Flask,
) -> None:
    answer = probe_app.test_client().get("/_probe/write-then-rollback").get_json()
    assert answer["after"]["open"] is True
    assert answer["after"]["autocommit"] is False
    if ON_POSTGRES:
        assert answer["before"] == {"autocommit": True, "open": False}
    assert _hits(probe_app) == 0  # in autocommit the INSERT would have stayed


def test_select_for_update_in_a_read_request_holds_its_lock_in_a_transaction(
    probe_app: Flask,
) -> None:
    answer = probe_app.test_client().get("/_probe/lock").get_json()
    assert answer["after"]["open"] is True  # the lock lasts until the end of the transaction


def test_a_write_committed_by_a_read_request_bumps_its_data_version(probe_app: Flask) -> None:
    before = _version(probe_app, "public_hit")
    answer = probe_app.test_client().get("/_probe/write-and-commit").get_json()
    assert _hits(probe_app) == 1
    assert _version(probe_app, "public_hit") == before + 1
    if ON_POSTGRES:
        # the next statement of the same request is back in autocommit
        assert answer["after"] == {"autocommit": True, "open": False}
    # and the connection went back to the pool in its default mode
    from tracker.extensions import db

    with probe_app.app_context(), db.engine.connect() as conn:
        dbapi: Any = conn.connection.dbapi_connection
        if ON_POSTGRES:
            assert dbapi.autocommit is False


def test_a_writing_request_is_one_transaction_from_its_first_statement(
    probe_app: Flask,
) -> None:
    """POST is untouched: its reads and writes share one transaction (and on SQLite
    it begins with BEGIN IMMEDIATE, ``test_sqlite_concurrency``)."""
    from tracker.extensions import db

    seen: dict[str, Any] = {}

    @probe_app.post("/_probe/post")
    def post() -> Any:
        db.session.execute(text("SELECT 1")).scalar()
        seen.update(_state())
        db.session.rollback()
        return "", 204

    probe_app.config["WTF_CSRF_ENABLED"] = False
    probe_app.test_client().post("/_probe/post")
    assert seen == {"autocommit": False, "open": True}
