"""Models of the service ledger: the county catalog (事项清单), matters and their timeline.

A :class:`ServiceMatter` keeps denormalised columns (``status``, ``due_on``,
``on_time``, ``working_days_used``, ``rating``, ``callback_on_time`` …) that the
services recompute from the append-only :class:`MatterEvent` timeline on every
event; the measures for 1,000 villages are then plain ``GROUP BY`` queries.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import Enum, ForeignKey, Index, String, Text, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.audit import audited
from tracker.models import Region, User
from tracker.models.base import Base, JSONText, utcnow


def _enum(cls: type[enum.Enum], length: int = 24) -> Enum:
    return Enum(cls, native_enum=False, length=length, validate_strings=True)


class MatterKind(enum.StrEnum):
    """即办件 done the same day; 承诺件 promised within N working days."""

    immediate = "immediate"
    promised = "promised"


class HandlingLevel(enum.StrEnum):
    """Which level handles the matter (办理层级)."""

    village = "village"
    township = "township"
    county = "county"


class Channel(enum.StrEnum):
    """How the applicant came (受理渠道)."""

    in_person = "in_person"
    phone = "phone"
    online = "online"


class MatterStatus(enum.StrEnum):
    """Where a matter stands; the timeline is the truth, this is its summary."""

    accepted = "accepted"  # 办理中 (the clock runs)
    paused = "paused"  # 待补正 (materials missing: the clock stops)
    completed = "completed"  # 已办结
    archived = "archived"  # 已归档


class EventKind(enum.StrEnum):
    """Entries of a matter's timeline (append-only)."""

    accepted = "accepted"  # 受理
    materials_missing = "materials_missing"  # 一次性告知补正 (clock paused)
    materials_supplied = "materials_supplied"  # 材料补齐 (clock resumes)
    referred = "referred"  # 转办
    extended = "extended"  # 延期
    completed = "completed"  # 办结
    rated = "rated"  # 评价
    called_back = "called_back"  # 差评回访
    appealed = "appealed"  # 评价申诉
    appeal_decided = "appeal_decided"  # 申诉处理
    archived = "archived"  # 归档


class Rating(enum.StrEnum):
    """好差评 five grades (国办发〔2019〕51号)."""

    very_satisfied = "very_satisfied"
    satisfied = "satisfied"
    basically_satisfied = "basically_satisfied"
    dissatisfied = "dissatisfied"
    very_dissatisfied = "very_dissatisfied"


class RatingSource(enum.StrEnum):
    """Who gave a rating (好差评 channel): it is shown and kept with the rating."""

    staff = "staff"  # a staff member not involved in the matter, on the applicant's word
    paper_slip = "paper_slip"  # the applicant's paper slip, copied in by the counter (代录)
    applicant = "applicant"  # the applicant, on the receipt's QR page


@audited
class MatterType(Base):
    """事项清单: one entry of a county's (or the city's) catalog of service matters."""

    __tablename__ = "matter_type"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The county (or city) whose catalog this is; villages below it use it.
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    category: Mapped[str] = mapped_column(String(50), default="")
    kind: Mapped[MatterKind] = mapped_column(_enum(MatterKind, 16))
    # Working days promised (0 for 即办件) and the statutory limit (法定时限), if any.
    promised_days: Mapped[int] = mapped_column(default=0)
    statutory_days: Mapped[int | None]
    materials: Mapped[list[str]] = mapped_column(JSONText, default=list)
    handling_level: Mapped[HandlingLevel] = mapped_column(_enum(HandlingLevel, 16))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    region: Mapped[Region] = relationship()

    __table_args__ = (Index("ix_matter_type_region_name", "region_id", "name", unique=True),)


