"""A cache of list pages and API lists that is never stale: entries keyed by data versions.

Every table has a version (``data_version``: one counter per table). Every
transaction that wrote a table bumps its counter right before its COMMIT, and a
rolled-back transaction bumps nothing:

- **writes are seen, not declared.** An engine event (``after_cursor_execute`` on
  the app's engine) notes the target table of every INSERT, UPDATE and DELETE in
  the connection's ``info`` — ORM flushes, Core statements, bulk inserts alike;
  raw SQL is parsed for its table, and a write whose table cannot be told counts
  as ``*``, which every entry depends on. The connection's ``commit`` event bumps
  the noted tables in one upsert, sorted by name (no deadlock between two
  writers), on the DBAPI cursor of the transaction being committed — so a
  session's commit, a plain connection's commit and the jobs process all bump,
  and on PostgreSQL the ``data_version`` row locks are held only for the moment
  of the COMMIT (a 100 s roll-up does not hold them for 100 s).
- **reads are recorded, not declared.** On a miss the view runs as usual while
  the same event records the tables of every SELECT it runs (memoised per
  compiled statement); the entry keeps their versions as read *before* the view
  ran. A hit needs every recorded version unchanged (one statement reads the
  whole tiny ``data_version`` table per request). Data read after the versions
  may only be newer, which causes a later miss, never a stale answer. A raw-SQL
  read while recording makes the answer uncacheable.
- **the key** holds what else the answer depends on: the endpoint and its
  arguments, the query string (sorted), the locale, the user's scope (the root
  region's path) and role, the local date (windows fall due and matters turn
  overdue by the day), and what the view declares with ``vary=`` (the user for a
  per-user list, :func:`per_minute` for a page whose figures move within a day).

What is cached is a page's blocks (title, content, scripts …), shared by every user
of the key, and beside them the whole page per what ``base.html``'s shell shows
(:func:`tracker.views.shell_vary`, registered as ``SHELL_VARY``: the navigation bar
with its badges, the user's line, the locale): a hit with a page kept for its shell
is a string with the request's CSRF token put in; a page with a flash message
renders the shell live. A CSRF token is stored as a placeholder and the request's
own token put back when served. API lists cache their serialised JSON body.

What every request asks besides (the signed-in user and its region, the navigation
badges) is kept the same way, by :func:`memoized`: on a GET of a cached view the
versions are read once, first (:func:`request_versions`), so a hit runs one statement.

Storage is a per-process LRU bounded in bytes (``[tracker] page_cache_mb``,
``0`` = off). Several web processes each keep their own: the versions in the
keys make any of them exact. The answer says ``X-Page-Cache: hit|miss|bypass``.

Use (one way for every list, ``docs/conventions.md``)::

    @bp.route("/")
    @login_required
    @pagecache.cached()                 # or cached(vary=pagecache.per_minute)
    def index(): ...                    # unchanged: render_template(...) as before

    @endpoint("/halls", summary=..., tags=[...], query=HallQuery)
    @pagecache.cached()
    def list_halls(query): ...
"""

from __future__ import annotations

import functools
import re
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, TypeVar

from flask import (
    Flask,
    Response,
    current_app,
    g,
    has_request_context,
    render_template,
    request,
    session,
)
from markupsafe import Markup
from sqlalchemy import Select, event, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.sql import util as sql_util
from sqlalchemy.sql.elements import TextClause
from sqlalchemy.sql.expression import TableClause

from tracker.transactions import raw_written_table

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")

VERSION_TABLE = "data_version"
ANY_TABLE = "*"
# Never a dependency: who is signed in is in the key, and these rows change with every
# sign-in and token use.
UNTRACKED_READS = frozenset({VERSION_TABLE, "login_session", "api_token"})
# Every entry depends on these: the signed-in user and their region were loaded before
# the view ran (the view may show them from the identity map without a statement).
BASE_DEPENDENCIES = ("region", "user_account")
# Connection.info keys.
WRITTEN = "pagecache_written"
# Set by the test harness on its outer connection, where a request's "commit" is the
# release of a savepoint: bump there too.
BUMP_ON_RELEASE = "pagecache_bump_on_release"
# The blocks of base.html a page fills (cached; the rest of base.html is live).
BLOCKS = ("title", "head", "body_class", "container", "breadcrumbs", "content", "scripts")
CSRF_PLACEHOLDER = "\x00pagecache-csrf\x00"
HEADER = "X-Page-Cache"
# The only headers a cacheable answer may carry (a view's own CSP, a download name … is not kept).
PLAIN_HEADERS = frozenset({"Content-Type", "Content-Length"})
SHELL = "_pagecache_page.html"
# app.extensions key of what base.html's shell shows of a request (tracker.views.shell_vary)
SHELL_VARY = "pagecache_shell_vary"

