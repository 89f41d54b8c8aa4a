"""Authentication rules: password check with throttling, API tokens."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from tracker.extensions import db
from tracker.models import ApiToken, LoginAttempt, User, utcnow
from tracker.security import hash_password, hash_token, new_token, verify_password

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
    token.last_used_at = utcnow()
    return token.user
