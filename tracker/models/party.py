"""Party organisation of a village: 党支部 branch, 党小组 groups, 党员 members, 村干部 cadres."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Enum, ForeignKey, Index, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.models.base import Base, audited, utcnow
from tracker.models.regions import Region


class MemberStatus(enum.StrEnum):
    """正式党员 full members vote and count for quorum; 预备党员 probationary do not."""

    full = "full"
    probationary = "probationary"


class Gender(enum.StrEnum):
    male = "male"
    female = "female"


@audited
class Branch(Base):
    """党支部: one per village by default."""

    __tablename__ = "branch"

    id: Mapped[int] = mapped_column(primary_key=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    founded_on: Mapped[date | None]
    # The date the branch is tracked from: obligations are not due before it.
    tracked_from: Mapped[date | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    region: Mapped[Region] = relationship()
    groups: Mapped[list[PartyGroup]] = relationship(
        back_populates="branch", order_by="PartyGroup.name"
    )

    __table_args__ = (Index("ix_branch_region_name", "region_id", "name", unique=True),)


@audited
class PartyGroup(Base):
    """党小组: a party group inside a branch."""

    __tablename__ = "party_group"

    id: Mapped[int] = mapped_column(primary_key=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branch.id"), index=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    created_on: Mapped[date | None]
    dissolved_on: Mapped[date | None]

    branch: Mapped[Branch] = relationship(back_populates="groups")

    __table_args__ = (Index("ix_party_group_branch_name", "branch_id", "name", unique=True),)


@audited
class Member(Base):
    """党员: a member on a branch's roster."""

    __tablename__ = "member"

    id: Mapped[int] = mapped_column(primary_key=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branch.id"), index=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    group_id: Mapped[int | None] = mapped_column(ForeignKey("party_group.id"), index=True)
    name: Mapped[str] = mapped_column(String(32))
    gender: Mapped[Gender | None] = mapped_column(
        Enum(Gender, native_enum=False, length=8, validate_strings=True)
    )
    birth_year: Mapped[int | None]
    phone: Mapped[str | None] = mapped_column(String(20))
    status: Mapped[MemberStatus] = mapped_column(
        Enum(MemberStatus, native_enum=False, length=16, validate_strings=True),
        default=MemberStatus.full,
    )
    joined_on: Mapped[date | None]
    # Left the branch (transfer, death): kept for history, off the active roster.
    left_on: Mapped[date | None]
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The information base (党员信息库). ``id_number`` is shown whole only to the
    # admins of the member's county (``tracker.org.services.can_see_id``) and
    # never written to the audit log (``tracker.audit.SECRET_COLUMNS``).
    ethnicity: Mapped[str | None] = mapped_column(String(16))
    education: Mapped[str | None] = mapped_column(String(16))
    id_number: Mapped[str | None] = mapped_column(String(18))
    birth_date: Mapped[date | None]
    address: Mapped[str | None] = mapped_column(String(200))
    occupation: Mapped[str | None] = mapped_column(String(64))
    posts: Mapped[str | None] = mapped_column(String(200))
    hardship: Mapped[bool] = mapped_column(default=False, server_default=false())  # 困难党员
    hardship_help: Mapped[str | None] = mapped_column(String(500))
    awards: Mapped[str | None] = mapped_column(Text)
    discipline: Mapped[str | None] = mapped_column(Text)

    branch: Mapped[Branch] = relationship()
    group: Mapped[PartyGroup | None] = relationship()

    @property
    def can_vote(self) -> bool:
        """Only full members vote and count for quorum."""
        return self.status == MemberStatus.full

    def active_on(self, day: date) -> bool:
        """On the roster on ``day``."""
        if self.joined_on and self.joined_on > day:
            return False
        return not (self.left_on and self.left_on <= day)


@audited
class VillageCadre(Base):
    """村干部: a village cadre and the post held (书记, 主任, 委员 …)."""

    __tablename__ = "village_cadre"

    id: Mapped[int] = mapped_column(primary_key=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("member.id"))
    name: Mapped[str] = mapped_column(String(32))
    post: Mapped[str] = mapped_column(String(64))
    phone: Mapped[str | None] = mapped_column(String(20))
    since: Mapped[date | None]
    until: Mapped[date | None]
    # Reserve cadre (后备干部) in the "2+5" plan, a configurable register.
    reserve: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    member: Mapped[Member | None] = relationship()
