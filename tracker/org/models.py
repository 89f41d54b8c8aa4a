"""Models of the organisation package beyond the foundation tables.

:class:`MemberImport` remembers every committed roster import (党员名册导入) by
the SHA-256 of the uploaded workbook, so posting the same file twice — a
double click, a browser back-and-resubmit, a CLI re-run — adds nobody twice.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from tracker.models.base import Base, utcnow


class MemberImport(Base):
    """One committed import of a member roster sheet into a branch."""

    __tablename__ = "member_import"

    id: Mapped[int] = mapped_column(primary_key=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branch.id"), index=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    sha256: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(255))
    rows: Mapped[int]
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (Index("ix_member_import_branch_sha", "branch_id", "sha256", unique=True),)
