"""Seconded-cadre management (机关干部服务基层挂职, after Yanji).

A :class:`Batch` (挂职批次) belongs to the county node that runs it; its
leading group, office and assessment groups are :class:`WorkGroup` rows with
members and the regions each covers. :class:`Candidate` rows carry the
political checks and the one-vote veto (一票否决); a :class:`Secondment`
places a selected cadre in a receiving unit (``region_id`` = the receiving
township or village, so the township sees the cadres seconded to it). The five
assessment systems hang off the secondment: :class:`WorkLogEntry` (工作记实),
:class:`WeeklyReport` with its :class:`WeeklyReportVersion` (周报公示),
:class:`Assessment` (定期考核), :class:`Inspection` (现场督查) and
:class:`Complaint` (监督举报). :class:`ResultItem` records problems solved,
reported upward and suggestions; the end outcome sits on the secondment.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    Enum,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.models.accounts import User
from tracker.models.base import Base, JSONText, audited, utcnow
from tracker.models.regions import Region


def _enum(cls: type[enum.Enum], length: int = 24) -> Enum:
    return Enum(cls, native_enum=False, length=length, validate_strings=True)


class GroupKind(enum.StrEnum):
    """Bodies of the programme (领导小组、办公室、考核办、考核组)."""

    leading = "leading"  # 领导小组
    office = "office"  # 领导小组办公室
    assessment_office = "assessment_office"  # 考核办
    assessment = "assessment"  # 考核组


GROUP_KIND_LABELS = {
    GroupKind.leading: "领导小组",
    GroupKind.office: "领导小组办公室",
    GroupKind.assessment_office: "考核办",
    GroupKind.assessment: "考核组",
}


class PostType(enum.StrEnum):
    """What the receiving post needs (人岗相适)."""

    three_areas = "three_areas"  # 三区
    town_village = "town_village"  # 乡镇、村
    street_community = "street_community"  # 街道、社区
    petition = "petition"  # 信访岗位
    project = "project"  # 项目一线


POST_TYPE_LABELS = {
    PostType.three_areas: "三区",
    PostType.town_village: "乡镇、村",
    PostType.street_community: "街道、社区",
    PostType.petition: "信访岗位",
    PostType.project: "项目一线",
}


class CandidateStatus(enum.StrEnum):
    proposed = "proposed"  # 已提名，审查中
    selected = "selected"  # 审查通过，选定
    vetoed = "vetoed"  # 一票否决


CANDIDATE_STATUS_LABELS = {
    CandidateStatus.proposed: "审查中",
    CandidateStatus.selected: "已选定",
    CandidateStatus.vetoed: "一票否决",
}


class Outcome(enum.StrEnum):
    """End-of-term outcomes (挂职期满使用)."""

    promoted = "promoted"  # 提拔任用
    important_post = "important_post"  # 调整到重要岗位
    admonished = "admonished"  # 诫勉谈话
    criticized = "criticized"  # 通报批评
    organizational = "organizational"  # 组织处理


OUTCOME_LABELS = {
    Outcome.promoted: "提拔任用",
    Outcome.important_post: "调整到重要岗位",
    Outcome.admonished: "诫勉谈话",
    Outcome.criticized: "通报批评",
    Outcome.organizational: "组织处理",
}


class Grade(enum.StrEnum):
    excellent = "excellent"  # 优秀
    competent = "competent"  # 称职
    basic = "basic"  # 基本称职
    unfit = "unfit"  # 不称职


GRADE_LABELS = {
    Grade.excellent: "优秀",
    Grade.competent: "称职",
    Grade.basic: "基本称职",
    Grade.unfit: "不称职",
}


class ResultKind(enum.StrEnum):
    solved = "solved"  # 为基层解决问题
    reported = "reported"  # 向上反映问题
    suggestion = "suggestion"  # 提出意见建议


RESULT_KIND_LABELS = {
    ResultKind.solved: "解决基层问题",
    ResultKind.reported: "向上反映问题",
    ResultKind.suggestion: "意见建议",
}


class ComplaintStatus(enum.StrEnum):
    open = "open"
    closed = "closed"


@audited
class Batch(Base):
    """A secondment batch (挂职批次) of one county: year, purpose, the 管理办法."""

    __tablename__ = "secondment_batch"

    id: Mapped[int] = mapped_column(primary_key=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    year: Mapped[int]
    name: Mapped[str] = mapped_column(String(100))
    purpose: Mapped[str] = mapped_column(Text, default="")
    # The 管理办法 as an uploaded file name under UPLOAD_DIR (optional).
    rules_file: Mapped[str | None] = mapped_column(String(255))
    # Selection is complete (选拔完成) from this day: no secondment starts before it.
    selection_completed_on: Mapped[date | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    region: Mapped[Region] = relationship()
    groups: Mapped[list[WorkGroup]] = relationship(
        back_populates="batch", cascade="all, delete-orphan"
    )


@audited
class WorkGroup(Base):
    """The leading group, its office, the assessment office or one assessment group."""

    __tablename__ = "secondment_group"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("secondment_batch.id"), index=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    kind: Mapped[GroupKind] = mapped_column(_enum(GroupKind))
    name: Mapped[str] = mapped_column(String(100))

    batch: Mapped[Batch] = relationship(back_populates="groups")
    members: Mapped[list[GroupMember]] = relationship(
        back_populates="group", cascade="all, delete-orphan"
    )
    covers: Mapped[list[GroupCoverage]] = relationship(
        back_populates="group", cascade="all, delete-orphan"
    )


class GroupMember(Base):
    """A person of a group; ``user_id`` links an account (the assessment office's rights)."""

    __tablename__ = "secondment_group_member"

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("secondment_group.id"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    duty: Mapped[str] = mapped_column(String(64), default="")  # 组长、副组长、成员
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)

    group: Mapped[WorkGroup] = relationship(back_populates="members")
    user: Mapped[User | None] = relationship()


class GroupCoverage(Base):
    """A township or unit an assessment group covers."""

    __tablename__ = "secondment_group_coverage"

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("secondment_group.id"), index=True)
    covered_region_id: Mapped[int] = mapped_column(ForeignKey("region.id"))

    group: Mapped[WorkGroup] = relationship(back_populates="covers")
    covered_region: Mapped[Region] = relationship()

    __table_args__ = (UniqueConstraint("group_id", "covered_region_id"),)


