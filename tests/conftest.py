"""Shared fixtures, in the style of pallets/flask and pypi/warehouse.

- The database is real: SQLite in a temp dir, or the PostgreSQL named by
  ``TRACKER_TEST_DATABASE_URL``. Migrations (not ``create_all``) build the
  schema once per session.
- Each test runs inside a transaction that is rolled back afterwards
  (``join_transaction_mode="create_savepoint"``): views may commit freely.
- ``world`` builds a small region tree with users of every role; ``login``
  signs a test client in as one of them.
- ``assert_max_queries(n)`` fails a block that ran more than ``n`` SQL
  statements (Zulip's ``assert_database_query_count``): the query budgets.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, has_app_context
from flask.testing import FlaskClient
from flask_sqlalchemy.session import Session as FlaskSQLAlchemySession
from sqlalchemy import create_engine, event, text

from tests.factories import World, build_world

TEST_DB_URL = os.environ.get("TRACKER_TEST_DATABASE_URL", "").strip()


def pytest_report_header(config: pytest.Config) -> str:
    return f"tracker database: {TEST_DB_URL or 'SQLite (temporary file)'}"


@contextlib.contextmanager
def fresh_database(url: str, name: str) -> Iterator[str]:
    """An empty database ``name`` on the PostgreSQL server of ``url`` (any left over by
    an earlier run is dropped first); its URL, dropped again at the end."""
    from sqlalchemy.engine import make_url

    server = make_url(url)
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if os.environ.get("TRACKER_REQUIRE_POSTGRES") and not TEST_DB_URL.startswith("postgresql"):
        pytest.exit(
            "TRACKER_REQUIRE_POSTGRES is set but TRACKER_TEST_DATABASE_URL is not PostgreSQL", 3
        )
    from sqlalchemy.engine import make_url

    from tracker.database import upgrade

    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    with contextlib.ExitStack() as stack:
        if not TEST_DB_URL:
            url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
        elif worker:
            # A database of its own for a pytest-xdist worker: two workers' tests would
            # otherwise wait on each other's row locks (``data_version``) for a whole test.
            name = f"{make_url(TEST_DB_URL).database}_{worker}"
            url = stack.enter_context(fresh_database(TEST_DB_URL, name))
        else:
            url = TEST_DB_URL
        engine = create_engine(url)
        with engine.begin() as conn:
            upgrade(url, connection=conn)
        engine.dispose()
        yield url


@pytest.fixture(scope="session")
def app_factory(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Callable[..., Flask]:
    from tracker import create_app

    uploads = tmp_path_factory.mktemp("uploads")

    def make(**overrides: Any) -> Flask:
        config = {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "WTF_CSRF_ENABLED": False,
            "UPLOAD_DIR": str(uploads),
            "SERVER_NAME": "tracker.test",
        }
        config.update(overrides)
        app = create_app(config)
        app.test_client_class = IsolatedClient
        return app

    return make


@pytest.fixture(scope="session")
def app(app_factory: Callable[..., Flask]) -> Flask:
    return app_factory()


class IsolatedClient(FlaskClient):
    """A test client whose every request runs as in production: in its own app
    context, with its own ``g`` and its own database session.

    Without this, a request reuses the app context the ``db`` fixture holds, so
    ``g`` (the signed-in user, the scope) carries over from one request to the
    next, and a view's ``rollback()`` undoes the test's own unflushed setup.
    The request's session still shares the test's connection (and so its
    transaction), as a savepoint of its own.
    """

    def open(self, *args: Any, **kwargs: Any) -> Any:
        if self.preserve_context:  # ``with client:`` keeps the request context for the test
            return super().open(*args, **kwargs)
        if not has_app_context():
            return contextvars.Context().run(super().open, *args, **kwargs)
        from tracker.extensions import db as sqla

        sqla.session.flush()  # the request sees the test's setup ...
        from tracker import pagecache

        pagecache.bump_written(sqla.session.connection())  # ... as committed data
        try:
            return contextvars.Context().run(super().open, *args, **kwargs)
        finally:
            sqla.session.expire_all()  # ... and the test sees what the request wrote


class _ConnectionBoundSession(FlaskSQLAlchemySession):
    """Flask-SQLAlchemy's session ignores a session-level ``bind`` (it picks the engine
    by bind key), so views' commits escaped the test transaction; honour the bind."""

    def get_bind(self, mapper: Any = None, clause: Any = None, bind: Any = None, **kw: Any) -> Any:
        if bind is None and self.bind is not None:
            return self.bind
        return super().get_bind(mapper, clause=clause, bind=bind, **kw)


