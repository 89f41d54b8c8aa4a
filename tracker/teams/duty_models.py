"""Posts for members without office (无职党员设岗定责) and pledges with household links
(一诺三联四帮, 承诺践诺): the tables.

Kept apart from :mod:`tracker.teams.models` (reserve cadres, recall) so the two
halves of 队伍素质提升 grow side by side. Every table carries the ``region_id`` of
its village (the catalog: of its county) for the scope filter, and is audited.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Enum, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.models.base import Base, audited, utcnow
from tracker.models.party import Member, VillageCadre

# -- 设岗定责 ------------------------------------------------------------------------------


@audited
class PostCategory(Base):
    """A county's post category (岗位类别). A county without rows uses the defaults of
    ``[teams] post_categories``; its first edit copies them in."""

    __tablename__ = "duty_post_category"

    id: Mapped[int] = mapped_column(primary_key=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)  # the county
    name: Mapped[str] = mapped_column(String(32))
    position: Mapped[int] = mapped_column(default=0)

    __table_args__ = (UniqueConstraint("region_id", "name"),)


@audited
class DutyPost(Base):
    """One post of a county's catalog (岗位), e.g. 政策宣传岗 in 思想政治."""

    __tablename__ = "duty_post"

    id: Mapped[int] = mapped_column(primary_key=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)  # the county
    category: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(64))
    duties: Mapped[str] = mapped_column(Text, default="")
    retired_on: Mapped[date | None]

    __table_args__ = (UniqueConstraint("region_id", "name"),)


class PostGrade(enum.StrEnum):
    """Half-yearly review grade of a post holder."""

    excellent = "excellent"  # 优秀
    good = "good"  # 合格
    basic = "basic"  # 基本合格
    poor = "poor"  # 不合格


POST_GRADE_LABELS = {
    PostGrade.excellent: "优秀",
    PostGrade.good: "合格",
    PostGrade.basic: "基本合格",
    PostGrade.poor: "不合格",
}