@audited
class Candidate(Base):
    """A cadre proposed by the organization department, with the political checks."""

    __tablename__ = "secondment_candidate"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("secondment_batch.id"), index=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    rank: Mapped[str] = mapped_column(String(32), default="")  # 副科级、后备干部 …
    sending_unit: Mapped[str] = mapped_column(String(100))
    wanted_post_type: Mapped[PostType] = mapped_column(_enum(PostType))
    status: Mapped[CandidateStatus] = mapped_column(
        _enum(CandidateStatus), default=CandidateStatus.proposed
    )
    # 纪检、法律审查: who checked and when (None = not checked yet).
    discipline_checked_on: Mapped[date | None]
    discipline_checked_by: Mapped[str] = mapped_column(String(100), default="")
    legal_checked_on: Mapped[date | None]
    legal_checked_by: Mapped[str] = mapped_column(String(100), default="")
    # 一票否决: a past Party or administrative sanction, with its source and date.
    veto_reason: Mapped[str | None] = mapped_column(String(300))
    veto_source: Mapped[str | None] = mapped_column(String(100))
    veto_on: Mapped[date | None]

    batch: Mapped[Batch] = relationship()


class SecondmentStatus(enum.StrEnum):
    active = "active"  # 在岗
    ended = "ended"  # 期满/结束