@pytest.fixture
def db(app: Flask) -> Iterator[Any]:
    """The database session of this test, rolled back at the end."""
    from tracker.extensions import db as sqla

    with app.app_context():
        connection = sqla.engine.connect()
        transaction = connection.begin()
        # A request's commit is the release of its savepoint here: bump the data
        # versions there (tracker.pagecache), and start every test with an empty cache
        # (the versions of the last test were rolled back with its data).
        from tracker import pagecache

        connection.info[pagecache.BUMP_ON_RELEASE] = True
        pagecache.clear(app)
        original = sqla.session
        sqla.session = sqla._make_scoped_session(
            {
                "bind": connection,
                "join_transaction_mode": "create_savepoint",
                "class_": _ConnectionBoundSession,
            }
        )
        try:
            yield sqla
        finally:
            sqla.session.remove()
            sqla.session = original
            if transaction.is_active:
                transaction.rollback()
            connection.info.pop(pagecache.BUMP_ON_RELEASE, None)
            connection.close()
            pagecache.clear(app)


@pytest.fixture(autouse=True)
def _reset_audit_actor() -> Iterator[None]:
    from tracker.audit import set_actor

    set_actor(None, "test")
    yield
    set_actor(None, "test")


@pytest.fixture
def world(db: Any) -> World:
    """A city with two counties, townships, villages, branches and users of every role."""
    w = build_world()
    db.session.flush()
    return w


@pytest.fixture
def client(app: Flask, db: Any) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def login(client: FlaskClient) -> Callable[[Any], FlaskClient]:
    """Sign the test client in as a user (via the session, like Flask-Login does)."""

    from flask_login.utils import _create_identifier

    def do(user: Any) -> FlaskClient:
        from tracker.auth.services import start_session

        with client.application.test_request_context(environ_base=client.environ_base):
            identifier = _create_identifier()  # "strong" session protection checks it
        key = start_session(user, remember=False, hours=12, remember_days=14)
        with client.session_transaction() as sess:
            sess["_user_id"] = key
            sess["_fresh"] = True
            sess["_id"] = identifier
        return client

    return do


@pytest.fixture
def runner(app: Flask) -> Any:
    return app.test_cli_runner()


@pytest.fixture(scope="session")
def project_root() -> Path:
    return Path(__file__).resolve().parent.parent


# Transaction control the test harness adds around every request (the savepoint a
# request's session opens on the test's connection): not the page's own statements.
_HARNESS_SQL = re.compile(r"^\s*(SAVEPOINT|RELEASE SAVEPOINT|ROLLBACK TO SAVEPOINT)\b", re.I)


@dataclass
class QueryLog:
    """The SQL statements one block ran, in order."""

    statements: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.statements)

    def report(self) -> str:
        return "\n".join(f"{i + 1:3}. {s[:300]}" for i, s in enumerate(self.statements))


@contextlib.contextmanager
def count_queries() -> Iterator[QueryLog]:
    """Record the statements run on the app's engine inside the block."""
    from tracker.extensions import db as sqla

    log = QueryLog()

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if not _HARNESS_SQL.match(statement):
            log.statements.append(" ".join(statement.split()))

    engine = sqla.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield log
    finally:
        event.remove(engine, "before_cursor_execute", record)


@pytest.fixture
def assert_max_queries(db: Any) -> Callable[[int], contextlib.AbstractContextManager[QueryLog]]:
    """``with assert_max_queries(12) as log: client.get(...)`` fails when the block ran
    more than 12 statements, listing them. A list's budget must not depend on its rows:
    budget tests load the same list at two sizes of data under the same number."""

    @contextlib.contextmanager
    def check(budget: int) -> Iterator[QueryLog]:
        with count_queries() as log:
            yield log
        assert log.count <= budget, f"{log.count} SQL statements, budget {budget}:\n{log.report()}"

    return check
