"""Notification: one message in one user's inbox (站内通知)."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.models import User
from tracker.models.base import Base, utcnow


class Delivery(enum.StrEnum):
    """State of the external copy (email / webhook) of a notification."""

    none = "none"  # no external channel configured when it was created
    pending = "pending"  # the jobs process will send it
    sent = "sent"
    failed = "failed"


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
    delivery: Mapped[Delivery] = mapped_column(
        Enum(Delivery, native_enum=False, length=16, validate_strings=True),
        default=Delivery.none,
    )
    delivery_error: Mapped[str | None] = mapped_column(String(500))
    delivered_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()

    __table_args__ = (
        Index("ix_notification_user_dedupe", "user_id", "dedupe_key", unique=True),
        Index("ix_notification_user_unread", "user_id", "read_at"),
        Index("ix_notification_delivery", "delivery"),
    )

    @property
    def is_read(self) -> bool:
        return self.read_at is not None