@audited
class PostAssignment(Base):
    """A member without office on a post, with the duties agreed and the signed
    responsibility letter (责任书, a scan)."""

    __tablename__ = "duty_assignment"

    id: Mapped[int] = mapped_column(primary_key=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"), index=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("duty_post.id"), index=True)
    duties: Mapped[str] = mapped_column(Text, default="")
    started_on: Mapped[date]
    ended_on: Mapped[date | None]
    letter_signed_on: Mapped[date | None]
    letter_filename: Mapped[str | None] = mapped_column(String(200))
    letter_content_type: Mapped[str | None] = mapped_column(String(64))
    letter_sha256: Mapped[str | None] = mapped_column(String(64))
    letter_size: Mapped[int | None]
    entered_at: Mapped[datetime] = mapped_column(default=utcnow)

    member: Mapped[Member] = relationship()
    post: Mapped[DutyPost] = relationship()
    reviews: Mapped[list[PostReview]] = relationship(
        back_populates="assignment",
        cascade="all, delete-orphan",
        order_by="(PostReview.year, PostReview.half)",
    )


@audited
class PostReview(Base):
    """The review of one half-year (半年评议) of an assignment."""

    __tablename__ = "duty_review"

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("duty_assignment.id"), index=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    year: Mapped[int]
    half: Mapped[int]  # 1 = 上半年, 2 = 下半年
    reviewed_on: Mapped[date]
    grade: Mapped[PostGrade] = mapped_column(
        Enum(PostGrade, native_enum=False, length=16, validate_strings=True)
    )
    reviewer: Mapped[str] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(String(500), default="")

    assignment: Mapped[PostAssignment] = relationship(back_populates="reviews")

    __table_args__ = (UniqueConstraint("assignment_id", "year", "half"),)

    @property
    def grade_label(self) -> str:
        return POST_GRADE_LABELS[self.grade]


# -- 一诺三联四帮 --------------------------------------------------------------------------


class PledgeRating(enum.StrEnum):
    """Year-end rating of a pledge (评诺)."""

    excellent = "excellent"  # 优秀
    good = "good"  # 良好
    fair = "fair"  # 一般
    poor = "poor"  # 差


RATING_LABELS = {
    PledgeRating.excellent: "优秀",
    PledgeRating.good: "良好",
    PledgeRating.fair: "一般",
    PledgeRating.poor: "差",
}


@audited
class Pledge(Base):
    """One pledge of a member or cadre for a year: made (亮诺), kept (践诺), rated (评诺)."""

    __tablename__ = "pledge"

    id: Mapped[int] = mapped_column(primary_key=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    year: Mapped[int] = mapped_column(index=True)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("member.id"))
    cadre_id: Mapped[int | None] = mapped_column(ForeignKey("village_cadre.id"))
    name: Mapped[str] = mapped_column(String(32))
    content: Mapped[str] = mapped_column(String(500))
    made_on: Mapped[date]
    rating: Mapped[PledgeRating | None] = mapped_column(
        Enum(PledgeRating, native_enum=False, length=16, validate_strings=True)
    )
    rated_on: Mapped[date | None]
    rated_by: Mapped[str] = mapped_column(String(64), default="")
    rating_note: Mapped[str] = mapped_column(String(500), default="")
    entered_at: Mapped[datetime] = mapped_column(default=utcnow)

    member: Mapped[Member | None] = relationship()
    cadre: Mapped[VillageCadre | None] = relationship()
    progress: Mapped[list[PledgeProgress]] = relationship(
        back_populates="pledge", cascade="all, delete-orphan", order_by="PledgeProgress.on"
    )

    @property
    def rating_label(self) -> str:
        return RATING_LABELS[self.rating] if self.rating else ""


@audited
class PledgeProgress(Base):
    """One entry of what was done to keep a pledge (践诺)."""

    __tablename__ = "pledge_progress"

    id: Mapped[int] = mapped_column(primary_key=True)
    pledge_id: Mapped[int] = mapped_column(ForeignKey("pledge.id"), index=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    on: Mapped[date]
    note: Mapped[str] = mapped_column(String(500))

    pledge: Mapped[Pledge] = relationship(back_populates="progress")


class ContactKind(enum.StrEnum):
    visit = "visit"  # 走访
    phone = "phone"  # 电话
    wechat = "wechat"  # 微信


CONTACT_LABELS = {ContactKind.visit: "走访", ContactKind.phone: "电话", ContactKind.wechat: "微信"}


@audited
class HouseholdLink(Base):
    """A household a member is linked to (联户). The head's phone and address are
    personal data: masked in lists and exports for readers who may not write here."""

    __tablename__ = "household_link"

    id: Mapped[int] = mapped_column(primary_key=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"), index=True)
    head: Mapped[str] = mapped_column(String(32))
    address: Mapped[str] = mapped_column(String(200), default="")
    phone: Mapped[str] = mapped_column(String(20), default="")
    since: Mapped[date]
    until: Mapped[date | None]
    entered_at: Mapped[datetime] = mapped_column(default=utcnow)

    member: Mapped[Member] = relationship()
    contacts: Mapped[list[HouseholdContact]] = relationship(
        back_populates="link",
        cascade="all, delete-orphan",
        order_by="HouseholdContact.on",
        lazy="raise",
    )
    helps: Mapped[list[HouseholdHelp]] = relationship(
        back_populates="link",
        cascade="all, delete-orphan",
        order_by="HouseholdHelp.on",
        lazy="raise",
    )


@audited
class HouseholdContact(Base):
    """One contact with a linked household (visit, phone call, WeChat)."""

    __tablename__ = "household_contact"

    id: Mapped[int] = mapped_column(primary_key=True)
    link_id: Mapped[int] = mapped_column(ForeignKey("household_link.id"), index=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    on: Mapped[date]
    kind: Mapped[ContactKind] = mapped_column(
        Enum(ContactKind, native_enum=False, length=16, validate_strings=True)
    )
    note: Mapped[str] = mapped_column(String(500), default="")
    entered_at: Mapped[datetime] = mapped_column(default=utcnow)

    link: Mapped[HouseholdLink] = relationship(back_populates="contacts")

    @property
    def kind_label(self) -> str:
        return CONTACT_LABELS[self.kind]


class HelpCategory(enum.StrEnum):
    production = "production"  # 生产
    livelihood = "livelihood"  # 生活
    employment = "employment"  # 就业
    policy = "policy"  # 政策
    other = "other"


HELP_LABELS = {
    HelpCategory.production: "帮发展生产",
    HelpCategory.livelihood: "帮解决困难",
    HelpCategory.employment: "帮就业增收",
    HelpCategory.policy: "帮政策落实",
    HelpCategory.other: "其他",
}


@audited
class HouseholdHelp(Base):
    """Help given to a linked household (帮): category, what, when."""

    __tablename__ = "household_help"

    id: Mapped[int] = mapped_column(primary_key=True)
    link_id: Mapped[int] = mapped_column(ForeignKey("household_link.id"), index=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    on: Mapped[date]
    category: Mapped[HelpCategory] = mapped_column(
        Enum(HelpCategory, native_enum=False, length=16, validate_strings=True)
    )
    what: Mapped[str] = mapped_column(String(500))

    link: Mapped[HouseholdLink] = relationship(back_populates="helps")

    @property
    def category_label(self) -> str:
        return HELP_LABELS[self.category]
