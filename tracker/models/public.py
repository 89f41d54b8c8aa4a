"""What the pages open to anyone (no account) keep: one row per request, for their flood limit."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from tracker.models.base import Base, utcnow


class PublicHit(Base):
    """One request to a public page, by the page's name and a keyed hash of the sender's
    address (never the address itself): :func:`tracker.public_pages.over_limit`.

    Rows older than a day are removed as new ones come in.
    """

    __tablename__ = "public_hit"

    id: Mapped[int] = mapped_column(primary_key=True)
    page: Mapped[str] = mapped_column(String(32))
    sender_hash: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (Index("ix_public_hit_page_sender_at", "page", "sender_hash", "at"),)