# Columns that change as a side effect of use, shown by no cached answer (the users page
# and API that show a last sign-in are not cached): an UPDATE setting only these bumps
# nothing — else every sign-in would drop every cached page (each depends on
# ``user_account``). A cached view that shows one of them must take it out of here.
QUIET_UPDATES: dict[str, frozenset[str]] = {"user_account": frozenset({"last_login_at"})}
_SET_CLAUSE = re.compile(r"\bSET\s+(.*?)\s+WHERE\b", re.IGNORECASE | re.DOTALL)
_SET_COLUMN = re.compile(r'(?:^|,)\s*"?(\w+)"?\s*=')

_READ_VERBS = ("SELECT", "WITH", "VALUES", "TABLE")


# ----------------------------------------------------------------------------- recording


@dataclass
class _Recorder:
    tables: set[str] = field(default_factory=set)
    cacheable: bool = True


_reading: ContextVar[_Recorder | None] = ContextVar("pagecache_reading", default=None)


def _tables_of(compiled: Any) -> frozenset[str]:
    """The tables a compiled statement touches (memoised on the compiled object, which
    SQLAlchemy itself caches: the same statement shape is analysed once)."""
    tables: frozenset[str] | None = compiled.__dict__.get("_pagecache_tables")
    if tables is None:
        found = sql_util.find_tables(
            compiled.statement,
            check_columns=True,
            include_aliases=True,
            include_joins=True,
            include_selects=True,
            include_crud=True,
        )
        tables = frozenset(t.name for t in found if isinstance(t, TableClause))
        compiled.__dict__["_pagecache_tables"] = tables
    return tables


def quiet_update(compiled: Any, table: str) -> bool:
    """Whether a compiled UPDATE of ``table`` sets only its :data:`QUIET_UPDATES` columns
    (memoised on the compiled object)."""
    quiet = QUIET_UPDATES.get(table)
    if not quiet:
        return False
    columns: frozenset[str] | None = compiled.__dict__.get("_pagecache_set")
    if columns is None:
        match = _SET_CLAUSE.search(compiled.string)
        found = _SET_COLUMN.findall(match.group(1)) if match else []
        columns = frozenset(found) if found else frozenset({ANY_TABLE})
        compiled.__dict__["_pagecache_set"] = columns
    return columns <= quiet


def _after_execute(
    conn: Connection,
    cursor: Any,
    statement: str,
    parameters: Any,
    context: Any,
    executemany: bool,
) -> None:
    compiled = getattr(context, "compiled", None)
    stmt = getattr(compiled, "statement", None)
    if stmt is not None and not isinstance(stmt, TextClause):
        if context.isinsert or context.isupdate or context.isdelete:
            name = getattr(getattr(stmt, "table", None), "name", None) or ANY_TABLE
            if name != VERSION_TABLE and not (context.isupdate and quiet_update(compiled, name)):
                conn.info.setdefault(WRITTEN, set()).add(name)
            return
        recorder = _reading.get()
        if recorder is not None:
            recorder.tables.update(_tables_of(compiled))
        return
    written = raw_written_table(statement)
    if written is not None:
        if written != VERSION_TABLE:
            conn.info.setdefault(WRITTEN, set()).add(written)
        return
    recorder = _reading.get()
    if recorder is not None and statement.lstrip()[:6].upper().startswith(_READ_VERBS):
        recorder.cacheable = False  # a raw read: its tables are not known


def _bump(conn: Connection, tables: set[str]) -> None:
    """One upsert of the written tables' versions, sorted, on the open DBAPI transaction
    (no SQLAlchemy events: it is not itself recorded)."""
    names = sorted(tables)
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    values = ", ".join([f"({mark}, 1)"] * len(names))
    sql = (
        f"INSERT INTO {VERSION_TABLE} (table_name, n) VALUES {values} "
        f"ON CONFLICT (table_name) DO UPDATE SET n = {VERSION_TABLE}.n + 1"
    )
    dbapi = conn.connection.dbapi_connection
    assert dbapi is not None
    cursor = dbapi.cursor()
    try:
        cursor.execute(sql, names)
    finally:
        cursor.close()


