"""Authentication rules: password check with throttling, API tokens."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import func, select, update
from sqlalchemy.exc import OperationalError

from tracker.extensions import db
from tracker.models import ApiToken, LoginAttempt, User, utcnow
from tracker.security import hash_password, hash_token, new_token, verify_password
from tracker.sqlite import write_intent

log = logging.getLogger("tracker.auth")
# A token's last use is recorded to this resolution (a write at most this often).
TOKEN_USE_RESOLUTION = timedelta(minutes=5)

MIN_PASSWORD_LENGTH = 8


class LoginThrottled(Exception):
    """Too many recent failures for this user name or address."""

    def __init__(self, minutes: int) -> None:
        super().__init__(minutes)
        self.minutes = minutes


def recent_failures(username: str, ip: str, minutes: int) -> int:
    since = utcnow() - timedelta(minutes=minutes)
    stmt = select(func.count(LoginAttempt.id)).where(
        LoginAttempt.at >= since,
        LoginAttempt.success.is_(False),
        (LoginAttempt.username == username) | (LoginAttempt.ip == ip),
    )
    return int(db.session.scalar(stmt) or 0)


def authenticate(
    username: str, password: str, ip: str, max_failures: int, lockout_minutes: int
) -> User | None:
    """The user for these credentials, or None. Records the attempt.

    Raises :class:`LoginThrottled` after ``max_failures`` failures in the
    lock-out window, for the user name or the address, before checking the
    password — so guessing gets nothing, not even timing.
    """
    username = username.strip()
    if recent_failures(username, ip, lockout_minutes) >= max_failures:
        raise LoginThrottled(lockout_minutes)
    user = db.session.scalar(select(User).where(User.username == username))
    ok = verify_password(user.password_hash if user else None, password)
    ok = ok and user is not None and user.active
    db.session.add(LoginAttempt(username=username[:64], ip=ip[:45], success=ok))
    if ok and user is not None:
        user.last_login_at = utcnow()
        return user
    return None


def set_password(user: User, password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"密码至少 {MIN_PASSWORD_LENGTH} 位")
    user.password_hash = hash_password(password)


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
