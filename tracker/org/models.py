"""Models of the organisation package beyond the foundation tables.

:class:`MemberImport` remembers every committed roster import (党员名册导入) by
the SHA-256 of the uploaded workbook, so posting the same file twice — a
double click, a browser back-and-resubmit, a CLI re-run — adds nobody twice.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Enum, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from tracker.models.base import Base, audited, utcnow
from tracker.models.party import MemberStatus


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


class FactKind(enum.StrEnum):
    """What happened to a member on a day (``tracker.org.history.LABELS`` names them)."""

    probationary = "probationary"  # 预备党员 from the day (入党 or 转入)
    full = "full"  # 正式党员 from the day (转正)
    away = "away"  # 外出流动: where, since ``on``, until ``until``, who looks after them
    transfer_in = "transfer_in"  # 组织关系转入: from ``org``, letter ``letter_no``
    transfer_out = "transfer_out"  # 组织关系转出: to ``org``, letter ``letter_no``
    deceased = "deceased"  # 去世
    expelled = "expelled"  # 开除党籍 (``decision``)
    stopped = "stopped"  # 停止党籍 (``decision``)
    left = "left"  # 离开名册 (other reason, ``note``)


@audited
class MemberFact(Base):
    """One dated fact of a member's life in the branch (党员信息库的状态记录).

    A fact holds from its day on. A member's standing on a day is the fold of
    the facts up to that day (``tracker.org.history``); ``Member.status`` and
    ``Member.left_on`` are only a cache of the fold over all facts, written by
    ``tracker.org.services.append_fact``, the one writer. ``on`` is empty only
    for the opening fact of a member whose joining date is not known (held
    since before the records).
    """

    __tablename__ = "member_fact"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"), index=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    kind: Mapped[FactKind] = mapped_column(
        Enum(FactKind, native_enum=False, length=16, validate_strings=True)
    )
    on: Mapped[date | None]
    until: Mapped[date | None]
    # For a transfer in: the party status the member arrives with.
    status: Mapped[MemberStatus | None] = mapped_column(
        Enum(MemberStatus, native_enum=False, length=16, validate_strings=True)
    )
    place: Mapped[str | None] = mapped_column(String(100))
    org: Mapped[str | None] = mapped_column(String(100))
    letter_no: Mapped[str | None] = mapped_column(String(64))
    decision: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (Index("ix_member_fact_member_on", "member_id", "on"),)
