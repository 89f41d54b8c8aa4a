"""Training records and their attendees."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Enum, ForeignKey, Index, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.models.accounts import User
from tracker.models.base import Base, audited, utcnow
from tracker.models.party import Branch, Member


class TrainingKind(enum.StrEnum):
    """What kind of training (培训类别)."""

    party_education = "party_education"  # 党员教育培训
    cadre = "cadre"  # 村干部培训
    reserve_cadre = "reserve_cadre"  # 后备干部培训（“2+5”计划）
    skills = "skills"  # 实用技术培训
    other = "other"  # 其他


KIND_LABELS = {
    TrainingKind.party_education: "党员教育培训",
    TrainingKind.cadre: "村干部培训",
    TrainingKind.reserve_cadre: "后备干部培训",
    TrainingKind.skills: "实用技术培训",
    TrainingKind.other: "其他培训",
}


@audited
class Training(Base):
    """One training session held by (or for) a village branch."""

    __tablename__ = "training"

    id: Mapped[int] = mapped_column(primary_key=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branch.id"), index=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    kind: Mapped[TrainingKind] = mapped_column(
        Enum(TrainingKind, native_enum=False, length=24, validate_strings=True)
    )
    title: Mapped[str] = mapped_column(String(100))
    held_on: Mapped[date] = mapped_column(index=True)
    hours: Mapped[Decimal] = mapped_column(Numeric(5, 1))
    place: Mapped[str] = mapped_column(String(100))
    organizer: Mapped[str] = mapped_column(String(100), default="")
    lecturer: Mapped[str] = mapped_column(String(64), default="")
    content: Mapped[str] = mapped_column(Text, default="")
    # Attendees who are not on the branch roster (群众、外来讲师以外的人员).
    other_attendees: Mapped[int] = mapped_column(default=0)
    # Server time of entry and lateness (补录), as for meetings.
    entered_at: Mapped[datetime] = mapped_column(default=utcnow)
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    late: Mapped[bool] = mapped_column(default=False)
    late_working_days: Mapped[int] = mapped_column(default=0)
    # Client-generated token of the form/API request: a double submit saves once.
    client_token: Mapped[str | None] = mapped_column(String(64), unique=True)
    updated_at: Mapped[datetime | None]
    deleted_at: Mapped[datetime | None]
    delete_reason: Mapped[str | None] = mapped_column(String(200))

    branch: Mapped[Branch] = relationship()
    entered_by: Mapped[User | None] = relationship()
    # Hot (a list shows every training's attendees): never lazy-loaded. Lists load it with
    # ``services.trainings_of_branch``, one record with ``services.load_attendees``.
    attendees: Mapped[list[TrainingAttendee]] = relationship(
        back_populates="training", cascade="all, delete-orphan", lazy="raise"
    )

    __table_args__ = (Index("ix_training_branch_held", "branch_id", "held_on"),)

    @property
    def kind_label(self) -> str:
        return KIND_LABELS[self.kind]


class TrainingAttendee(Base):
    """A roster member who attended a training."""

    __tablename__ = "training_attendee"

    id: Mapped[int] = mapped_column(primary_key=True)
    training_id: Mapped[int] = mapped_column(ForeignKey("training.id"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"))

    training: Mapped[Training] = relationship(back_populates="attendees")
    member: Mapped[Member] = relationship()

    __table_args__ = (UniqueConstraint("training_id", "member_id"),)


@audited
class ConcentratedTraining(Base):
    """每年集中培训: a concentrated training of one Party organization — a township
    (乡镇党委) or a village branch — identified by its region. Each organization owes
    ``[trainings] concentrated_hours`` in every ``[trainings] concentrated`` window."""

    __tablename__ = "concentrated_training"

    id: Mapped[int] = mapped_column(primary_key=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    title: Mapped[str] = mapped_column(String(100))
    held_on: Mapped[date] = mapped_column(index=True)
    hours: Mapped[Decimal] = mapped_column(Numeric(5, 1))
    place: Mapped[str] = mapped_column(String(100))
    organizer: Mapped[str] = mapped_column(String(100), default="")
    participants: Mapped[int] = mapped_column(default=0)
    content: Mapped[str] = mapped_column(Text, default="")
    entered_at: Mapped[datetime] = mapped_column(default=utcnow)
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    deleted_at: Mapped[datetime | None]
    delete_reason: Mapped[str | None] = mapped_column(String(200))

    __table_args__ = (Index("ix_concentrated_training_region_held", "region_id", "held_on"),)


@audited
class FarmerTraining(Base):
    """农民教育培训: a training session for villagers, with a topic category from
    ``[trainings] farmer_topics``, a count of trainees and/or named trainees who are not
    on the Party roster (their phones are masked in lists and exports)."""

    __tablename__ = "farmer_training"

    id: Mapped[int] = mapped_column(primary_key=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    topic: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(100))
    held_on: Mapped[date] = mapped_column(index=True)
    hours: Mapped[Decimal] = mapped_column(Numeric(5, 1))
    place: Mapped[str] = mapped_column(String(100))
    organizer: Mapped[str] = mapped_column(String(100), default="")
    lecturer: Mapped[str] = mapped_column(String(64), default="")
    # Trainees not named one by one (签到人数).
    trainee_count: Mapped[int] = mapped_column(default=0)
    content: Mapped[str] = mapped_column(Text, default="")
    entered_at: Mapped[datetime] = mapped_column(default=utcnow)
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    updated_at: Mapped[datetime | None]
    deleted_at: Mapped[datetime | None]
    delete_reason: Mapped[str | None] = mapped_column(String(200))

    # Hot (lists show the trainee total): loaded with ``services.farmer_trainings``.
    trainees: Mapped[list[FarmerTrainee]] = relationship(
        back_populates="training",
        cascade="all, delete-orphan",
        lazy="raise",
        order_by="FarmerTrainee.id",
    )

    __table_args__ = (Index("ix_farmer_training_region_held", "region_id", "held_on"),)

    @property
    def total(self) -> int:
        """Trainees: the named ones plus the counted ones."""
        return self.trainee_count + len(self.trainees)


@audited
class FarmerTrainee(Base):
    """A named villager who attended a farmer training (not on the Party roster)."""

    __tablename__ = "farmer_trainee"

    id: Mapped[int] = mapped_column(primary_key=True)
    training_id: Mapped[int] = mapped_column(ForeignKey("farmer_training.id"), index=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    name: Mapped[str] = mapped_column(String(32))
    phone: Mapped[str] = mapped_column(String(20), default="")

    training: Mapped[FarmerTraining] = relationship(back_populates="trainees")