@audited
class ServiceMatter(Base):
    """服务事项: one matter a villager brought to the hall, owned by its first responder."""

    __tablename__ = "service_matter"

    id: Mapped[int] = mapped_column(primary_key=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)  # the village
    # 登记编号, e.g. "平安-2026-0042": the village's own prefix, year and counter
    # (tracker.matters.services.village_serial_prefix); unique across the county.
    serial_no: Mapped[str] = mapped_column(String(20))
    # The county the village belongs to (the village itself when none): the scope
    # of the number's uniqueness, enforced by the database.
    county_id: Mapped[int | None] = mapped_column(ForeignKey("region.id"))
    matter_type_id: Mapped[int] = mapped_column(ForeignKey("matter_type.id"), index=True)
    applicant_name: Mapped[str] = mapped_column(String(32))
    applicant_phone: Mapped[str] = mapped_column(String(20))
    applicant_id_number: Mapped[str | None] = mapped_column(String(18))
    channel: Mapped[Channel] = mapped_column(_enum(Channel, 16))
    received_at: Mapped[datetime]
    received_on: Mapped[date] = mapped_column(index=True)  # local (Asia/Shanghai) date
    # 首问责任人: stays the owner through every referral.
    first_responder_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    # Who holds it now (after a referral); the first responder when never referred.
    handler_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    handler_unit: Mapped[str | None] = mapped_column(String(100))
    materials_received: Mapped[list[str]] = mapped_column(JSONText, default=list)
    materials_missing: Mapped[list[str]] = mapped_column(JSONText, default=list)
    # 一次性告知: what the applicant was told, in one go.
    one_time_notice: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)

    kind: Mapped[MatterKind] = mapped_column(_enum(MatterKind, 16))
    promised_days: Mapped[int] = mapped_column(default=0)  # copied from the catalog
    extension_days: Mapped[int] = mapped_column(default=0)
    status: Mapped[MatterStatus] = mapped_column(_enum(MatterStatus, 16), index=True)
    # None while the clock is paused (the date depends on when materials arrive).
    due_on: Mapped[date | None] = mapped_column(index=True)
    calendar_official: Mapped[bool] = mapped_column(default=True)
    referred: Mapped[bool] = mapped_column(default=False)
    completed_at: Mapped[datetime | None]
    completed_on: Mapped[date | None]
    result: Mapped[str | None] = mapped_column(Text)
    on_time: Mapped[bool | None]
    working_days_used: Mapped[int | None]

    rating: Mapped[Rating | None] = mapped_column(_enum(Rating, 24))
    rated_on: Mapped[date | None]
    # A rating set aside after an upheld appeal does not count in the measures.
    rating_void: Mapped[bool] = mapped_column(default=False)
    callback_due_on: Mapped[date | None]
    called_back_on: Mapped[date | None]
    callback_on_time: Mapped[bool | None]
    archived_at: Mapped[datetime | None]

    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Client-generated token of the registration form/API call: a resubmit is a no-op.
    client_token: Mapped[str | None] = mapped_column(String(64), unique=True)
    # The receipt's QR link (受理回执): the secret is derived from this nonce and the app's
    # SECRET_KEY, only its SHA-256 is stored (lookup); a new nonce voids the printed link.
    receipt_nonce: Mapped[str | None] = mapped_column(String(32))
    receipt_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)

    region: Mapped[Region] = relationship(foreign_keys=[region_id])
    matter_type: Mapped[MatterType] = relationship()
    first_responder: Mapped[User] = relationship(foreign_keys=[first_responder_id])
    handler: Mapped[User | None] = relationship(foreign_keys=[handler_id])
    events: Mapped[list[MatterEvent]] = relationship(
        back_populates="matter", order_by=lambda: (MatterEvent.at, MatterEvent.id)
    )

    __table_args__ = (
        Index("ix_service_matter_region_serial", "region_id", "serial_no", unique=True),
        Index("ix_service_matter_county_serial", "county_id", "serial_no", unique=True),
        Index("ix_service_matter_region_received", "region_id", "received_on"),
        # 逾期未办结 counted from the index alone (tracker.matters.figures.overdue_count):
        # the open matters are the ones with no completion date, a few percent of all.
        Index(
            "ix_service_matter_open",
            "completed_on",
            "due_on",
            "received_on",
            "region_id",
        ),
        # The lists' order (newest first) read from the index: a county's page of
        # matters sorts index entries, not every matter's row.
        Index("ix_service_matter_region_received_at", "region_id", "received_at"),
    )


@audited
class MatterEvent(Base):
    """One entry of a matter's timeline. Never updated or deleted."""

    __tablename__ = "matter_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    matter_id: Mapped[int] = mapped_column(ForeignKey("service_matter.id"), index=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    kind: Mapped[EventKind] = mapped_column(_enum(EventKind, 24))
    at: Mapped[datetime]  # when it happened
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)  # when it was entered
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # Referral target: a user, and/or a level/unit (乡镇民政办 …).
    to_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    to_unit: Mapped[str | None] = mapped_column(String(100))
    approver: Mapped[str | None] = mapped_column(String(64))
    days: Mapped[int | None]  # extension days
    rating: Mapped[Rating | None] = mapped_column(_enum(Rating, 24))
    note: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any] | None] = mapped_column(JSONText)
    client_token: Mapped[str | None] = mapped_column(String(64), unique=True)

    matter: Mapped[ServiceMatter] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id])
    to_user: Mapped[User | None] = relationship(foreign_keys=[to_user_id])


@event.listens_for(MatterEvent, "before_update")
@event.listens_for(MatterEvent, "before_delete")
def _timeline_is_append_only(mapper: Any, connection: Any, target: MatterEvent) -> None:
    """A recorded step is evidence: it is never changed or removed (corrections are new events)."""
    raise ValueError("事项办理过程只能追加，不能修改或删除已登记的环节")