@audited
class Secondment(Base):
    """One cadre's secondment; ``region_id`` is the receiving township or village."""

    __tablename__ = "secondment"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("secondment_batch.id"), index=True)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("secondment_candidate.id"), index=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    # The cadre's own account (scoped to the receiving unit): writes log and reports.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    cadre_name: Mapped[str] = mapped_column(String(64))
    rank: Mapped[str] = mapped_column(String(32), default="")
    sending_unit: Mapped[str] = mapped_column(String(100))
    receiving_unit: Mapped[str] = mapped_column(String(100))
    post: Mapped[str] = mapped_column(String(100))
    post_type: Mapped[PostType] = mapped_column(_enum(PostType))
    start_on: Mapped[date] = mapped_column(index=True)
    planned_end_on: Mapped[date]
    actual_end_on: Mapped[date | None]
    # 三方共管: the organization department, the receiving and the sending unit.
    joint_management: Mapped[str] = mapped_column(Text, default="")
    # 派出单位保障: pay and promotion continue (a pledge, not payroll).
    guarantee_given: Mapped[bool] = mapped_column(default=False)
    guarantee_on: Mapped[date | None]
    guarantee_note: Mapped[str] = mapped_column(String(300), default="")
    # Unguessable key of the public complaint form (a QR code posted at the receiving unit).
    public_token: Mapped[str] = mapped_column(String(32), unique=True)
    outcome: Mapped[Outcome | None] = mapped_column(_enum(Outcome))
    outcome_decision: Mapped[str | None] = mapped_column(String(300))
    outcome_on: Mapped[date | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    batch: Mapped[Batch] = relationship()
    candidate: Mapped[Candidate] = relationship()
    region: Mapped[Region] = relationship()
    user: Mapped[User | None] = relationship()

    def status_on(self, day: date) -> SecondmentStatus:
        end = self.actual_end_on
        if end is not None and end < day:
            return SecondmentStatus.ended
        return SecondmentStatus.active

    @property
    def end_on(self) -> date:
        return self.actual_end_on or self.planned_end_on


@audited
class WorkLogEntry(Base):
    """工作记实: one dated entry of the cadre's work."""

    __tablename__ = "secondment_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    secondment_id: Mapped[int] = mapped_column(ForeignKey("secondment.id"), index=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    day: Mapped[date]
    what: Mapped[str] = mapped_column(Text)
    place: Mapped[str] = mapped_column(String(100), default="")
    with_whom: Mapped[str] = mapped_column(String(200), default="")
    outcome: Mapped[str] = mapped_column(Text, default="")
    entered_at: Mapped[datetime] = mapped_column(default=utcnow)

    secondment: Mapped[Secondment] = relationship()


# Fields of a weekly report the publication (公示) may show, in order.
PUBLIC_FIELDS = ("work_done", "problems", "next_plan")
PUBLIC_FIELD_LABELS = {"work_done": "本周工作", "problems": "问题困难", "next_plan": "下周计划"}


@audited
class WeeklyReport(Base):
    """周报: one per secondment and week (Monday); edits add versions."""

    __tablename__ = "secondment_weekly"

    id: Mapped[int] = mapped_column(primary_key=True)
    secondment_id: Mapped[int] = mapped_column(ForeignKey("secondment.id"), index=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    week_start: Mapped[date]
    work_done: Mapped[str] = mapped_column(Text)
    problems: Mapped[str] = mapped_column(Text, default="")
    next_plan: Mapped[str] = mapped_column(Text, default="")
    # Which of PUBLIC_FIELDS the 公示 shows (the cadre's and the unit's choice).
    public_fields: Mapped[list[str]] = mapped_column(JSONText, default=list)
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)
    on_time: Mapped[bool] = mapped_column(default=True)
    version: Mapped[int] = mapped_column(default=1)
    updated_at: Mapped[datetime | None]

    secondment: Mapped[Secondment] = relationship()
    versions: Mapped[list[WeeklyReportVersion]] = relationship(
        back_populates="report",
        cascade="all, delete-orphan",
        order_by="WeeklyReportVersion.version",
    )

    __table_args__ = (UniqueConstraint("secondment_id", "week_start"),)


class WeeklyReportVersion(Base):
    """An earlier text of a weekly report, kept when it was edited."""

    __tablename__ = "secondment_weekly_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("secondment_weekly.id"), index=True)
    version: Mapped[int]
    work_done: Mapped[str] = mapped_column(Text)
    problems: Mapped[str] = mapped_column(Text, default="")
    next_plan: Mapped[str] = mapped_column(Text, default="")
    saved_at: Mapped[datetime] = mapped_column(default=utcnow)

    report: Mapped[WeeklyReport] = relationship(back_populates="versions")

    __table_args__ = (UniqueConstraint("report_id", "version"),)


@audited
class Assessment(Base):
    """定期考核: a grade for one assessment window (``window_key`` e.g. 2026-Q1, 2026-H1, end)."""

    __tablename__ = "secondment_assessment"

    id: Mapped[int] = mapped_column(primary_key=True)
    secondment_id: Mapped[int] = mapped_column(ForeignKey("secondment.id"), index=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    window_key: Mapped[str] = mapped_column(String(10))
    assessed_on: Mapped[date]
    grade: Mapped[Grade] = mapped_column(_enum(Grade))
    assessors: Mapped[str] = mapped_column(String(200))
    comment: Mapped[str] = mapped_column(Text, default="")

    secondment: Mapped[Secondment] = relationship()

    __table_args__ = (UniqueConstraint("secondment_id", "window_key"),)


@audited
class Inspection(Base):
    """现场督查: a visit by an assessment group."""

    __tablename__ = "secondment_inspection"

    id: Mapped[int] = mapped_column(primary_key=True)
    secondment_id: Mapped[int] = mapped_column(ForeignKey("secondment.id"), index=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    group_id: Mapped[int | None] = mapped_column(ForeignKey("secondment_group.id"), index=True)
    day: Mapped[date]
    place: Mapped[str] = mapped_column(String(100))
    present: Mapped[bool]
    findings: Mapped[str] = mapped_column(Text, default="")
    rectification: Mapped[str] = mapped_column(Text, default="")
    rectify_by: Mapped[date | None]
    # 整改完成: the day the finding was rectified (not before the visit, not in the future).
    rectified_on: Mapped[date | None]
    rectified_note: Mapped[str] = mapped_column(Text, default="")
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    secondment: Mapped[Secondment] = relationship()
    group: Mapped[WorkGroup | None] = relationship()


@audited
class Complaint(Base):
    """监督举报: a report about a seconded cadre, from the public form or typed in.

    The complainant's name and contact are shown only to members of the
    batch's assessment office (:func:`tracker.secondment.services.sees_identity`).
    """

    __tablename__ = "secondment_complaint"

    id: Mapped[int] = mapped_column(primary_key=True)
    secondment_id: Mapped[int] = mapped_column(ForeignKey("secondment.id"), index=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    channel: Mapped[str] = mapped_column(String(16))  # public / staff
    content: Mapped[str] = mapped_column(Text)
    complainant_name: Mapped[str] = mapped_column(String(64), default="")
    complainant_contact: Mapped[str] = mapped_column(String(64), default="")
    due_on: Mapped[date]
    status: Mapped[ComplaintStatus] = mapped_column(
        _enum(ComplaintStatus, 16), default=ComplaintStatus.open
    )
    outcome: Mapped[str] = mapped_column(Text, default="")
    reply: Mapped[str] = mapped_column(Text, default="")
    closed_on: Mapped[date | None]
    # Hash of the sender's address for the flood limit (never the address itself).
    source_hash: Mapped[str | None] = mapped_column(String(64), index=True)

    secondment: Mapped[Secondment] = relationship()

    __table_args__ = (Index("ix_secondment_complaint_status", "status", "due_on"),)


@audited
class ResultItem(Base):
    """A problem solved for the grass roots, a problem reported upward, or a suggestion."""

    __tablename__ = "secondment_result"

    id: Mapped[int] = mapped_column(primary_key=True)
    secondment_id: Mapped[int] = mapped_column(ForeignKey("secondment.id"), index=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    kind: Mapped[ResultKind] = mapped_column(_enum(ResultKind, 16))
    day: Mapped[date]
    title: Mapped[str] = mapped_column(String(200))
    detail: Mapped[str] = mapped_column(Text, default="")

    secondment: Mapped[Secondment] = relationship()
