"""Authentication rules: password check with throttling, login sessions, API tokens."""

from __future__ import annotations

import functools
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import Select, bindparam, delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import class_mapper, joinedload, make_transient_to_detached
from sqlalchemy.orm.util import identity_key

from tracker import pagecache
from tracker.extensions import db
from tracker.models import (
    ApiToken,
    LoginAttempt,
    LoginSession,
    LoginThrottle,
    Region,
    User,
    utcnow,
)
from tracker.security import hash_password, hash_token, new_token, verify_password
from tracker.transactions import write_intent

log = logging.getLogger("tracker.auth")
T = TypeVar("T")
# A token's last use is recorded to this resolution (a write at most this often).
TOKEN_USE_RESOLUTION = timedelta(minutes=5)

MIN_PASSWORD_LENGTH = 8
# An account failing this many times max_failures within the window (from any
# addresses) is slowed: addresses it never signed in from get one password
# check per ACCOUNT_SLOW_INTERVAL. It is never locked: its owner, from an
# address with an earlier successful sign-in, is not slowed at all.
ACCOUNT_SLOW_FACTOR = 4
ACCOUNT_SLOW_INTERVAL = timedelta(seconds=10)
KNOWN_ADDRESS_DAYS = 90


class LoginThrottled(Exception):
    """This (account, address) pair failed too often, or the account is slowed."""

    def __init__(self, seconds: int, account_wide: bool = False) -> None:
        super().__init__(seconds)
        self.seconds = seconds
        self.minutes = max(1, -(-seconds // 60))
        self.account_wide = account_wide


def _throttle_row(key: str, now: datetime, window: timedelta) -> LoginThrottle:
    """The counter ``key``, created if missing, locked for this transaction.

    PostgreSQL: ``INSERT … ON CONFLICT DO NOTHING`` then ``SELECT … FOR UPDATE``,
    so parallel attempts on one key queue on the row lock. SQLite: the login
    request already holds the database write lock (``BEGIN IMMEDIATE``).
    """
    dialect = db.session.get_bind().dialect.name
    insert_fn = pg_insert if dialect == "postgresql" else sqlite_insert
    db.session.execute(
        insert_fn(LoginThrottle)
        .values(key=key, failures=0, window_start=now)
        .on_conflict_do_nothing(index_elements=["key"])
    )
    row = db.session.scalars(
        select(LoginThrottle)
        .where(LoginThrottle.key == key)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    if row.window_start < now - window:
        row.failures = 0
        row.window_start = now
        row.next_check_at = None
    return row


def _known_address(username: str, ip: str, now: datetime) -> bool:
    """Did this account sign in successfully from this address lately?"""
    since = now - timedelta(days=KNOWN_ADDRESS_DAYS)
    return (
        db.session.scalar(
            select(LoginAttempt.id)
            .where(
                LoginAttempt.username == username,
                LoginAttempt.ip == ip,
                LoginAttempt.success.is_(True),
                LoginAttempt.at >= since,
            )
            .limit(1)
        )
        is not None
    )


def authenticate(
    username: str, password: str, ip: str, max_failures: int, lockout_minutes: int
) -> User | None:
    """The user for these credentials, or None. Records the attempt.

    Throttles the pair (account, address): after ``max_failures`` failures in
    ``lockout_minutes`` that pair gets :class:`LoginThrottled` before any
    password check — so a mistyping colleague, or a whole office behind one
    proxy, never locks anyone else out. An account attacked from many
    addresses is slowed, not locked (see :data:`ACCOUNT_SLOW_FACTOR`). The
    attempt is counted *before* the password is checked, on a locked row, so
    40 parallel guesses get ``max_failures`` checks, not more.
    """
    username = username.strip()[:64]
    ip = ip[:45]
    now = utcnow()
    window = timedelta(minutes=lockout_minutes)
    pair = _throttle_row(f"pair:{username}|{ip}", now, window)
    if pair.failures >= max_failures:
        remaining = pair.window_start + window - now
        raise LoginThrottled(max(1, int(remaining.total_seconds())))
    account = _throttle_row(f"account:{username}", now, window)
    if account.failures >= max_failures * ACCOUNT_SLOW_FACTOR and not _known_address(
        username, ip, now
    ):
        if account.next_check_at is not None and now < account.next_check_at:
            wait = int((account.next_check_at - now).total_seconds()) + 1
            raise LoginThrottled(wait, account_wide=True)
        account.next_check_at = now + ACCOUNT_SLOW_INTERVAL
    pair.failures += 1  # counted until proven right
    account.failures += 1
    db.session.flush()
    user = db.session.scalar(select(User).where(User.username == username))
    ok = verify_password(user.password_hash if user else None, password)
    ok = ok and user is not None and user.active
    db.session.add(LoginAttempt(username=username, ip=ip, success=ok))
    if ok and user is not None:
        pair.failures = 0
        account.failures = max(0, account.failures - 1)
        user.last_login_at = now
        return user
    return None


def start_session(user: User, remember: bool, hours: int, remember_days: int) -> str:
    """A new login session for ``user`` (a new key per sign-in); sets ``user.login_key``."""
    now = utcnow()
    db.session.execute(
        delete(LoginSession).where(LoginSession.user_id == user.id, LoginSession.expires_at < now)
    )
    key = secrets.token_urlsafe(32)
    lasts = timedelta(days=remember_days) if remember else timedelta(hours=hours)
    db.session.add(LoginSession(key=key, user_id=user.id, created_at=now, expires_at=now + lasts))
    db.session.flush()
    user.login_key = key
    return key


@functools.cache
def _session_user_stmt() -> Select[User, datetime]:
    """The user of a login session key, with its region (every page reads it: scope, navbar).

    Built once per process (constructing a statement costs more than running it);
    the key is a bound parameter."""
    return (
        select(User, LoginSession.expires_at)
        .join(LoginSession, LoginSession.user_id == User.id)
        .where(LoginSession.key == bindparam("key"))
        .options(joinedload(User.region))
    )


@dataclass(frozen=True)
class _SessionUser:
    """What :func:`user_for_session` read, as plain data (kept between requests)."""

    expires_at: datetime
    user: dict[str, Any]
    region: dict[str, Any]


def _columns(obj: Any, skip: frozenset[str] = frozenset()) -> dict[str, Any]:
    return {c.key: getattr(obj, c.key) for c in obj.__table__.columns if c.key not in skip}


def _read_session_user(key: str) -> _SessionUser | None:
    row = db.session.execute(_session_user_stmt(), {"key": key}).first()
    if row is None:
        return None
    user, expires_at = row
    # A column updated without a data version bump (the last sign-in) is not kept: it
    # is loaded from the row when something shows it.
    quiet = pagecache.QUIET_UPDATES.get(User.__tablename__, frozenset())
    return _SessionUser(expires_at, _columns(user, quiet), _columns(user.region))


def _detached(cls: type[T], values: dict[str, Any]) -> T:
    """An instance of ``cls`` as if loaded with ``values`` and then detached: built as
    the ORM builds a loaded row (no constructor, no attribute events), every column not
    in ``values`` loaded when first read."""
    obj: T = class_mapper(cls).class_manager.new_instance()
    obj.__dict__.update(values)
    make_transient_to_detached(obj)
    return obj


def _attach(state: _SessionUser) -> User:
    """The user of ``state`` in this request's session, with its region, without SQL:
    new instances, made detached (as if loaded, nothing changed) and added."""
    identity = db.session.identity_map
    loaded = identity.get(identity_key(User, state.user["id"]))
    if loaded is not None:  # just read by this request (not kept from an earlier one)
        return loaded
    region = identity.get(identity_key(Region, state.region["id"]))
    if region is None:
        region = _detached(Region, state.region)
        db.session.add(region)
    user = _detached(User, {**state.user, "region": region})
    db.session.add(user)
    return user


def user_for_session(key: str) -> User | None:
    """The active user of a live login session (the session or remember cookie's key).

    On a cached page (:func:`tracker.pagecache.memoized`) what the lookup read is kept
    by the versions of the sessions, users and regions tables: a hit asks nothing more,
    and any sign-out, sign-in, edit of a user or region reads again.
    """
    if not key:
        return None
    state = pagecache.memoized(
        ("session-user", key),
        lambda: _read_session_user(key),
        untracked=frozenset({pagecache.VERSION_TABLE}),
    )
    if state is None or not state.user["active"] or state.expires_at < utcnow():
        return None
    user = _attach(state)
    user.login_key = key
    return user


def revoke_sessions(user: User) -> int:
    """End every session and remember cookie of ``user`` (logout, password change)."""
    result = db.session.execute(delete(LoginSession).where(LoginSession.user_id == user.id))
    return int(getattr(result, "rowcount", 0) or 0)


def set_password(user: User, password: str) -> None:
    """A new password; every session and remember cookie of the user ends."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"密码至少 {MIN_PASSWORD_LENGTH} 位")
    user.password_hash = hash_password(password)
    revoke_sessions(user)


def create_api_token(user: User, name: str) -> tuple[ApiToken, str]:
    """A new personal token; the plain text is returned once and never stored."""
    plain = new_token("vt")
    token = ApiToken(user=user, name=name, token_hash=hash_token(plain), prefix=plain[:10])
    db.session.add(token)
    db.session.flush()
    return token, plain


def user_for_token(plain: str) -> User | None:
    token = db.session.scalar(
        select(ApiToken).where(
            ApiToken.token_hash == hash_token(plain), ApiToken.revoked_at.is_(None)
        )
    )
    if token is None or not token.user.active:
        return None
    user_id = token.user_id
    record_token_use(token)
    return db.session.get(User, user_id)


def record_token_use(token: ApiToken) -> None:
    """Note that ``token`` was used — at most once per :data:`TOKEN_USE_RESOLUTION`.

    In its own short transaction, for reads too: a read request must not
    write inside its read transaction (on SQLite that write fails at once
    under contention), and a read-only client's token must not look unused.
    Best effort: a lock held past the busy timeout skips this one record.
    """
    now = utcnow()
    if token.last_used_at is not None and now - token.last_used_at < TOKEN_USE_RESOLUTION:
        return
    token_id = token.id
    db.session.commit()  # end the read (nothing is pending this early in a request)
    try:
        with write_intent():
            db.session.execute(
                update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now)
            )
            db.session.commit()
    except OperationalError:
        db.session.rollback()
        log.warning("could not record the use of API token %s", token_id)
