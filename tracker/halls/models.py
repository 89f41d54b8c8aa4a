"""一站式服务大厅 service halls, their cameras, monitor stations and what the stations report.

Registry rows (:class:`ServiceHall`, :class:`HallException`, :class:`Camera`,
:class:`Station`, :class:`OutageExcuse`) are audited. The station's raw reports
(:class:`CameraCheck`, :class:`CameraStateChange`, :class:`StationHeartbeat`,
:class:`Snapshot`) are append-only and keyed by the client UUID with a unique
constraint, so a re-sent item is stored once. State intervals are *derived* from
state changes and heartbeats (see :mod:`tracker.halls.rules`); the per-camera
per-day :class:`CameraDailyRollup` caches the derived opening-time totals of
finished days so a month of 2,000 cameras is one indexed read.

The stream URL is stored only encrypted (``stream_url_encrypted``, Fernet) plus
a masked copy for display (``stream_url_masked``); the audit log skips the
encrypted column (``tracker.audit.SECRET_COLUMNS``).
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import Enum, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.audit import audited
from tracker.models.base import Base, JSONText, utcnow
from tracker.models.regions import Region


def _enum(cls: type[enum.Enum], length: int = 16) -> Enum:
    return Enum(cls, native_enum=False, length=length, validate_strings=True)


class CameraState(enum.StrEnum):
    """A confirmed camera state (after the monitor's hysteresis)."""

    up = "up"
    down = "down"
    unknown = "unknown"


class Verdict(enum.StrEnum):
    """One probe's verdict; a ``down`` state carries the verdict as its cause."""

    online = "online"
    unreachable = "unreachable"
    auth_failed = "auth_failed"
    no_video = "no_video"
    frozen = "frozen"
    black = "black"
    blurred = "blurred"


class SnapshotReason(enum.StrEnum):
    opening = "opening"
    state_change = "state_change"
    periodic = "periodic"
    manual = "manual"


class ExcuseKind(enum.StrEnum):
    """Why a hall's camera was legitimately dark (停电, 维修 …)."""

    power_cut = "power_cut"
    repair = "repair"
    network = "network"
    renovation = "renovation"
    other = "other"


class ExcuseStatus(enum.StrEnum):
    pending = "pending"
    approved = "approved"
    rejected = "rejected"


class AlertKind(enum.StrEnum):
    down = "down"
    recovery = "recovery"
    escalation = "escalation"
    station_down = "station_down"
    station_recovery = "station_recovery"


@audited
class Station(Base):
    """A station server running ``monitor run``; authenticates with a hashed token."""

    __tablename__ = "hall_station"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The node the station serves (a county or township machine room).
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    token_prefix: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_heartbeat_at: Mapped[datetime | None]
    software_version: Mapped[str | None] = mapped_column(String(32))
    started_at: Mapped[datetime | None]
    outbox_depth: Mapped[int | None]
    revoked_at: Mapped[datetime | None]

    region: Mapped[Region] = relationship()


@audited
class ServiceHall(Base):
    """一站式服务大厅 (便民服务中心) of a village, with its weekly opening hours."""

    __tablename__ = "service_hall"

    id: Mapped[int] = mapped_column(primary_key=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    address: Mapped[str] = mapped_column(String(200), default="")
    contact_name: Mapped[str] = mapped_column(String(32), default="")
    contact_phone: Mapped[str] = mapped_column(String(20), default="")
    # {"0": [["08:30", "12:00"], ["13:30", "17:30"]], ..., "6": []}; 0 = Monday.
    weekly_hours: Mapped[dict[str, Any]] = mapped_column(JSONText)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    region: Mapped[Region] = relationship()
    cameras: Mapped[list[Camera]] = relationship(back_populates="hall", order_by="Camera.id")
    exceptions: Mapped[list[HallException]] = relationship(
        back_populates="hall", order_by="HallException.day"
    )

    __table_args__ = (Index("ix_service_hall_region_name", "region_id", "name", unique=True),)


@audited
class HallHoursChange(Base):
    """A change of a hall's weekly opening hours, in force from ``effective_from``.

    The hall's ``weekly_hours`` is the latest schedule entered; the days before
    the earliest change keep that change's ``previous`` schedule, so a change
    never rewrites the opening time of days it does not cover.
    """

    __tablename__ = "hall_hours_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    hall_id: Mapped[int] = mapped_column(ForeignKey("service_hall.id"), index=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    effective_from: Mapped[date]
    previous: Mapped[dict[str, Any]] = mapped_column(JSONText)
    weekly_hours: Mapped[dict[str, Any]] = mapped_column(JSONText)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("hall_id", "effective_from"),)


@audited
class HallException(Base):
    """A per-hall exception to the calendar: closed for a day, or special hours."""

    __tablename__ = "hall_exception"

    id: Mapped[int] = mapped_column(primary_key=True)
    hall_id: Mapped[int] = mapped_column(ForeignKey("service_hall.id"), index=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    day: Mapped[date]
    # [] = closed all day; otherwise the opening ranges of that day.
    hours: Mapped[list[Any]] = mapped_column(JSONText)
    note: Mapped[str] = mapped_column(String(100), default="")

    hall: Mapped[ServiceHall] = relationship(back_populates="exceptions")

    __table_args__ = (UniqueConstraint("hall_id", "day"),)


@audited
class Camera(Base):
    """A camera of a hall, checked by one station."""

    __tablename__ = "camera"

    id: Mapped[int] = mapped_column(primary_key=True)
    hall_id: Mapped[int] = mapped_column(ForeignKey("service_hall.id"), index=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    station_id: Mapped[int | None] = mapped_column(ForeignKey("hall_station.id"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    position: Mapped[str] = mapped_column(String(100), default="")
    # Fernet token of the full URL (credentials included); never logged.
    stream_url_encrypted: Mapped[str] = mapped_column(Text)
    # rtsp://***:***@host/path — safe to show anywhere.
    stream_url_masked: Mapped[str] = mapped_column(String(500))
    rtsp_transport: Mapped[str] = mapped_column(String(8), default="tcp")
    check_interval_s: Mapped[int] = mapped_column(default=60)
    snapshot_every_min: Mapped[int] = mapped_column(default=60)
    thresholds: Mapped[dict[str, Any]] = mapped_column(JSONText)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    hall: Mapped[ServiceHall] = relationship(back_populates="cameras")
    station: Mapped[Station | None] = relationship()
    # Hot: every list of cameras shows it. Never loaded one camera at a time: a list
    # loads it with ``joinedload`` (``services.with_cameras`` / ``load_cameras``).
    status: Mapped[CameraStatus | None] = relationship(uselist=False, viewonly=True, lazy="raise")


class CameraStatus(Base):
    """The latest known state of a camera (a cache kept by report ingestion; not audited)."""

    __tablename__ = "camera_status"

    camera_id: Mapped[int] = mapped_column(ForeignKey("camera.id"), primary_key=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    state: Mapped[CameraState] = mapped_column(_enum(CameraState), default=CameraState.unknown)
    cause: Mapped[str | None] = mapped_column(String(16))
    since: Mapped[datetime | None]
    last_check_at: Mapped[datetime | None]
    last_verdict: Mapped[str | None] = mapped_column(String(16))
    last_snapshot_id: Mapped[int | None]


class CameraCheck(Base):
    """One probe result (``type: check``) as the station sent it."""

    __tablename__ = "camera_check"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Client-generated; unique per station (two stations may draw the same uuid).
    uuid: Mapped[str] = mapped_column(String(36))
    camera_id: Mapped[int] = mapped_column(ForeignKey("camera.id"))
    station_id: Mapped[int] = mapped_column(ForeignKey("hall_station.id"), index=True)
    at: Mapped[datetime]
    verdict: Mapped[Verdict] = mapped_column(_enum(Verdict))
    elapsed_ms: Mapped[int | None]
    measurements: Mapped[dict[str, Any] | None] = mapped_column(JSONText)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        Index("ix_camera_check_camera_at", "camera_id", "at"),
        UniqueConstraint("station_id", "uuid"),
    )


class CameraStateChange(Base):
    """A confirmed state change (``type: state``): the state holds from ``at`` to the next one."""

    __tablename__ = "camera_state_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Client-generated; unique per station (two stations may draw the same uuid).
    uuid: Mapped[str] = mapped_column(String(36))
    camera_id: Mapped[int] = mapped_column(ForeignKey("camera.id"))
    station_id: Mapped[int] = mapped_column(ForeignKey("hall_station.id"), index=True)
    at: Mapped[datetime]
    state: Mapped[CameraState] = mapped_column(_enum(CameraState))
    cause: Mapped[str | None] = mapped_column(String(16))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        Index("ix_camera_state_change_camera_at", "camera_id", "at"),
        UniqueConstraint("station_id", "uuid"),
    )


class StationHeartbeat(Base):
    """A heartbeat: the station was watching during ``[at, at + 2.5 × interval]``."""

    __tablename__ = "station_heartbeat"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Client-generated; unique per station (two stations may draw the same uuid).
    uuid: Mapped[str] = mapped_column(String(36))
    station_id: Mapped[int] = mapped_column(ForeignKey("hall_station.id"))
    at: Mapped[datetime]
    # The interval promised when the heartbeat arrived (the window it covers).
    interval_s: Mapped[int]
    version: Mapped[str | None] = mapped_column(String(32))
    started_at: Mapped[datetime | None]
    outbox_depth: Mapped[int | None]
    cameras: Mapped[int | None]
    received_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        Index("ix_station_heartbeat_station_at", "station_id", "at"),
        UniqueConstraint("station_id", "uuid"),
    )


class Snapshot(Base):
    """An evidence snapshot (JPEG stored under UPLOAD_DIR by its SHA-256)."""

    __tablename__ = "camera_snapshot"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Client-generated; unique per station (two stations may draw the same uuid).
    uuid: Mapped[str] = mapped_column(String(36))
    camera_id: Mapped[int] = mapped_column(ForeignKey("camera.id"))
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("hall_station.id"))
    taken_at: Mapped[datetime]
    reason: Mapped[SnapshotReason] = mapped_column(_enum(SnapshotReason))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int]
    received_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        Index("ix_camera_snapshot_camera_taken", "camera_id", "taken_at"),
        UniqueConstraint("station_id", "uuid"),
    )


