"""三会一课 and organizational-life ledgers: meetings, attendance, attachments,
the hash-chained version history, quarter plans (计划报备) and per-county rule
overrides.

Every table carries ``region_id`` (the village) so the scope filter applies.
A meeting's ``version`` counts its versions; each version is a
:class:`MeetingVersion` row whose ``hash`` chains to the previous version of
the same branch (see :mod:`tracker.meetings.services`).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.audit import audited
from tracker.models.accounts import User
from tracker.models.base import Base, JSONText, utcnow
from tracker.models.party import Branch, Member, PartyGroup


@audited
class MeetingKind(Base):
    """A meeting kind configured by an admin beyond the built-in eight (新增会议类型).

    ``frequency`` uses the ``[rules]`` syntax (``monthly``, ``quarterly``,
    ``yearly``, ``yearly:Q4``) or ``none`` for a kind that is recorded but not
    required.
    """

    __tablename__ = "meeting_kind"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(32))
    frequency: Mapped[str] = mapped_column(String(16), default="none")
    needs_quorum: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


@audited
class Meeting(Base):
    """One meeting record, as on a page of the paper 记录簿."""

    __tablename__ = "meeting"

    id: Mapped[int] = mapped_column(primary_key=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branch.id"), index=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    # 党小组会: the party group that met.
    group_id: Mapped[int | None] = mapped_column(ForeignKey("party_group.id"), index=True)
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime]
    place: Mapped[str] = mapped_column(String(100))
    host_id: Mapped[int] = mapped_column(ForeignKey("member.id"))
    recorder: Mapped[str] = mapped_column(String(32))
    lecturer: Mapped[str | None] = mapped_column(String(64))  # 党课 授课人
    topics: Mapped[str] = mapped_column(Text)  # 议题, one per line
    content: Mapped[str] = mapped_column(Text, default="")
    resolutions: Mapped[str] = mapped_column(Text, default="")  # 决议
    guests: Mapped[str] = mapped_column(Text, default="")  # 列席 non-members
    # Quorum (支部党员大会): full members on the roster / present; None = not applicable.
    full_members: Mapped[int] = mapped_column(default=0)
    full_present: Mapped[int] = mapped_column(default=0)
    quorum_met: Mapped[bool | None]
    # Integrity: server time of the first entry, who, late (补录) flag.
    entered_at: Mapped[datetime] = mapped_column(default=utcnow)
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    late: Mapped[bool] = mapped_column(default=False)
    late_working_days: Mapped[int] = mapped_column(default=0)
    imported: Mapped[bool] = mapped_column(default=False)
    imported_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(default=1)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    deleted_at: Mapped[datetime | None]
    deleted_reason: Mapped[str | None] = mapped_column(String(200))
    # Client-generated key of the submit that created it: a retried submit is harmless.
    client_uuid: Mapped[str | None] = mapped_column(String(64), unique=True)

    branch: Mapped[Branch] = relationship()
    group: Mapped[PartyGroup | None] = relationship()
    host: Mapped[Member] = relationship()
    entered_by: Mapped[User | None] = relationship()
    attendance: Mapped[list[Attendance]] = relationship(
        back_populates="meeting", cascade="all, delete-orphan", order_by="Attendance.member_id"
    )
    attachments: Mapped[list[MeetingAttachment]] = relationship(
        back_populates="meeting", cascade="all, delete-orphan", order_by="MeetingAttachment.id"
    )

    __table_args__ = (Index("ix_meeting_branch_started", "branch_id", "started_at"),)


class Attendance(Base):
    """One roster member at one meeting: present, 请假 (excused, with a reason) or 缺席."""

    __tablename__ = "meeting_attendance"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id"), index=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"))
    present: Mapped[bool] = mapped_column(default=True)
    absence_reason: Mapped[str] = mapped_column(String(100), default="")
    # Absent with leave asked beforehand (请假, a reason required); False = 缺席.
    excused: Mapped[bool] = mapped_column(default=False, server_default=false())
    # The member's vote on the day (full member), kept for quorum history.
    voting: Mapped[bool] = mapped_column(default=True)

    meeting: Mapped[Meeting] = relationship(back_populates="attendance")
    member: Mapped[Member] = relationship()

    __table_args__ = (UniqueConstraint("meeting_id", "member_id"),)


@audited
class MeetingAttachment(Base):
    """A photo or scan (sign-in sheet) stored on disk under its SHA-256."""

    __tablename__ = "meeting_attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id"), index=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(64))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    meeting: Mapped[Meeting] = relationship(back_populates="attachments")


class MeetingVersion(Base):
    """One version of a meeting record, hash-chained per branch (append-only).

    ``hash = sha256(canonical JSON of the version fields + prev_hash)``;
    ``seq`` orders the chain inside the branch.
    """

    __tablename__ = "meeting_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branch.id"))
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id"), index=True)
    seq: Mapped[int]
    version: Mapped[int]
    action: Mapped[str] = mapped_column(String(16))  # create / update / delete / import
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    reason: Mapped[str] = mapped_column(String(200), default="")
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSONText)
    diff: Mapped[dict[str, Any]] = mapped_column(JSONText)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    actor: Mapped[User | None] = relationship()

    __table_args__ = (UniqueConstraint("branch_id", "seq"),)


@audited
class MeetingPlan(Base):
    """计划报备: one planned meeting in a branch's quarter plan."""

    __tablename__ = "meeting_plan"

    id: Mapped[int] = mapped_column(primary_key=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branch.id"), index=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    year: Mapped[int]
    quarter: Mapped[int]
    kind: Mapped[str] = mapped_column(String(32))
    group_id: Mapped[int | None] = mapped_column(ForeignKey("party_group.id"))
    planned_on: Mapped[date]
    topic: Mapped[str] = mapped_column(String(200), default="")
    filed_at: Mapped[datetime] = mapped_column(default=utcnow)
    filed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    group: Mapped[PartyGroup | None] = relationship()

    __table_args__ = (Index("ix_meeting_plan_branch_year", "branch_id", "year", "quarter"),)


@audited
class MeetingRuleOverride(Base):
    """A county's own frequency for one meeting kind (overrides ``[rules]``)."""

    __tablename__ = "meeting_rule_override"

    id: Mapped[int] = mapped_column(primary_key=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)  # the county
    kind: Mapped[str] = mapped_column(String(32))
    frequency: Mapped[str] = mapped_column(String(16))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("region_id", "kind"),)
