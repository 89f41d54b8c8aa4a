"""The data version of every table: a counter each committed write bumps (:mod:`tracker.pagecache`)."""

from __future__ import annotations

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from tracker.models.base import Base


class DataVersion(Base):
    """``n`` grows by one with every committed transaction that wrote ``table_name``.

    Written only by :mod:`tracker.pagecache` (one upsert right before COMMIT); a cached
    page keeps the versions of the tables it read and is served again only while they
    are unchanged. ``*`` counts writes whose table could not be told (raw SQL).
    """

    __tablename__ = "data_version"

    table_name: Mapped[str] = mapped_column(String(64), primary_key=True)
    n: Mapped[int] = mapped_column(BigInteger, default=0)