@audited
class OutageExcuse(Base):
    """A village's reason for an outage (停电、维修); the county approves or rejects it.

    Approved time is excluded from the compliance figure; the raw state record is
    never changed, so both the raw and the excused figure stay visible.
    """

    __tablename__ = "outage_excuse"

    id: Mapped[int] = mapped_column(primary_key=True)
    camera_id: Mapped[int] = mapped_column(ForeignKey("camera.id"), index=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    start: Mapped[datetime]
    end: Mapped[datetime]
    kind: Mapped[ExcuseKind] = mapped_column(_enum(ExcuseKind))
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[ExcuseStatus] = mapped_column(_enum(ExcuseStatus), default=ExcuseStatus.pending)
    filed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    filed_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decided_at: Mapped[datetime | None]
    decision_note: Mapped[str | None] = mapped_column(Text)

    camera: Mapped[Camera] = relationship()


class CameraDailyRollup(Base):
    """Opening-time totals of one camera on one finished local day (a cache).

    Written by the ``halls.rollup`` job for days before today; deleted again when
    a late report, heartbeat or excuse decision touches the day, and recomputed.
    Readers fall back to computing a missing day on the fly.
    """

    __tablename__ = "camera_daily_rollup"

    camera_id: Mapped[int] = mapped_column(ForeignKey("camera.id"), primary_key=True)
    day: Mapped[date] = mapped_column(primary_key=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    open_s: Mapped[int] = mapped_column(default=0)
    up_s: Mapped[int] = mapped_column(default=0)
    down_online_s: Mapped[int] = mapped_column(default=0)
    down_picture_s: Mapped[int] = mapped_column(default=0)
    unknown_s: Mapped[int] = mapped_column(default=0)
    excused_online_s: Mapped[int] = mapped_column(default=0)
    excused_picture_s: Mapped[int] = mapped_column(default=0)
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (Index("ix_camera_daily_rollup_day", "day"),)


class HallAlert(Base):
    """One alert (down, recovery, escalation, station summary) — at most one per outage.

    ``suppressed`` alerts are kept for the record but not delivered (they are
    covered by a station summary).
    """

    __tablename__ = "hall_alert"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[AlertKind] = mapped_column(_enum(AlertKind, 20))
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    camera_id: Mapped[int | None] = mapped_column(ForeignKey("camera.id"), index=True)
    station_id: Mapped[int | None] = mapped_column(ForeignKey("hall_station.id"), index=True)
    hall_id: Mapped[int | None] = mapped_column(ForeignKey("service_hall.id"), index=True)
    # When the outage began (for down/escalation/station alerts and their recovery).
    outage_start: Mapped[datetime | None]
    cause: Mapped[str | None] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    # Open outage alerts (down / station_down) are closed by their recovery.
    open: Mapped[bool] = mapped_column(default=False)
    suppressed: Mapped[bool] = mapped_column(default=False)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("hall_alert.id"))
    escalated_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    camera: Mapped[Camera | None] = relationship()


class ResidentKind(enum.StrEnum):
    """A service resident in a village hall (场所功能提升)."""

    ecommerce = "ecommerce"  # 农村电商服务点
    bank = "bank"  # 银行（金融）服务点
    insurance = "insurance"  # 保险服务点
    postal = "postal"  # 邮政快递/物流服务点
    other = "other"  # 其他


class ActivityUnit(enum.StrEnum):
    """What the monthly activity figure counts."""

    transactions = "transactions"  # 笔（业务笔数）
    visits = "visits"  # 人次（服务人次）


@audited
class ResidentService(Base):
    """A service resident in a hall: who provides it, since when, when it is open; its
    monthly activity is typed in (:class:`ResidentActivity`)."""

    __tablename__ = "hall_resident_service"

    id: Mapped[int] = mapped_column(primary_key=True)
    hall_id: Mapped[int] = mapped_column(ForeignKey("service_hall.id"), index=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    kind: Mapped[ResidentKind] = mapped_column(
        Enum(ResidentKind, native_enum=False, length=16, validate_strings=True)
    )
    name: Mapped[str] = mapped_column(String(64))
    provider: Mapped[str] = mapped_column(String(100))
    since: Mapped[date]
    until: Mapped[date | None]
    opening_hours: Mapped[str] = mapped_column(String(100), default="")
    unit: Mapped[ActivityUnit] = mapped_column(
        Enum(ActivityUnit, native_enum=False, length=16, validate_strings=True)
    )
    contact_phone: Mapped[str] = mapped_column(String(20), default="")
    note: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime | None]

    hall: Mapped[ServiceHall] = relationship()
    # Hot (the hall page shows each service's months): loaded with the list query.
    months: Mapped[list[ResidentActivity]] = relationship(
        back_populates="service",
        cascade="all, delete-orphan",
        lazy="raise",
        order_by="ResidentActivity.month",
    )


@audited
class ResidentActivity(Base):
    """A resident service's activity in one month (transactions or visits), typed in."""

    __tablename__ = "hall_resident_activity"

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("hall_resident_service.id"), index=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    month: Mapped[date]  # the first day of the month
    value: Mapped[int]
    entered_at: Mapped[datetime] = mapped_column(default=utcnow)

    service: Mapped[ResidentService] = relationship(back_populates="months")

    __table_args__ = (UniqueConstraint("service_id", "month"),)