def _on_commit(conn: Connection) -> None:
    written = conn.info.pop(WRITTEN, None)
    if written:
        _bump(conn, written)


def bump_written(conn: Connection) -> None:
    """Bump what ``conn`` wrote so far, now (the test harness: a test's own setup is
    visible to the requests it makes, as if committed)."""
    _on_commit(conn)


def _on_rollback(conn: Connection) -> None:
    conn.info.pop(WRITTEN, None)


def _on_release(conn: Connection, name: str, context: Any) -> None:
    if conn.info.get(BUMP_ON_RELEASE):
        _on_commit(conn)


def _on_checkin(dbapi_connection: Any, record: Any) -> None:
    record.info.pop(WRITTEN, None)


def track(engine: Engine) -> None:
    """Bump versions for every write committed through ``engine`` (idempotent)."""
    if event.contains(engine, "after_cursor_execute", _after_execute):
        return
    event.listen(engine, "after_cursor_execute", _after_execute)
    event.listen(engine, "commit", _on_commit)
    event.listen(engine, "rollback", _on_rollback)
    event.listen(engine, "release_savepoint", _on_release)
    event.listen(engine, "checkin", _on_checkin)


@contextmanager
def recording() -> Iterator[_Recorder]:
    """Record the tables every statement run inside reads."""
    recorder = _Recorder()
    token = _reading.set(recorder)
    try:
        yield recorder
    finally:
        _reading.reset(token)


# ----------------------------------------------------------------------------- storage


@dataclass(frozen=True)
class Entry:
    value: Any  # {block: Markup} for a page, (bytes, mimetype) for an API list, str a whole page
    versions: tuple[tuple[str, int], ...]
    size: int

    def fresh(self, current: dict[str, int]) -> bool:
        return all(current.get(table, 0) == n for table, n in self.versions)


class LRU:
    """Entries by key, least recently used dropped first past ``max_bytes``; thread-safe."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        self._entries: OrderedDict[Hashable, Entry] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Entry | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
            return entry

    def put(self, key: Hashable, entry: Entry) -> None:
        if entry.size > self.max_bytes // 4:
            return  # one answer may not push out most of the others
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self.size -= old.size
            self._entries[key] = entry
            self.size += entry.size
            while self.size > self.max_bytes and self._entries:
                _key, dropped = self._entries.popitem(last=False)
                self.size -= dropped.size

    def discard(self, key: Hashable) -> None:
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self.size -= old.size

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self.size = 0

    def __len__(self) -> int:
        return len(self._entries)


STATS = {"hit": 0, "miss": 0, "bypass": 0}
_stats_lock = threading.Lock()


def _count(outcome: str) -> None:
    with _stats_lock:
        STATS[outcome] += 1


def store(app: Flask | None = None) -> LRU | None:
    """This process's cache of ``app`` (``None`` when ``page_cache_mb = 0``)."""
    app = app or current_app
    return app.extensions.get("pagecache")


def clear(app: Flask | None = None) -> None:
    cache = store(app)
    if cache is not None:
        cache.clear()


# ----------------------------------------------------------------------------- the key


def per_user() -> Hashable:
    """``vary=``: the answer is the signed-in user's own (a "mine" list)."""
    from tracker.scope import current_scope

    return ("user", current_scope().user_id)


def per_minute() -> Hashable:
    """``vary=``: figures move with the clock within a day (live uptime): the minute."""
    from tracker import clock

    return ("minute", clock.now().replace(second=0, microsecond=0))


def _key(kind: str, vary: Callable[[], Hashable] | None) -> Hashable:
    from flask_babel import get_locale

    from tracker import clock
    from tracker.scope import current_scope

    scope = current_scope()
    return (
        kind,
        request.endpoint,
        tuple(sorted((request.view_args or {}).items())),
        tuple(sorted(request.args.items(multi=True))),
        str(get_locale()),
        request.script_root,  # every link of a block (a proxy's prefix)
        scope.region_path,
        scope.role.value,
        clock.today(),
        vary() if vary is not None else None,
    )


@functools.cache
def _versions_stmt() -> Select[str, int]:
    from tracker.models import DataVersion

    return select(DataVersion.table_name, DataVersion.n)


def _current_versions() -> dict[str, int]:
    from tracker.extensions import db

    # Core on the session's connection (its transaction): cheaper than an ORM execute.
    return {name: int(n) for name, n in db.session.connection().execute(_versions_stmt())}


