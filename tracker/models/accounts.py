"""Accounts: users with one role at one region node, API tokens, login sessions and throttling."""

from __future__ import annotations

import enum
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Enum, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.models.base import Base, audited, utcnow
from tracker.models.regions import Region


class Role(enum.StrEnum):
    """admin manages its subtree; editor writes ledgers there; viewer reads it."""

    admin = "admin"
    editor = "editor"
    viewer = "viewer"


@audited
class User(UserMixin, Base):
    """A staff account bound to one region node."""

    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(64))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(
        Enum(Role, native_enum=False, length=16, validate_strings=True)
    )
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    phone: Mapped[str | None] = mapped_column(String(20))
    email: Mapped[str | None] = mapped_column(String(120))
    locale: Mapped[str | None] = mapped_column(String(8))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]

    region: Mapped[Region] = relationship()

    def get_id(self) -> str:
        """The key of the login session this object was loaded for (``login_key``,
        set by ``tracker.auth``), never the bare user id: Flask-Login puts it in
        the session and the remember cookie (see :class:`LoginSession`)."""
        return str(getattr(self, "login_key", "") or "")

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def can_write(self) -> bool:
        return self.role in (Role.admin, Role.editor)

    @property
    def is_admin(self) -> bool:
        return self.role == Role.admin


@audited
class ApiToken(Base):
    """A personal API token; only its SHA-256 is stored."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # First characters of the token, shown so a user can tell tokens apart.
    prefix: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()


class LoginAttempt(Base):
    """One login attempt, kept to throttle guessing."""

    __tablename__ = "login_attempt"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    ip: Mapped[str] = mapped_column(String(45))
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    success: Mapped[bool]


class LoginSession(Base):
    """One sign-in (one browser): its random key is what the session and the
    remember cookie carry, so a saved cookie is worth nothing once the row is gone.

    Logout and a password change delete every row of the user (every device);
    each sign-in gets a new key (remember cookies rotate per login).
    """

    __tablename__ = "login_session"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]


class LoginThrottle(Base):
    """Failed-login counter for one (account, address) pair or one account.

    ``key`` is ``pair:<name>|<address>`` or ``account:<name>``. The row is read
    ``FOR UPDATE`` (SQLite: under the request's write lock), so parallel
    attempts count one by one.
    """

    __tablename__ = "login_throttle"

    key: Mapped[str] = mapped_column(String(160), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    window_start: Mapped[datetime]
    next_check_at: Mapped[datetime | None]
