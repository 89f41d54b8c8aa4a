"""How a request's, a job's and a command's transactions begin, on each database.

**SQLite** (the embedded database):

- real transactions (pysqlite's implicit BEGIN handling breaks SAVEPOINTs,
  which both the test suite and nested operations rely on);
- foreign keys enforced, WAL journal (readers never block the writer), and a
  busy timeout so the web, jobs and CLI processes can share one file;
- **a transaction that will write takes the write lock when it begins**
  (``BEGIN IMMEDIATE``). SQLite's deferred ``BEGIN`` starts as a reader; its
  first write after another connection committed fails at once with
  "database is locked" — the busy timeout never waits for that case. With the
  lock taken up front, concurrent writers queue on the busy timeout instead.

Who "will write" is declared, never guessed: every web request that is not
GET/HEAD/OPTIONS (:func:`init_app`), every job run (``tracker.jobs.run_job``)
and every CLI command (``tracker.cli.with_app``) runs under
:func:`write_intent`. Read requests never write (an API token's last use is
recorded in its own short transaction, see ``tracker.auth.services``). What
remains — a lock held longer than the busy timeout — is retried a bounded
number of times (:func:`retry_locked`), then answered 503, never 500.

**PostgreSQL** needs none of that (row locks and MVCC do the work). There, a
read request (GET/HEAD/OPTIONS) **runs without a transaction until it writes**:
its session's connection is in autocommit (:class:`Session`), so a cached page
costs no ``BEGIN`` and no ``ROLLBACK`` round trip — two of a cache hit's five.
Under READ COMMITTED every statement reads its own snapshot inside a
transaction too, so the reads see what they saw before. The first statement
that writes or locks (INSERT, UPDATE, DELETE, ``SELECT … FOR UPDATE``, an
advisory transaction lock) turns autocommit off just before it runs
(:func:`_begin_at_first_write`): the driver sends ``BEGIN`` first, and from
there on it is an ordinary transaction — committed or rolled back as a whole,
and its data versions (``tracker.pagecache``) bumped inside it. A GET that
computes a missing dashboard period, or records a token's use, keeps exactly
the transaction it had.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import random
import re
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from flask import Flask, request
from flask_sqlalchemy.session import Session as FlaskSession
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.sql.elements import TextClause

log = logging.getLogger("tracker.transactions")

BUSY_TIMEOUT_MS = 10_000
# Attempts of one request/job when the lock could not be had within the busy timeout.
LOCK_RETRIES = 3
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

_in_read_request: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "tracker_sqlite_read_request", default=False
)
_write_intent: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "tracker_sqlite_write_intent", default=False
)

T = TypeVar("T")


@event.listens_for(Engine, "connect")
def _on_connect(dbapi_connection: Any, connection_record: Any) -> None:
    module = type(dbapi_connection).__module__
    if "sqlite" not in module:
        return
    dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    with contextlib.suppress(Exception):  # in-memory databases have no WAL
        cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


@event.listens_for(Engine, "begin")
def _on_begin(conn: Any) -> None:
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN IMMEDIATE" if _write_intent.get() else "BEGIN")


@event.listens_for(OrmSession, "before_flush")
def _read_must_not_write(session: Session, flush_context: Any, instances: Any) -> None:
    """A read request that writes would fail under contention: say so loudly."""
    if _in_read_request.get() and (session.new or session.dirty or session.deleted):
        changed = {type(o).__name__ for o in (*session.new, *session.dirty, *session.deleted)}
        log.warning("a read request writes %s (%s)", sorted(changed), request.path)


# -- PostgreSQL: a read request runs without a transaction until it writes ----------

# Execution option of the connections of read requests (see the module docstring).
READ_UNTIL_WRITE = "tracker_read_until_write"
_LOCKING_SQL = ("FOR UPDATE", "FOR NO KEY UPDATE", "FOR SHARE", "FOR KEY SHARE", "_XACT_LOCK")


def reading_engine(engine: Engine) -> Engine:
    """``engine`` whose connections start in autocommit, marked :data:`READ_UNTIL_WRITE`
    (made once per engine and kept on it; it shares the engine's pool and events)."""
    found: Engine | None = engine.__dict__.get("_tracker_reading_engine")
    if found is None:
        found = engine.execution_options(isolation_level="AUTOCOMMIT", **{READ_UNTIL_WRITE: True})
        engine.__dict__["_tracker_reading_engine"] = found
    return found


class Session(FlaskSession):
    """Flask-SQLAlchemy's session; in a read request on PostgreSQL its connection starts
    in autocommit (:func:`reading_engine`)."""

    def get_bind(self, mapper: Any = None, clause: Any = None, bind: Any = None, **kw: Any) -> Any:
        engine = super().get_bind(mapper, clause=clause, bind=bind, **kw)
        if (
            bind is None
            and _in_read_request.get()
            and isinstance(engine, Engine)
            and engine.dialect.name == "postgresql"
        ):
            return reading_engine(engine)
        return engine


_RAW_DML = re.compile(
    r"^\s*(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|UPDATE|DELETE\s+FROM|REPLACE\s+INTO)\s+"
    r"(?:\"?\w+\"?\.)?\"?(\w+)\"?",
    re.IGNORECASE,
)
_WRITE_WORDS = re.compile(r"\b(INSERT|UPDATE|DELETE|REPLACE|MERGE|TRUNCATE)\b", re.IGNORECASE)


def raw_written_table(sql: str) -> str | None:
    """The table a raw SQL statement writes: its name, ``*`` when it writes and the
    table cannot be told, ``None`` when it does not write."""
    verb = sql.lstrip().split(None, 1)[0].upper() if sql.strip() else ""
    if verb in ("INSERT", "UPDATE", "DELETE", "REPLACE"):
        match = _RAW_DML.match(sql)
        return match.group(1).lower() if match else "*"
    if verb in ("MERGE", "TRUNCATE") or (verb == "WITH" and _WRITE_WORDS.search(sql)):
        return "*"
    return None


def _writes(statement: str, context: Any) -> bool:
    """Whether a statement writes or takes a lock a transaction must hold."""
    if context is not None and (context.isinsert or context.isupdate or context.isdelete):
        return True
    compiled = getattr(context, "compiled", None)
    stmt = getattr(compiled, "statement", None)
    if stmt is not None and not isinstance(stmt, TextClause):
        return getattr(stmt, "_for_update_arg", None) is not None
    upper = statement.upper()
    return raw_written_table(statement) is not None or any(w in upper for w in _LOCKING_SQL)


@event.listens_for(Engine, "before_cursor_execute")
def _begin_at_first_write(
    conn: Connection, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool
) -> None:
    if not conn.get_execution_options().get(READ_UNTIL_WRITE):
        return
    dbapi = conn.connection.dbapi_connection
    if dbapi is not None and dbapi.autocommit and _writes(statement, context):
        dbapi.autocommit = False  # the driver sends BEGIN before this statement


def writing() -> bool:
    """True inside a request, job or command declared as writing."""
    return _write_intent.get()


@contextlib.contextmanager
def write_intent(on: bool = True) -> Iterator[None]:
    """Transactions begun inside take the SQLite write lock at ``BEGIN``."""
    token = _write_intent.set(on)
    try:
        yield
    finally:
        _write_intent.reset(token)


def is_lock_error(exc: BaseException) -> bool:
    """SQLite's "database is locked" / "database table is locked" (SQLITE_BUSY)."""
    return isinstance(exc, OperationalError) and "locked" in str(exc.orig).lower()


def retry_locked(fn: Callable[[], T], rollback: Callable[[], None]) -> T:
    """Run ``fn``; when SQLite stays locked past the busy timeout, roll back and retry.

    Bounded (:data:`LOCK_RETRIES` attempts, short jittered pauses); the last
    failure propagates, and the web answers it with 503.
    """
    for attempt in range(1, LOCK_RETRIES + 1):
        try:
            return fn()
        except OperationalError as exc:
            if not is_lock_error(exc) or attempt == LOCK_RETRIES:
                raise
            rollback()
            log.warning("database locked, retrying (attempt %d)", attempt)
            time.sleep(0.05 * attempt + random.random() * 0.05)
    raise AssertionError("unreachable")


def init_app(app: Flask) -> None:
    """Declare write intent for every writing web request."""

    @app.before_request
    def _declare_intent() -> None:
        _write_intent.set(request.method not in SAFE_METHODS)
        _in_read_request.set(request.method in SAFE_METHODS)

    @app.teardown_request
    def _clear_intent(exc: BaseException | None) -> None:
        _write_intent.set(False)
        _in_read_request.set(False)
