"""Village reserve cadres (村级后备干部) and their assessments."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Enum, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.models.base import Base, audited, utcnow
from tracker.models.party import Member


class ReserveSource(enum.StrEnum):
    """Where a reserve cadre comes from (来源)."""

    graduate = "graduate"  # 返乡大学生
    migrant = "migrant"  # 返乡务工人员
    veteran = "veteran"  # 退役军人
    farmer = "farmer"  # 青年农民
    entrepreneur = "entrepreneur"  # 致富带头人/创业人员
    other = "other"  # 其他


SOURCE_LABELS = {
    ReserveSource.graduate: "返乡大学生",
    ReserveSource.migrant: "返乡务工人员",
    ReserveSource.veteran: "退役军人",
    ReserveSource.farmer: "青年农民",
    ReserveSource.entrepreneur: "致富带头人",
    ReserveSource.other: "其他",
}


class ReserveTrack(enum.StrEnum):
    """Which post the candidate is prepared for: the "2" or the "5" of "2+5"."""

    secretary = "secretary"  # 书记后备
    committee = "committee"  # 两委委员后备


TRACK_LABELS = {ReserveTrack.secretary: "书记后备", ReserveTrack.committee: "两委委员后备"}


class ReserveStatus(enum.StrEnum):
    cultivating = "cultivating"  # 培养中
    appointed = "appointed"  # 已任用
    withdrawn = "withdrawn"  # 已退出


STATUS_LABELS = {
    ReserveStatus.cultivating: "培养中",
    ReserveStatus.appointed: "已任用",
    ReserveStatus.withdrawn: "已退出",
}


@audited
class ReserveCadre(Base):
    """One reserve cadre of a village (on the Party roster or not)."""

    __tablename__ = "reserve_cadre"

    id: Mapped[int] = mapped_column(primary_key=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("member.id"))
    name: Mapped[str] = mapped_column(String(32))
    source: Mapped[ReserveSource] = mapped_column(
        Enum(ReserveSource, native_enum=False, length=16, validate_strings=True)
    )
    track: Mapped[ReserveTrack] = mapped_column(
        Enum(ReserveTrack, native_enum=False, length=16, validate_strings=True)
    )
    entered_on: Mapped[date]
    mentor: Mapped[str] = mapped_column(String(64), default="")
    plan: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[ReserveStatus] = mapped_column(
        Enum(ReserveStatus, native_enum=False, length=16, validate_strings=True),
        default=ReserveStatus.cultivating,
    )
    status_on: Mapped[date | None]
    status_reason: Mapped[str] = mapped_column(String(200), default="")
    entered_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime | None]

    member: Mapped[Member | None] = relationship()
    assessments: Mapped[list[ReserveAssessment]] = relationship(
        back_populates="reserve",
        cascade="all, delete-orphan",
        order_by="ReserveAssessment.assessed_on",
    )

    @property
    def source_label(self) -> str:
        return SOURCE_LABELS[self.source]

    @property
    def track_label(self) -> str:
        return TRACK_LABELS[self.track]

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]


@audited
class ReserveAssessment(Base):
    """One assessment (考察/考核) of a reserve cadre."""

    __tablename__ = "reserve_assessment"

    id: Mapped[int] = mapped_column(primary_key=True)
    reserve_id: Mapped[int] = mapped_column(ForeignKey("reserve_cadre.id"), index=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    assessed_on: Mapped[date]
    assessor: Mapped[str] = mapped_column(String(64))
    result: Mapped[str] = mapped_column(String(500))

    reserve: Mapped[ReserveCadre] = relationship(back_populates="assessments")