def _pending_writes() -> bool:
    """Whether this request's session has written (or would write) anything not committed."""
    from tracker.extensions import db

    session = db.session()
    if session.new or session.deleted or session.dirty:
        return True
    return bool(session.in_transaction() and session.connection().info.get(WRITTEN))


def _dependencies(tables: set[str], versions: dict[str, int]) -> tuple[tuple[str, int], ...]:
    """An entry's versions: of the tables it read, and of ``*`` (a write of unknown table)."""
    return tuple(sorted((t, versions.get(t, 0)) for t in tables | {ANY_TABLE}))


def request_versions() -> dict[str, int] | None:
    """The data versions of this request, read once: for a GET to a cached view (the
    cache on), else ``None``.

    Read at the first ask — the user loader asks before the view runs — and kept for
    the request; versions read earlier than the data a view reads only cause a later
    miss, never a stale answer.
    """
    if not has_request_context():
        return None
    if "pagecache_versions" in g:
        versions: dict[str, int] | None = g.pagecache_versions
        return versions
    view = current_app.view_functions.get(request.endpoint or "")
    if store() is None or request.method != "GET" or not getattr(view, "pagecache", False):
        return None
    g.pagecache_versions = _current_versions()
    return g.pagecache_versions


def memoized(
    key: Hashable, compute: Callable[[], T], untracked: frozenset[str] = UNTRACKED_READS
) -> T:
    """``compute()``, kept by the versions of what it reads, in a request that reads the
    versions anyway (:func:`request_versions`: a GET of a cached page or list). The
    signed-in user and the navbar's badge counts are kept so.

    The same rule as a cached answer's: the versions are those read before, the tables
    are recorded while ``compute`` runs, and a value is reused only while every one is
    unchanged (``untracked`` tables aside: a value that depends on who is signed in
    passes a smaller set). Anywhere else ``compute()`` simply runs. The value must be
    plain data, never an ORM object (it outlives the session).
    """
    versions = request_versions()
    cache = store() if versions is not None else None
    if cache is None or versions is None:
        return compute()
    memo_key = ("memo", key)
    entry = cache.get(memo_key)
    if entry is not None and entry.fresh(versions):
        return entry.value
    with recording() as recorder:
        value = compute()
    if recorder.cacheable:
        deps = _dependencies(recorder.tables - untracked, versions)
        cache.put(memo_key, Entry(value, deps, sys.getsizeof(repr(memo_key)) + 200))
    return value


# ----------------------------------------------------------------------------- pages


class _Capture:
    """Collects the blocks of a page rendered in capture mode (see ``base.html``)."""

    def __init__(self) -> None:
        self.blocks: dict[str, Markup] | None = None

    def keep(self, **blocks: Markup) -> str:
        self.blocks = {name: Markup(blocks.get(name, "")) for name in BLOCKS}
        return ""


_capture: ContextVar[_Capture | None] = ContextVar("pagecache_capture", default=None)


def capture_target() -> _Capture | None:
    """``base.html`` asks: render only the page's blocks, for the cache?"""
    return _capture.get() if has_request_context() else None


def _csrf() -> str:
    """This request's CSRF token: the templates' ``csrf_token()`` (Flask-WTF's, or the
    one :mod:`tracker.security` puts in its place)."""
    token: Callable[[], str] = current_app.jinja_env.globals["csrf_token"]  # type: ignore[assignment]
    return str(token())


def stored_blocks(blocks: dict[str, Markup]) -> dict[str, Markup]:
    """The blocks as kept: the request's CSRF token (a form in the page) as a placeholder."""
    token = _csrf()
    return {
        name: Markup(str(text).replace(token, CSRF_PLACEHOLDER)) for name, text in blocks.items()
    }


def _shell(blocks: dict[str, Markup]) -> str:
    """``base.html`` rendered live around the stored blocks (the request's CSRF token put in)."""
    token = _csrf()
    page = {name: Markup(text.replace(CSRF_PLACEHOLDER, token)) for name, text in blocks.items()}
    return render_template(SHELL, pagecache_page=page)


