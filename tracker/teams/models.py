"""Village reserve cadres (村级后备干部) and their assessments."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Enum, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.models.base import Base, audited, utcnow
from tracker.models.party import Member, VillageCadre


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


class Grade(enum.StrEnum):
    """Yearly assessment grade of a village cadre."""

    excellent = "excellent"  # 优秀
    competent = "competent"  # 称职
    basic = "basic"  # 基本称职
    incompetent = "incompetent"  # 不称职


GRADE_LABELS = {
    Grade.excellent: "优秀",
    Grade.competent: "称职",
    Grade.basic: "基本称职",
    Grade.incompetent: "不称职",
}


class RecallStepKind(enum.StrEnum):
    """The steps of a recall case (召回), in order."""

    talk = "talk"  # 召回谈话
    training = "training"  # 教育培训
    review = "review"  # 考核
    outcome = "outcome"  # 返岗 or 调整/免职


STEP_LABELS = {
    RecallStepKind.talk: "召回谈话",
    RecallStepKind.training: "教育培训",
    RecallStepKind.review: "考核",
    RecallStepKind.outcome: "返岗或调整/免职",
}


class RecallOutcome(enum.StrEnum):
    returned = "returned"  # 返岗
    adjusted = "adjusted"  # 调整
    dismissed = "dismissed"  # 免职


OUTCOME_LABELS = {
    RecallOutcome.returned: "返岗",
    RecallOutcome.adjusted: "调整",
    RecallOutcome.dismissed: "免职",
}


@audited
class CadreAssessment(Base):
    """One yearly assessment (年度考核) of a village cadre and the body that decided."""

    __tablename__ = "cadre_assessment"

    id: Mapped[int] = mapped_column(primary_key=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    cadre_id: Mapped[int] = mapped_column(ForeignKey("village_cadre.id"), index=True)
    year: Mapped[int]
    grade: Mapped[Grade] = mapped_column(
        Enum(Grade, native_enum=False, length=16, validate_strings=True)
    )
    decided_by: Mapped[str] = mapped_column(String(64))
    decided_on: Mapped[date]
    note: Mapped[str] = mapped_column(String(500), default="")
    entered_at: Mapped[datetime] = mapped_column(default=utcnow)

    cadre: Mapped[VillageCadre] = relationship()

    __table_args__ = (UniqueConstraint("cadre_id", "year"),)

    @property
    def grade_label(self) -> str:
        return GRADE_LABELS[self.grade]


@audited
class RecallCase(Base):
    """A recall case (召回) opened by a 不称职 grade."""

    __tablename__ = "recall_case"

    id: Mapped[int] = mapped_column(primary_key=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("cadre_assessment.id"), unique=True)
    opened_on: Mapped[date]
    decided_by: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(500))
    outcome: Mapped[RecallOutcome | None] = mapped_column(
        Enum(RecallOutcome, native_enum=False, length=16, validate_strings=True)
    )
    closed_on: Mapped[date | None]

    assessment: Mapped[CadreAssessment] = relationship()
    steps: Mapped[list[RecallStep]] = relationship(
        back_populates="case", cascade="all, delete-orphan", order_by="RecallStep.position"
    )

    @property
    def outcome_label(self) -> str:
        return OUTCOME_LABELS[self.outcome] if self.outcome else ""


@audited
class RecallStep(Base):
    """One step of a recall case, due a number of working days after the one before."""

    __tablename__ = "recall_step"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("recall_case.id"), index=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    position: Mapped[int]
    kind: Mapped[RecallStepKind] = mapped_column(
        Enum(RecallStepKind, native_enum=False, length=16, validate_strings=True)
    )
    due_on: Mapped[date]
    done_on: Mapped[date | None]
    note: Mapped[str] = mapped_column(String(500), default="")

    case: Mapped[RecallCase] = relationship(back_populates="steps")

    @property
    def label(self) -> str:
        return STEP_LABELS[self.kind]


class VacancyCause(enum.StrEnum):
    """Why a village post fell vacant (岗位空缺原因)."""

    recall = "recall"  # 召回后调整/免职
    resigned = "resigned"  # 辞职
    transferred = "transferred"  # 调离
    deceased = "deceased"  # 去世
    other = "other"  # 其他


CAUSE_LABELS = {
    VacancyCause.recall: "召回后调整/免职",
    VacancyCause.resigned: "辞职",
    VacancyCause.transferred: "调离",
    VacancyCause.deceased: "去世",
    VacancyCause.other: "其他",
}


@audited
class PostVacancy(Base):
    """A village post left vacant (岗位空缺) that must be filled within
    ``[teams] vacancy_fill_working_days`` — from the reserve list when possible.

    The holders of a post over time are the dated :class:`VillageCadre` rows of the
    village with that post (``since``/``until``); a vacancy ends the old holder's term
    and its filling starts the new one's."""

    __tablename__ = "post_vacancy"

    id: Mapped[int] = mapped_column(primary_key=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    post: Mapped[str] = mapped_column(String(64))
    previous_cadre_id: Mapped[int | None] = mapped_column(ForeignKey("village_cadre.id"))
    cause: Mapped[VacancyCause] = mapped_column(
        Enum(VacancyCause, native_enum=False, length=16, validate_strings=True)
    )
    reason: Mapped[str] = mapped_column(String(200), default="")
    recall_case_id: Mapped[int | None] = mapped_column(ForeignKey("recall_case.id"))
    vacated_on: Mapped[date]
    due_on: Mapped[date]
    filled_on: Mapped[date | None]
    new_cadre_id: Mapped[int | None] = mapped_column(ForeignKey("village_cadre.id"))
    reserve_id: Mapped[int | None] = mapped_column(ForeignKey("reserve_cadre.id"))
    fill_note: Mapped[str] = mapped_column(String(200), default="")
    entered_at: Mapped[datetime] = mapped_column(default=utcnow)

    previous_cadre: Mapped[VillageCadre | None] = relationship(foreign_keys=[previous_cadre_id])
    new_cadre: Mapped[VillageCadre | None] = relationship(foreign_keys=[new_cadre_id])
    reserve: Mapped[ReserveCadre | None] = relationship()

    @property
    def cause_label(self) -> str:
        return CAUSE_LABELS[self.cause]
