"""发展党员: a recruitment case per person and the dated steps of the five stages.

A case (:class:`RecruitCase`) follows one person — a villager, not yet on the
roster — from the application (入党申请) to full membership (正式党员). Every
step (:class:`RecruitStep`) keeps its date, the body that decided it and the
meeting record (三会一课 ledger) where it was decided. The case's ``stage`` is
a cache of the steps, written only by :mod:`tracker.recruitment.services`.
On admission the case creates the member row (``member_id``) and the member's
'probationary from' fact; 转正 writes the 'full from' fact.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import Enum, ForeignKey, Index, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.models.base import Base, audited, utcnow
from tracker.models.party import Branch, Gender, Member

if TYPE_CHECKING:
    from tracker.meetings.models import Meeting
    from tracker.trainings.models import Training


class Stage(enum.StrEnum):
    """The five official stages (and the two ways a case ends early)."""

    applicant = "applicant"  # 入党申请人
    activist = "activist"  # 入党积极分子
    candidate = "candidate"  # 发展对象
    probationary = "probationary"  # 预备党员
    full = "full"  # 正式党员
    cancelled = "cancelled"  # 取消预备党员资格
    closed = "closed"  # 终止培养（申请人撤回、不再列为积极分子等）


STAGE_LABELS = {
    Stage.applicant: "入党申请人",
    Stage.activist: "入党积极分子",
    Stage.candidate: "发展对象",
    Stage.probationary: "预备党员",
    Stage.full: "正式党员",
    Stage.cancelled: "已取消预备党员资格",
    Stage.closed: "已终止培养",
}
# The five stages in order (the list page's filter and the timeline's columns).
STAGES = (Stage.applicant, Stage.activist, Stage.candidate, Stage.probationary, Stage.full)


class StepKind(enum.StrEnum):
    """One step of a case, in the order the regulations put them."""

    application = "application"  # 递交入党申请书
    talk = "talk"  # 党组织派人谈话（一个月内）
    activist = "activist"  # 确定为入党积极分子（支部委员会）
    review = "review"  # 培养考察（每季度/半年一次）
    candidate = "candidate"  # 确定为发展对象（满一年后）
    political = "political"  # 政治审查
    training = "training"  # 集中培训（≥3 天或 24 学时）
    publicity = "publicity"  # 公示（≥N 个工作日）
    admission = "admission"  # 支部党员大会接收为预备党员
    approval = "approval"  # 上级党委审批（3 个月内）
    extension = "extension"  # 延长预备期（一次，≤1 年）
    full = "full"  # 支部党员大会讨论转正
    cancel = "cancel"  # 取消预备党员资格
    close = "close"  # 终止培养


STEP_LABELS = {
    StepKind.application: "递交入党申请书",
    StepKind.talk: "入党申请谈话",
    StepKind.activist: "确定为入党积极分子",
    StepKind.review: "培养考察",
    StepKind.candidate: "确定为发展对象",
    StepKind.political: "政治审查",
    StepKind.training: "集中培训",
    StepKind.publicity: "发展对象公示",
    StepKind.admission: "支部党员大会接收为预备党员",
    StepKind.approval: "上级党委审批",
    StepKind.extension: "延长预备期",
    StepKind.full: "按期转正",
    StepKind.cancel: "取消预备党员资格",
    StepKind.close: "终止培养",
}


@audited
class RecruitCase(Base):
    """发展党员: one person's way from the application to full membership."""

    __tablename__ = "recruit_case"

    id: Mapped[int] = mapped_column(primary_key=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branch.id"), index=True)
    # The member row, once admitted as probationary (预备党员).
    member_id: Mapped[int | None] = mapped_column(ForeignKey("member.id"), unique=True)
    name: Mapped[str] = mapped_column(String(32))
    gender: Mapped[Gender | None] = mapped_column(
        Enum(Gender, native_enum=False, length=8, validate_strings=True)
    )
    birth_date: Mapped[date | None]
    phone: Mapped[str | None] = mapped_column(String(20))
    occupation: Mapped[str | None] = mapped_column(String(64))
    education: Mapped[str | None] = mapped_column(String(16))
    applied_on: Mapped[date]
    stage: Mapped[Stage] = mapped_column(
        Enum(Stage, native_enum=False, length=16, validate_strings=True),
        default=Stage.applicant,
        index=True,
    )
    note: Mapped[str | None] = mapped_column(Text)
    entered_at: Mapped[datetime] = mapped_column(default=utcnow)
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    branch: Mapped[Branch] = relationship()
    member: Mapped[Member | None] = relationship()
    steps: Mapped[list[RecruitStep]] = relationship(
        back_populates="case",
        cascade="all, delete-orphan",
        order_by="(RecruitStep.on, RecruitStep.id)",
        lazy="raise",
    )

    __table_args__ = (Index("ix_recruit_case_region_stage", "region_id", "stage"),)

    @property
    def stage_label(self) -> str:
        return STAGE_LABELS[self.stage]


@audited
class RecruitStep(Base):
    """One dated step of a case: what was decided, by whom, at which meeting.

    The columns beyond the date, body and meeting are used by the steps that
    need them: ``person_a``/``person_b`` (谈话人; the two 培养联系人), ``until``
    (the training's last day, the publicity's last day, the extended probation's
    end), ``hours`` (training hours), ``result`` (政审结论, 考察意见),
    ``training_id`` (the trainings-register record of the concentrated training).
    """

    __tablename__ = "recruit_step"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("recruit_case.id"), index=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    kind: Mapped[StepKind] = mapped_column(
        Enum(StepKind, native_enum=False, length=16, validate_strings=True)
    )
    on: Mapped[date]
    until: Mapped[date | None]
    body: Mapped[str | None] = mapped_column(String(64))  # 决定机关/组织
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meeting.id"))
    training_id: Mapped[int | None] = mapped_column(ForeignKey("training.id"))
    person_a: Mapped[str | None] = mapped_column(String(32))
    person_b: Mapped[str | None] = mapped_column(String(32))
    hours: Mapped[Decimal | None] = mapped_column(Numeric(5, 1))
    passed: Mapped[bool | None]  # 政审结论合格
    result: Mapped[str | None] = mapped_column(String(500))
    entered_at: Mapped[datetime] = mapped_column(default=utcnow)

    case: Mapped[RecruitCase] = relationship(back_populates="steps")
    meeting: Mapped[Meeting | None] = relationship("Meeting")
    training: Mapped[Training | None] = relationship("Training")

    @property
    def label(self) -> str:
        return STEP_LABELS[self.kind]