def _page(cache: LRU, key: Hashable, entry: Entry) -> str:
    """A hit's whole page: the shell around the entry's blocks, kept beside the entry per
    what the shell shows (:func:`tracker.views.shell_vary`), the CSRF token put in.

    A kept page has its entry's versions, so it serves only the blocks it was made of;
    with a flash message to show (or no ``shell_vary`` given), the shell is rendered live.
    """
    shell_vary = current_app.extensions.get(SHELL_VARY)
    shell = shell_vary() if shell_vary is not None else None
    if shell is None:
        return _shell(entry.value)
    page_key = ("page", key, shell)
    token = _csrf()
    kept = cache.get(page_key)
    if kept is None or kept.versions != entry.versions:
        html = _shell(entry.value).replace(token, CSRF_PLACEHOLDER)
        kept = Entry(html, entry.versions, _size(page_key, html))
        cache.put(page_key, kept)
    return str(kept.value).replace(CSRF_PLACEHOLDER, token)


def _size(key: Hashable, value: Any) -> int:
    if isinstance(value, dict):
        body = sum(sys.getsizeof(v) for v in value.values())
    elif isinstance(value, str):
        body = sys.getsizeof(value)
    else:
        body = sys.getsizeof(value[0])
    return body + sys.getsizeof(repr(key)) + 200


def cached(vary: Callable[[], Hashable] | None = None) -> Callable[[F], F]:
    """Serve a GET list page or API list from the cache while its data is unchanged.

    Put it right above the view (below ``@login_required`` / ``endpoint(...)``): the
    view stays as it is. ``vary`` adds to the key (:func:`per_user`, :func:`per_minute`).
    Only a 200 answer is kept; a redirect, an error or anything else passes through.
    """

    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            cache = store()
            if cache is None or request.method != "GET":
                return view(*args, **kwargs)
            api = request.blueprint == "api"
            if _pending_writes():
                _count("bypass")
                response = current_app.make_response(_api_result(view(*args, **kwargs), api))
                response.headers[HEADER] = "bypass"
                return response
            key = _key("api" if api else "page", vary)
            versions = request_versions()  # before any data: see the module docstring
            assert versions is not None
            entry = cache.get(key)
            if entry is not None and entry.fresh(versions):
                _count("hit")
                if api:
                    body, mimetype = entry.value
                    return Response(body, 200, mimetype=mimetype, headers={HEADER: "hit"})
                response = current_app.make_response(_page(cache, key, entry))
                response.headers[HEADER] = "hit"
                return response
            _count("miss")
            return _fill(cache, key, versions, api, view, args, kwargs)

        wrapper.pagecache = True  # type: ignore[attr-defined]  # for request_versions()
        return wrapper  # type: ignore[return-value]

    return decorator


def _api_result(result: Any, api: bool) -> Any:
    if not api:
        return result
    from tracker.api.core import _to_response

    return _to_response(result, 200)


def _session_state() -> dict[str, Any]:
    """The session but its CSRF secret (made on first use; the live shell makes it anyway)."""
    return {k: v for k, v in session.items() if k != "csrf_token"}


def _fill(
    cache: LRU,
    key: Hashable,
    versions: dict[str, int],
    api: bool,
    view: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> Any:
    capture = _Capture()
    before = _session_state()
    token = _capture.set(None if api else capture)
    try:
        with recording() as recorder:
            result = view(*args, **kwargs)
            response = current_app.make_response(_api_result(result, api))
    finally:
        _capture.reset(token)
    blocks = capture.blocks
    if not api and blocks is None:
        # Not a page of base.html (a redirect, a download): answered as the view made it.
        response.headers[HEADER] = "bypass"
        return response
    keep = (
        recorder.cacheable
        # a flash, a remembered choice: something a hit would not repeat
        and _session_state() == before
        and response.status_code == 200
        and set(response.headers.keys()) <= PLAIN_HEADERS
        and not _pending_writes()
    )
    if api:
        value: Any = (response.get_data(), response.mimetype)
    else:
        assert blocks is not None
        value = stored_blocks(blocks)
    if keep:
        deps = _dependencies((recorder.tables | set(BASE_DEPENDENCIES)) - UNTRACKED_READS, versions)
        cache.put(key, Entry(value, deps, _size(key, value)))
    if not api:
        response.set_data(_shell(value))
    response.headers[HEADER] = "miss"
    return response


# ----------------------------------------------------------------------------- setup


def init_app(app: Flask) -> None:
    """Track writes on the app's engine (always: another process may cache) and, with
    ``page_cache_mb > 0``, keep this process's cache."""
    from tracker.extensions import db

    with app.app_context():
        for engine in db.engines.values():
            track(engine)
    mb = app.config.get("PAGE_CACHE_MB", 0)
    if mb:
        app.extensions["pagecache"] = LRU(int(mb) * 1024 * 1024)
    app.jinja_env.globals["pagecache_capture"] = capture_target
