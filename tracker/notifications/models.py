"""Notification (one message in one user's inbox) and OutboxMessage (one message to one channel).

Every package tells people through one pipeline
(:func:`tracker.notifications.services.publish`): the inbox copy per user is a
:class:`Notification`; each external copy — one e-mail per recipient, one post
per robot or webhook per message — is an :class:`OutboxMessage` that the jobs
process sends with back-off (:mod:`tracker.notifications.delivery`).
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import Enum, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.models import User
from tracker.models.base import Base, JSONText, utcnow


def _enum(cls: type[enum.Enum]) -> Enum:
    return Enum(cls, native_enum=False, length=16, validate_strings=True)


class Notification(Base):
    """A message for one user: title, body, a link, a kind (``matter_overdue``, ``camera_down`` …).

    ``dedupe_key`` makes reminders idempotent: a job that runs twice (or two
    packages that notify the same thing) adds the message once per user.
    """

    __tablename__ = "notification"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    # The user's own region node: lets admins audit/scope inboxes like any other row.
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32), default="info")
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    url: Mapped[str] = mapped_column(String(500), default="")
    dedupe_key: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    read_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()

    __table_args__ = (
        Index("ix_notification_user_dedupe", "user_id", "dedupe_key", unique=True),
        Index("ix_notification_user_unread", "user_id", "read_at"),
    )

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


class OutChannel(enum.StrEnum):
    """External channels of ``[alerts]``."""

    email = "email"  # one row per recipient address
    webhook = "webhook"  # the generic JSON webhook: one row per message
    dingtalk = "dingtalk"  # 钉钉 group robot: one row per message
    wecom = "wecom"  # 企业微信 group robot: one row per message


class OutStatus(enum.StrEnum):
    pending = "pending"  # waiting for (another) attempt
    sent = "sent"
    failed = "failed"  # gave up: permanent error or too many attempts


class OutboxMessage(Base):
    """One message to one channel (and, for e-mail, one address): the queue of the sender.

    The text is final when queued: robots and webhooks get the message's public
    text (no applicant names or phones), e-mail the recipient's own text.
    ``(channel, target, dedupe_key)`` is unique, so a job that runs twice or a
    message with many recipients still posts once to a group robot.
    """

    __tablename__ = "notification_outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[OutChannel] = mapped_column(_enum(OutChannel))
    # The e-mail address; "" for the webhook / robot URL configured in [alerts].
    target: Mapped[str] = mapped_column(String(200), default="")
    kind: Mapped[str] = mapped_column(String(32), default="info")
    dedupe_key: Mapped[str] = mapped_column(String(200))
    subject: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text, default="")
    # Extra fields of the generic webhook body (ids, cause …), never personal data.
    data: Mapped[dict[str, Any] | None] = mapped_column(JSONText)
    status: Mapped[OutStatus] = mapped_column(_enum(OutStatus), default=OutStatus.pending)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None]

    __table_args__ = (
        Index("ix_notification_outbox_once", "channel", "target", "dedupe_key", unique=True),
        Index("ix_notification_outbox_due", "status", "next_attempt_at"),
    )
