"""The region tree: 市 city → 县 county → 乡镇 township → 村 village.

Every permission check and every roll-up is a subtree query, so each node keeps
a materialized path (``/1/4/17/``): "everything under the township" is one
indexed ``LIKE '/1/4/%'`` on ``region.path``.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import Enum, ForeignKey, Index, String, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.models.base import Base, audited, utcnow


class RegionLevel(enum.StrEnum):
    """Levels of the administrative tree (市/县/乡镇/村)."""

    city = "city"
    county = "county"
    township = "township"
    village = "village"

    @property
    def child(self) -> RegionLevel | None:
        order = list(RegionLevel)
        i = order.index(self)
        return order[i + 1] if i + 1 < len(order) else None


@audited
class Region(Base):
    """A node of the region tree."""

    __tablename__ = "region"

    id: Mapped[int] = mapped_column(primary_key=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("region.id"), index=True)
    level: Mapped[RegionLevel] = mapped_column(
        Enum(RegionLevel, native_enum=False, length=16, validate_strings=True)
    )
    name: Mapped[str] = mapped_column(String(64))
    # 12-digit statistical code (统计用区划代码) where known.
    code: Mapped[str | None] = mapped_column(String(12), unique=True)
    # Materialized path of ids, e.g. "/1/4/17/"; set by tracker.regions.services.
    path: Mapped[str] = mapped_column(String(255), default="", index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    parent: Mapped[Region | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Region]] = relationship(back_populates="parent", order_by="Region.name")

    __table_args__ = (Index("ix_region_parent_name", "parent_id", "name", unique=True),)

    def __repr__(self) -> str:
        return f"<Region {self.level} {self.name}>"

    @property
    def ancestor_ids(self) -> list[int]:
        """Ids from the root down to this node (inclusive)."""
        return [int(p) for p in self.path.strip("/").split("/") if p]

    def contains(self, other: Region) -> bool:
        """Whether ``other`` is this node or below it."""
        return other.path.startswith(self.path)


def in_subtree(path: Any, node: Any = Region) -> Any:
    """SQL condition: ``node`` (``Region`` or an alias of it) is at or below ``path``.

    ``path`` is a materialized path (``"/1/4/"``) or a path column (another alias's
    ``.path``, for one grouped query over several subtrees). The one place that
    knows a subtree is a path prefix.
    """
    return node.path.like(path + "%")


def subtree_ids(path: Any) -> Any:
    """A scalar subquery of the ids of every node under (and including) a path;
    use it as ``Model.region_id.in_(subtree_ids(region.path))``."""
    return select(Region.id).where(in_subtree(path)).scalar_subquery()
