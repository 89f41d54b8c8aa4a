"""Operations on halls, cameras and stations; report ingestion; uptime figures.

Plain functions that change objects and ``flush()`` — never ``commit()``; views,
API endpoints, jobs and CLI commands own the commit. Broken rules raise
:class:`HallError` with a Chinese message and the field it belongs to.

Uptime for many cameras at once (:func:`uptime_bulk`, :func:`region_uptime`,
:func:`uptime_by_region`) reads the per-camera per-day
:class:`~tracker.halls.models.CameraDailyRollup` rows of finished days and
computes only the missing days (always today) from the raw state changes and
heartbeats, in a handful of batched queries. The ``halls.rollup`` job writes the
rollups; ingestion of a late report deletes the rollups it makes stale.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import chinese_calendar
from cryptography.fernet import Fernet, InvalidToken
from flask import current_app
from flask_babel import gettext
from sqlalchemy import Select, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from tracker import clock, uploads
from tracker.config import CamerasSettings, current_settings
from tracker.errors import DomainError
from tracker.extensions import db
from tracker.halls import rules
from tracker.halls.models import (
    Camera,
    CameraCheck,
    CameraDailyRollup,
    CameraStateChange,
    CameraStatus,
    ExcuseKind,
    ExcuseStatus,
    HallException,
    HallHoursChange,
    OutageExcuse,
    ServiceHall,
    Snapshot,
    Station,
    StationHeartbeat,
)
from tracker.halls.rules import UptimeTotals, Window
from tracker.models import Region, RegionLevel, User, utcnow
from tracker.models.regions import subtree_ids
from tracker.security import hash_token, new_token
from tracker.workdays import WorkCalendar

log = logging.getLogger("tracker.halls")

DEFAULT_THRESHOLDS: dict[str, float | int] = {
    "down_after": 3,
    "up_after": 2,
    "black_brightness": 20.0,
    "black_contrast": 8.0,
    "blur_sharpness": 15.0,
    "frozen_diff": 0.15,
    "frozen_window_s": 2.0,
}
THRESHOLD_LABELS = {
    "down_after": "连续几次异常判定离线",
    "up_after": "连续几次正常判定恢复",
    "black_brightness": "黑屏亮度阈值",
    "black_contrast": "黑屏对比度阈值",
    "blur_sharpness": "模糊清晰度阈值",
    "frozen_diff": "画面冻结差异阈值",
    "frozen_window_s": "冻结判定时长（秒）",
}


class HallError(DomainError):
    """A broken rule of the hall registry; ``message`` is for the user, ``field`` where."""


def settings() -> CamerasSettings:
    """The typed ``[cameras]`` section."""
    return current_settings().cameras


# ---------------------------------------------------------------- credentials


def fernet() -> Fernet:
    """Fernet keyed by ``[tracker] camera_key`` (the demo key when unset; never the cookie secret)."""
    key = current_app.config["CAMERA_KEY"]
    try:
        return Fernet(key.encode() if isinstance(key, str) else key)
    except (ValueError, TypeError) as exc:
        raise RuntimeError(
            "[tracker] camera_key is not a Fernet key (44 base64 chars); see config.toml"
        ) from exc


def encrypt_url(url: str) -> str:
    return fernet().encrypt(url.encode()).decode()


def decrypt_url(camera: Camera) -> str:
    """The full stream URL (credentials included): for the camera's station and admins only."""
    try:
        return fernet().decrypt(camera.stream_url_encrypted.encode()).decode()
    except InvalidToken as exc:
        raise RuntimeError(
            f"camera {camera.id}: stream URL cannot be decrypted (key changed?)"
        ) from exc


# ---------------------------------------------------------------- registry


def _text(value: str | None, field: str, max_length: int, what: str, required: bool = True) -> str:
    value = (value or "").strip()
    if required and not value:
        raise HallError(gettext("请填写%(what)s", what=gettext(what)), field)
    if len(value) > max_length:
        raise HallError(
            gettext("%(what)s太长（最多 %(n)s 个字）", what=gettext(what), n=max_length), field
        )
    return value


@dataclass
class HallData:
    """The editable fields of a hall."""

    name: str
    address: str = ""
    contact_name: str = ""
    contact_phone: str = ""
    weekly_hours: dict[str, Any] | None = None
    # The day a changed weekly schedule applies from (default: today).
    hours_from: date | None = None


def _change_hours(hall: ServiceHall, weekly: dict[str, Any], effective: date) -> None:
    """Record a schedule change from ``effective`` on and forget the stale rollups of
    exactly the days it covers (``effective`` onward); earlier days keep their hours."""
    if effective.year < 2000:
        raise HallError(gettext("起用日期不合理"), "hours_from")
    rows = list(
        db.session.scalars(
            select(HallHoursChange)
            .where(HallHoursChange.hall_id == hall.id)
            .order_by(HallHoursChange.effective_from)
        )
    )
    history = [rules.HoursChange(r.effective_from, r.previous, r.weekly_hours) for r in rows]
    previous = dict(rules.weekly_on(effective - timedelta(days=1), hall.weekly_hours, history))
    for r in rows:  # a later change entered earlier is superseded by this one
        if r.effective_from >= effective:
            db.session.delete(r)
    db.session.flush()
    db.session.add(
        HallHoursChange(
            hall_id=hall.id,
            region_id=hall.region_id,
            effective_from=effective,
            previous=previous,
            weekly_hours=weekly,
        )
    )
    hall.weekly_hours = weekly
    invalidate_rollups(
        db.session.scalars(select(Camera.id).where(Camera.hall_id == hall.id)), effective, None
    )


def _apply_hall(hall: ServiceHall, village: Region, data: HallData) -> None:
    if village.level != RegionLevel.village:
        raise HallError(gettext("服务大厅只能建在村（社区）"), "region_id")
    name = _text(data.name, "name", 100, "大厅名称")
    clash = db.session.scalar(
        select(ServiceHall.id).where(
            ServiceHall.region_id == village.id,
            ServiceHall.name == name,
            ServiceHall.id != (hall.id or 0),
        )
    )
    if clash:
        raise HallError(gettext("本村已有同名的服务大厅"), "name")
    phone = _text(data.contact_phone, "contact_phone", 20, "联系电话", required=False)
    if phone and not all(c.isdigit() or c in "-+ " for c in phone):
        raise HallError(gettext("联系电话只能包含数字和 -"), "contact_phone")
    try:
        weekly = rules.validate_weekly_hours(
            data.weekly_hours if data.weekly_hours is not None else rules.DEFAULT_WEEKLY_HOURS
        )
    except rules.HoursError as exc:
        raise HallError(exc.translated(gettext), "weekly_hours") from exc
    hall.region_id = village.id
    hall.name = name
    hall.address = _text(data.address, "address", 200, "地址", required=False)
    hall.contact_name = _text(data.contact_name, "contact_name", 32, "联系人", required=False)
    hall.contact_phone = phone
    if hall.id is None:
        hall.weekly_hours = weekly
    elif weekly != hall.weekly_hours:
        _change_hours(hall, weekly, data.hours_from or clock.today())


def create_hall(village: Region, data: HallData) -> ServiceHall:
    """Register a village's service hall (一站式服务大厅)."""
    hall = ServiceHall()
    _apply_hall(hall, village, data)
    db.session.add(hall)
    db.session.flush()
    return hall


def update_hall(hall: ServiceHall, data: HallData) -> ServiceHall:
    _apply_hall(hall, hall.region, data)
    db.session.flush()
    return hall


def set_exception(hall: ServiceHall, day: date, hours: Any, note: str = "") -> HallException:
    """Closed (``[]``) or special hours on one day for one hall; replaces an earlier one."""
    try:
        ranges = rules.format_ranges(rules.parse_ranges(hours))
    except rules.HoursError as exc:
        raise HallError(exc.translated(gettext), "hours") from exc
    row = db.session.scalar(
        select(HallException).where(HallException.hall_id == hall.id, HallException.day == day)
    )
    if row is None:
        row = HallException(hall_id=hall.id, region_id=hall.region_id, day=day)
        db.session.add(row)
    row.hours = ranges
    row.note = _text(note, "note", 100, "说明", required=False)
    db.session.flush()
    invalidate_rollups(
        db.session.scalars(select(Camera.id).where(Camera.hall_id == hall.id)), day, day
    )
    return row


def delete_exception(row: HallException) -> None:
    cams = list(db.session.scalars(select(Camera.id).where(Camera.hall_id == row.hall_id)))
    invalidate_rollups(cams, row.day, row.day)
    db.session.delete(row)
    db.session.flush()


@dataclass
class CameraData:
    """The editable fields of a camera. ``stream_url`` None/empty on update = unchanged."""

    name: str
    position: str = ""
    stream_url: str | None = None
    station_id: int | None = None
    check_interval_s: int | None = None
    snapshot_every_min: int = 60
    rtsp_transport: str = "tcp"
    thresholds: dict[str, Any] | None = None
    active: bool = True


def _thresholds(given: dict[str, Any] | None) -> dict[str, Any]:
    cfg = settings()
    out: dict[str, Any] = {
        **DEFAULT_THRESHOLDS,
        "down_after": cfg.default_down_after,
        "up_after": cfg.default_up_after,
    }
    for key, value in (given or {}).items():
        if key not in DEFAULT_THRESHOLDS:
            raise HallError(gettext("不认识的检测阈值 %(key)s", key=key), "thresholds")
        if value is None or value == "":
            continue
        try:
            num = float(value)
        except (TypeError, ValueError) as exc:
            raise HallError(
                gettext("%(what)s应为数字", what=gettext(THRESHOLD_LABELS[key])),
                f"thresholds.{key}",
            ) from exc
        if num < 0 or num > 10000:
            raise HallError(
                gettext("%(what)s超出范围", what=gettext(THRESHOLD_LABELS[key])),
                f"thresholds.{key}",
            )
        if key in ("down_after", "up_after"):
            if not num.is_integer() or not 1 <= num <= 20:
                raise HallError(
                    gettext("%(what)s应为 1–20 的整数", what=gettext(THRESHOLD_LABELS[key])),
                    f"thresholds.{key}",
                )
            out[key] = int(num)
        else:
            out[key] = num
    return out


def _stored_url(camera: Camera) -> str | None:
    """The camera's current stream URL, or None when it cannot be read (new key, new camera)."""
    if not camera.stream_url_encrypted:
        return None
    try:
        return decrypt_url(camera)
    except RuntimeError:
        return None


def _apply_camera(camera: Camera, hall: ServiceHall, data: CameraData, new: bool) -> None:
    camera.name = _text(data.name, "name", 64, "摄像头名称")
    clash = db.session.scalar(
        select(Camera.id).where(
            Camera.hall_id == hall.id, Camera.name == camera.name, Camera.id != (camera.id or 0)
        )
    )
    if clash:
        raise HallError(gettext("本大厅已有同名摄像头"), "name")
    camera.position = _text(data.position, "position", 100, "安装位置", required=False)
    if data.stream_url or new:
        try:
            url = rules.validate_stream_url(data.stream_url or "")
        except ValueError as exc:
            raise HallError(gettext(str(exc)), "stream_url") from exc
        if new or _stored_url(camera) != url:  # re-encrypting the same URL is not a change
            camera.stream_url_encrypted = encrypt_url(url)
            camera.stream_url_masked = rules.mask_stream_url(url)
    if data.station_id is not None and db.session.get(Station, data.station_id) is None:
        raise HallError(gettext("没有这个监控站"), "station_id")
    camera.station_id = data.station_id
    interval = data.check_interval_s or settings().default_check_interval_s
    if not 10 <= interval <= 3600:
        raise HallError(gettext("检测间隔应在 10–3600 秒之间"), "check_interval_s")
    camera.check_interval_s = int(interval)
    if not 0 <= data.snapshot_every_min <= 1440:
        raise HallError(gettext("定时截图间隔应在 0–1440 分钟之间"), "snapshot_every_min")
    camera.snapshot_every_min = int(data.snapshot_every_min)
    if data.rtsp_transport not in ("tcp", "udp"):
        raise HallError(gettext("RTSP 传输方式应为 tcp 或 udp"), "rtsp_transport")
    camera.rtsp_transport = data.rtsp_transport
    camera.thresholds = _thresholds(
        data.thresholds if data.thresholds is not None else camera.thresholds
    )
    camera.active = data.active
    camera.hall_id = hall.id
    camera.region_id = hall.region_id


def create_camera(hall: ServiceHall, data: CameraData) -> Camera:
    """Add a camera to a hall; the stream URL is stored encrypted (and masked for display)."""
    camera = Camera()
    _apply_camera(camera, hall, data, new=True)
    db.session.add(camera)
    db.session.flush()
    db.session.add(CameraStatus(camera_id=camera.id, region_id=camera.region_id))
    db.session.flush()
    return camera


def update_camera(camera: Camera, data: CameraData) -> Camera:
    _apply_camera(camera, camera.hall, data, new=False)
    db.session.flush()
    return camera


def create_station(name: str, region: Region) -> tuple[Station, str]:
    """A new station and its token (returned once; only the SHA-256 is stored)."""
    name = _text(name, "name", 64, "监控站名称")
    if db.session.scalar(select(Station.id).where(Station.name == name)):
        raise HallError(gettext("已有名为 %(name)s 的监控站", name=name), "name")
    token = new_token("st")
    station = Station(
        name=name, region_id=region.id, token_hash=hash_token(token), token_prefix=token[:10]
    )
    db.session.add(station)
    db.session.flush()
    return station, token


def rotate_station_token(station: Station) -> str:
    """Replace a station's token (the old one stops working at once)."""
    token = new_token("st")
    station.token_hash = hash_token(token)
    station.token_prefix = token[:10]
    station.revoked_at = None
    db.session.flush()
    return token


def revoke_station(station: Station) -> Station:
    """Stop a station's token at once (its cameras keep their history; rotate to resume)."""
    if station.revoked_at is not None:
        raise HallError(gettext("监控站 %(name)s 已停用", name=station.name))
    station.revoked_at = utcnow()
    db.session.flush()
    return station


def station_for_token(token: str) -> Station | None:
    """The active station holding ``token`` (one indexed lookup by hash)."""
    if not token:
        return None
    station = db.session.scalar(select(Station).where(Station.token_hash == hash_token(token)))
    if station is None or station.revoked_at is not None:
        return None
    return station


# ---------------------------------------------------------------- calendar


def day_kinds(first: date, last: date, cal: WorkCalendar) -> dict[date, rules.DayKind]:
    """Official kind of every day in ``[first, last]``."""
    out = {}
    for day in rules.daterange(first, last):
        named = False
        if day.weekday() >= 5:
            try:
                on_holiday, name = chinese_calendar.get_holiday_detail(day)
                named = bool(on_holiday and name)
            except NotImplementedError:
                named = False
        out[day] = rules.day_kind(day, cal.is_workday(day), named)
    return out


def hours_changes(hall_ids: Iterable[int]) -> dict[int, list[rules.HoursChange]]:
    """The opening-hours changes of halls (one query), oldest first."""
    out: dict[int, list[rules.HoursChange]] = defaultdict(list)
    ids = list(hall_ids)
    if not ids:
        return out
    for row in db.session.scalars(
        select(HallHoursChange)
        .where(HallHoursChange.hall_id.in_(ids))
        .order_by(HallHoursChange.effective_from)
    ):
        out[row.hall_id].append(
            rules.HoursChange(row.effective_from, row.previous, row.weekly_hours)
        )
    return out


def hall_hours(
    hall: ServiceHall,
    first: date,
    last: date,
    cal: WorkCalendar,
    exceptions: dict[date, list[Any]] | None = None,
    kinds: dict[date, rules.DayKind] | None = None,
    changes: Sequence[rules.HoursChange] | None = None,
) -> dict[date, list[rules.HourRange]]:
    """A hall's resolved opening ranges for each day of ``[first, last]``.

    Each day uses the weekly schedule in force on it (:func:`rules.weekly_on`).
    """
    if exceptions is None:
        exceptions = {
            e.day: e.hours
            for e in db.session.scalars(
                select(HallException).where(
                    HallException.hall_id == hall.id, HallException.day.between(first, last)
                )
            )
        }
    if changes is None:
        changes = hours_changes([hall.id]).get(hall.id, [])
    kinds = kinds or day_kinds(first, last, cal)
    return {
        day: rules.hours_for_day(
            day, kinds[day], rules.weekly_on(day, hall.weekly_hours, changes), exceptions
        )
        for day in rules.daterange(first, last)
    }


def opening_windows(
    hours: dict[date, list[rules.HourRange]], until: datetime | None = None
) -> dict[date, list[Window]]:
    """UTC windows per day, cut at ``until`` (time that has not happened yet is not counted)."""
    out: dict[date, list[Window]] = {}
    for day, ranges in hours.items():
        wins = [rules.local_window(day, r) for r in ranges]
        if until is not None:
            wins = [(s, min(e, until)) for s, e in wins if s < until]
        out[day] = wins
    return out


# ---------------------------------------------------------------- ingestion


def _insert_ignore(model: type, rows: list[dict[str, Any]]) -> set[str]:
    """Insert rows of one station, skipping uuids it already stored; the uuids actually inserted.

    ``INSERT … ON CONFLICT (station_id, uuid) DO NOTHING RETURNING uuid`` (uuids
    are unique per station, not globally: another station's uuid is no
    duplicate of this one's). Two concurrent
    retries of one batch store each item once (the second waits for the first's
    row lock on PostgreSQL and then skips it).
    """
    if not rows:
        return set()
    dialect = db.session.get_bind().dialect.name
    ins = (postgresql if dialect == "postgresql" else sqlite).insert
    stmt = ins(model).values(rows).on_conflict_do_nothing(index_elements=["station_id", "uuid"])
    result = db.session.execute(stmt.returning(model.uuid))  # type: ignore[attr-defined]
    return {r[0] for r in result}


@dataclass
class IngestResult:
    """What one batch did (the ``/station/reports`` answer)."""

    acknowledged: list[str]
    duplicates: list[str]
    rejected: list[dict[str, Any]]
    new_state_cameras: set[int]


def ingest_reports(station: Station, items: Sequence[dict[str, Any]]) -> IngestResult:
    """Store validated check/state items of ``station``; each uuid is applied once.

    ``items`` are dicts already validated by the API (``camera_id`` is checked
    here against the station's own cameras: a foreign camera is rejected as if
    it did not exist). Returns the acknowledged, duplicate and rejected uuids.
    """
    own = set(
        db.session.scalars(
            select(Camera.id).where(Camera.station_id == station.id, Camera.active.is_(True))
        )
    )
    checks: list[dict[str, Any]] = []
    states: list[dict[str, Any]] = []
    rejected: list[dict[str, Any]] = []
    seen: set[str] = set()
    now = utcnow()
    for item in items:
        uid = item["uuid"]
        if uid in seen:
            continue
        seen.add(uid)
        if item["camera_id"] not in own:
            rejected.append(
                {"uuid": uid, "error": {"code": "unknown_camera", "message": "没有这个摄像头"}}
            )
            continue
        base = {
            "uuid": uid,
            "camera_id": item["camera_id"],
            "station_id": station.id,
            "at": item["at"].astimezone(UTC),
            "received_at": now,
        }
        if item["type"] == "check":
            checks.append(
                {
                    **base,
                    "verdict": item["verdict"],
                    "elapsed_ms": item.get("elapsed_ms"),
                    "measurements": item.get("measurements"),
                }
            )
        else:
            cause = item.get("cause") if item["state"] == "down" else None
            states.append({**base, "state": item["state"], "cause": cause})
    new = _insert_ignore(CameraCheck, checks) | _insert_ignore(CameraStateChange, states)
    stored = [u for u in seen if u not in {r["uuid"] for r in rejected}]
    duplicates = [u for u in stored if u not in new]
    new_states = [s for s in states if s["uuid"] in new]
    new_checks = [c for c in checks if c["uuid"] in new]
    touched = {s["camera_id"] for s in new_states} | {c["camera_id"] for c in new_checks}
    if touched:
        refresh_status(touched)
    # A state change reaching back into a finished day makes its rollups stale.
    earliest: dict[int, datetime] = {}
    for s in new_states:
        at = s["at"]
        earliest[s["camera_id"]] = min(at, earliest.get(s["camera_id"], at))
    for cam_id, at in earliest.items():
        invalidate_rollups([cam_id], clock.local_date(at), None)
    db.session.flush()
    return IngestResult(
        acknowledged=stored,
        duplicates=duplicates,
        rejected=rejected,
        new_state_cameras={s["camera_id"] for s in new_states},
    )


def refresh_status(camera_ids: Iterable[int]) -> None:
    """Recompute the cached latest state/check of cameras from the stored reports."""
    for cam_id in camera_ids:
        status = db.session.get(CameraStatus, cam_id)
        if status is None:
            camera = db.session.get(Camera, cam_id)
            if camera is None:
                continue
            status = CameraStatus(camera_id=cam_id, region_id=camera.region_id)
            db.session.add(status)
        last_state = db.session.scalars(
            select(CameraStateChange)
            .where(CameraStateChange.camera_id == cam_id)
            .order_by(CameraStateChange.at.desc(), CameraStateChange.id.desc())
            .limit(1)
        ).first()
        if last_state is not None:
            status.state = last_state.state
            status.cause = last_state.cause
            status.since = last_state.at
        last_check = db.session.scalars(
            select(CameraCheck)
            .where(CameraCheck.camera_id == cam_id)
            .order_by(CameraCheck.at.desc(), CameraCheck.id.desc())
            .limit(1)
        ).first()
        if last_check is not None:
            status.last_check_at = last_check.at
            status.last_verdict = last_check.verdict.value
    db.session.flush()


def record_heartbeat(station: Station, payload: dict[str, Any]) -> bool:
    """Store a heartbeat (once per uuid); returns True if it was a duplicate."""
    interval = int(settings().heartbeat_interval_s)
    at: datetime = payload["at"]
    row = {
        "uuid": payload["uuid"],
        "station_id": station.id,
        "at": at.astimezone(UTC),
        "interval_s": interval,
        "version": payload.get("version"),
        "started_at": (
            payload["started_at"].astimezone(UTC) if payload.get("started_at") else None
        ),
        "outbox_depth": payload.get("outbox_depth"),
        "cameras": payload.get("cameras"),
        "received_at": utcnow(),
    }
    new = _insert_ignore(StationHeartbeat, [row])
    if not new:
        return True
    # Runtime fields: a core UPDATE (not audited — a heartbeat a minute is not an edit).
    values: dict[str, Any] = {}
    if station.last_heartbeat_at is None or at > station.last_heartbeat_at:
        values = {
            "last_heartbeat_at": at,
            "software_version": (payload.get("version") or "")[:32] or None,
            "started_at": payload.get("started_at"),
            "outbox_depth": payload.get("outbox_depth"),
        }
        db.session.execute(update(Station).where(Station.id == station.id).values(**values))
    if clock.local_date(at) < clock.today():
        end = at + timedelta(seconds=rules.HEARTBEAT_FACTOR * interval)
        cams = list(db.session.scalars(select(Camera.id).where(Camera.station_id == station.id)))
        invalidate_rollups(cams, clock.local_date(at), clock.local_date(end))
    db.session.flush()
    return False


def snapshot_path(sha256: str) -> Path:
    """Where a snapshot file lives: ``UPLOAD_DIR/snapshots/ab/<sha256>.jpg``."""
    return Path(current_app.config["UPLOAD_DIR"]) / "snapshots" / sha256[:2] / f"{sha256}.jpg"


def store_snapshot(
    station: Station,
    camera: Camera,
    uuid: str,
    taken_at: datetime,
    reason: str,
    sha256: str,
    data: bytes,
) -> tuple[Snapshot, bool]:
    """Store a verified JPEG under its hash (once per uuid); ``(row, duplicate)``."""
    mine = (Snapshot.station_id == station.id, Snapshot.uuid == uuid)
    existing = db.session.scalar(select(Snapshot).where(*mine))
    if existing is not None:
        return existing, True
    path = snapshot_path(sha256)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{uuid}.tmp")
        tmp.write_bytes(data)
        tmp.replace(path)  # atomic: a reader never sees half a file
        uploads.written(db.session(), path)  # removed again if this transaction rolls back
    row = {
        "uuid": uuid,
        "camera_id": camera.id,
        "region_id": camera.region_id,
        "station_id": station.id,
        "taken_at": taken_at.astimezone(UTC),
        "reason": reason,
        "sha256": sha256,
        "size": len(data),
        "received_at": utcnow(),
    }
    if not _insert_ignore(Snapshot, [row]):
        found = db.session.scalar(select(Snapshot).where(*mine))
        assert found is not None
        return found, True
    snap = db.session.scalar(select(Snapshot).where(*mine))
    assert snap is not None
    status = db.session.get(CameraStatus, camera.id)
    if status is not None:
        latest = (
            db.session.get(Snapshot, status.last_snapshot_id) if status.last_snapshot_id else None
        )
        if latest is None or latest.taken_at <= snap.taken_at:
            status.last_snapshot_id = snap.id
    db.session.flush()
    return snap, False


# ---------------------------------------------------------------- intervals and uptime


def _station_ids_for(
    camera_ids: Sequence[int], current: dict[int, int | None]
) -> dict[int, set[int]]:
    """Stations whose heartbeats count for each camera: the current one and every reporting one."""
    out: dict[int, set[int]] = {}
    for cid in camera_ids:
        sid = current.get(cid)
        out[cid] = {sid} if sid is not None else set()
    rows = db.session.execute(
        select(CameraStateChange.camera_id, CameraStateChange.station_id)
        .where(CameraStateChange.camera_id.in_(camera_ids))
        .distinct()
    )
    for cam_id, st_id in rows:
        out[cam_id].add(st_id)
    return out


def _events_for(
    camera_ids: Sequence[int], start: datetime, end: datetime
) -> dict[int, list[rules.StateEvent]]:
    """State events in ``[start, end)`` plus the last one before ``start``, per camera."""
    out: dict[int, list[rules.StateEvent]] = defaultdict(list)
    if not camera_ids:
        return out
    # The time of each camera's last event at or before ``start``, one index seek per
    # camera (a GROUP BY over the events read every earlier event of every camera).
    last_at = (
        select(func.max(CameraStateChange.at))
        .where(CameraStateChange.camera_id == Camera.id, CameraStateChange.at <= start)
        .scalar_subquery()
    )
    last_before = (
        select(Camera.id.label("camera_id"), last_at.label("at"))
        .where(Camera.id.in_(camera_ids))
        .subquery()
    )
    # Only the columns an event needs: no objects (a county's list reads hundreds).
    columns = (
        CameraStateChange.camera_id,
        CameraStateChange.at,
        CameraStateChange.state,
        CameraStateChange.cause,
    )
    prior = db.session.execute(
        select(*columns)
        .join(
            last_before,
            (CameraStateChange.camera_id == last_before.c.camera_id)
            & (CameraStateChange.at == last_before.c.at),
        )
        .order_by(CameraStateChange.id)
    ).all()
    rows = db.session.execute(
        select(*columns)
        .where(
            CameraStateChange.camera_id.in_(camera_ids),
            CameraStateChange.at > start,
            CameraStateChange.at < end,
        )
        .order_by(CameraStateChange.at, CameraStateChange.id)
    ).all()
    for camera_id, at, state, cause in [*prior, *rows]:
        out[camera_id].append(rules.StateEvent(at, state.value, cause))
    return out


def _coverage_for(
    station_ids: Iterable[int], start: datetime, end: datetime
) -> dict[int, list[Window]]:
    ids = list(set(station_ids))
    out: dict[int, list[Window]] = {sid: [] for sid in ids}
    if not ids:
        return out
    reach = timedelta(
        seconds=rules.HEARTBEAT_FACTOR * 3600
    )  # a generous look-back for long intervals
    beats: dict[int, list[tuple[datetime, int]]] = defaultdict(list)
    for sid, at, interval in db.session.execute(
        select(StationHeartbeat.station_id, StationHeartbeat.at, StationHeartbeat.interval_s)
        .where(
            StationHeartbeat.station_id.in_(ids),
            StationHeartbeat.at >= start - reach,
            StationHeartbeat.at < end,
        )
        .order_by(StationHeartbeat.at)
    ):
        beats[sid].append((at, interval))
    for sid in ids:
        out[sid] = rules.coverage_windows(beats[sid])
    return out


def _excuses_for(
    camera_ids: Sequence[int], start: datetime, end: datetime
) -> dict[int, list[Window]]:
    out: dict[int, list[Window]] = defaultdict(list)
    if not camera_ids:
        return out
    for r in db.session.scalars(
        select(OutageExcuse).where(
            OutageExcuse.camera_id.in_(camera_ids),
            OutageExcuse.status == ExcuseStatus.approved,
            OutageExcuse.start < end,
            OutageExcuse.end > start,
        )
    ):
        out[r.camera_id].append((r.start, r.end))
    return out


def camera_intervals(camera: Camera, start: datetime, end: datetime) -> list[rules.Interval]:
    """State intervals of one camera in ``[start, end)`` (end cut at now)."""
    end = min(end, utcnow())
    if end <= start:
        return []
    stations = _station_ids_for([camera.id], {camera.id: camera.station_id})[camera.id]
    cov = _coverage_for(stations, start, end)
    coverage = rules.merge_windows(w for sid in stations for w in cov[sid])
    events = _events_for([camera.id], start, end)[camera.id]
    return rules.build_intervals(events, coverage, start, end)


def intervals_bulk(
    cameras: Sequence[Camera], start: datetime, end: datetime
) -> dict[int, list[rules.Interval]]:
    """State intervals of many cameras in ``[start, end)`` in a few queries (the wall's bars).

    A camera's intervals begin when it was created: before that it did not exist.
    """
    end = min(end, utcnow())
    out: dict[int, list[rules.Interval]] = {c.id: [] for c in cameras}
    if end <= start or not cameras:
        return out
    ids = [c.id for c in cameras]
    stations = _station_ids_for(ids, {c.id: c.station_id for c in cameras})
    cov = _coverage_for({sid for ss in stations.values() for sid in ss}, start, end)
    events = _events_for(ids, start, end)
    for c in cameras:
        begin = max(start, c.created_at) if c.created_at else start
        if begin >= end:
            continue
        coverage = rules.merge_windows(w for sid in stations[c.id] for w in cov[sid])
        out[c.id] = rules.build_intervals(events[c.id], coverage, begin, end)
    return out


@dataclass
class _CameraContext:
    """What the uptime of some cameras over some days is computed from (one batch)."""

    start: datetime
    end: datetime
    intervals: dict[int, list[rules.Interval]]
    windows: dict[int, dict[date, list[Window]]]  # per hall, per day
    excuses: dict[int, list[Window]]


class _CameraRef(Protocol):
    """What the uptime computation reads of a camera: a :class:`Camera`, or a row of
    these three columns (:func:`uptime_bulk` reads no objects it does not need)."""

    @property
    def id(self) -> int: ...
    @property
    def hall_id(self) -> int: ...
    @property
    def station_id(self) -> int | None: ...


def _camera_context(cameras: Sequence[_CameraRef], first: date, last: date) -> _CameraContext:
    """State intervals, opening windows and approved excuses of ``cameras`` (batched)."""
    from tracker.calendar_service import load_calendar

    cal = load_calendar()
    kinds = day_kinds(first, last, cal)
    start = rules.day_bounds(first)[0]
    now = utcnow()
    end = min(rules.day_bounds(last)[1], now)
    ids = [c.id for c in cameras]
    hall_ids = {c.hall_id for c in cameras}
    halls = {
        h.id: h for h in db.session.scalars(select(ServiceHall).where(ServiceHall.id.in_(hall_ids)))
    }
    exc: dict[int, dict[date, list[Any]]] = defaultdict(dict)
    for e in db.session.scalars(
        select(HallException).where(
            HallException.hall_id.in_(hall_ids), HallException.day.between(first, last)
        )
    ):
        exc[e.hall_id][e.day] = e.hours
    changes = hours_changes(hall_ids)
    windows = {
        hid: opening_windows(
            hall_hours(h, first, last, cal, exc[hid], kinds, changes.get(hid, [])), until=now
        )
        for hid, h in halls.items()
    }
    stations = _station_ids_for(ids, {c.id: c.station_id for c in cameras})
    coverage = _coverage_for({s for ss in stations.values() for s in ss}, start, end)
    events = _events_for(ids, start, end)
    intervals = {}
    for cam in cameras:
        cov = rules.merge_windows(w for sid in stations[cam.id] for w in coverage[sid])
        intervals[cam.id] = (
            rules.build_intervals(events[cam.id], cov, start, end) if end > start else []
        )
    return _CameraContext(start, end, intervals, windows, _excuses_for(ids, start, end))


def _live_daily(
    cameras: Sequence[_CameraRef], first: date, last: date
) -> dict[int, dict[date, UptimeTotals]]:
    """Compute per-day totals from raw reports for ``cameras`` over ``[first, last]`` (batched)."""
    if not cameras:
        return {}
    ctx = _camera_context(cameras, first, last)
    return {
        cam.id: rules.uptime_by_day(
            ctx.intervals[cam.id], ctx.windows[cam.hall_id], ctx.excuses[cam.id]
        )
        for cam in cameras
    }


def camera_outages(
    cameras: Sequence[Camera], first: date, last: date
) -> dict[int, list[rules.OutagePart]]:
    """Every outage of ``cameras`` on the local days ``[first, last]``, split by
    :func:`tracker.halls.rules.outage_parts` into counted / excused / outside-hours time.

    The drill-down, the 督查 sheet and the camera page list these; the counted
    seconds are the ones :func:`uptime_bulk` takes off 完好率.
    """
    if not cameras:
        return {}
    ctx = _camera_context(cameras, first, last)
    now = utcnow()
    out = {}
    for cam in cameras:
        wins = [w for ws in ctx.windows[cam.hall_id].values() for w in ws]
        out[cam.id] = rules.outage_parts(ctx.intervals[cam.id], wins, ctx.excuses[cam.id], now)
    return out


def _rollup_totals(row: CameraDailyRollup) -> UptimeTotals:
    return UptimeTotals(
        open_s=row.open_s,
        up_s=row.up_s,
        down_online_s=row.down_online_s,
        down_picture_s=row.down_picture_s,
        unknown_s=row.unknown_s,
        excused_online_s=row.excused_online_s,
        excused_picture_s=row.excused_picture_s,
    )


def daily_totals(
    cameras: Sequence[Camera], first: date, last: date
) -> dict[int, dict[date, UptimeTotals]]:
    """Per-camera per-day totals: stored rollups where present, computed live for the rest."""
    out: dict[int, dict[date, UptimeTotals]] = {c.id: {} for c in cameras}
    ids = [c.id for c in cameras]
    for chunk in _chunks(ids, 900):
        for row in db.session.scalars(
            select(CameraDailyRollup).where(
                CameraDailyRollup.camera_id.in_(chunk), CameraDailyRollup.day.between(first, last)
            )
        ):
            out[row.camera_id][row.day] = _rollup_totals(row)
    days = list(rules.daterange(first, min(last, clock.today())))
    # Cameras grouped by their earliest missing day: normally every camera misses only
    # today, so one batched computation of one day covers them all; a camera with an
    # invalidated older day is recomputed from that day on, with its own group.
    groups: dict[date, list[Camera]] = defaultdict(list)
    for c in cameras:
        gaps = [d for d in days if d not in out[c.id]]
        if gaps:
            groups[gaps[0]].append(c)
    for lo, group in groups.items():
        for chunk in _chunks(group, 500):
            live = _live_daily(chunk, lo, min(last, clock.today()))
            for cam_id, per_day in live.items():
                for d, t in per_day.items():
                    out[cam_id].setdefault(d, t)
    return out


def _chunks(seq: Sequence[Any], n: int) -> Iterable[Sequence[Any]]:
    for i in range(0, len(seq), n):
        yield seq[i : i + n]


def uptime_bulk(camera_ids: Sequence[int], first: date, last: date) -> dict[int, UptimeTotals]:
    """Opening-time totals of many cameras over the local days ``[first, last]``.

    **The** camera figure: the dashboard's score, the village drill-down, the 督查
    sheet, the monthly report, the hall and camera pages all read it. Finished
    days come from :class:`CameraDailyRollup`, summed in SQL (one ``GROUP BY``
    per 900 cameras, so a year of 2,000 cameras is one aggregate, not 730,000
    objects); only the days without a rollup (today, or ones a late report
    invalidated) are computed from the raw reports, batched.
    """
    ids = list(dict.fromkeys(camera_ids))
    out: dict[int, UptimeTotals] = {cid: UptimeTotals() for cid in ids}
    if not ids:
        return out
    R = CameraDailyRollup
    rolled_days: dict[int, int] = {}
    for chunk in _chunks(ids, 900):
        for cid, n, *sums in db.session.execute(
            select(
                R.camera_id,
                func.count(R.day),
                func.sum(R.open_s),
                func.sum(R.up_s),
                func.sum(R.down_online_s),
                func.sum(R.down_picture_s),
                func.sum(R.unknown_s),
                func.sum(R.excused_online_s),
                func.sum(R.excused_picture_s),
            )
            .where(R.camera_id.in_(chunk), R.day.between(first, last))
            .group_by(R.camera_id)
        ):
            rolled_days[cid] = int(n)
            out[cid] = UptimeTotals(*(int(v or 0) for v in sums))
    days = list(rules.daterange(first, min(last, clock.today())))
    short = [cid for cid in ids if rolled_days.get(cid, 0) < len(days)]
    if not short:
        return out
    have: dict[int, set[date]] = defaultdict(set)
    for chunk in _chunks(short, 900):
        for cid, day in db.session.execute(
            select(R.camera_id, R.day).where(R.camera_id.in_(chunk), R.day.between(first, last))
        ):
            have[cid].add(day)
    cameras: dict[int, _CameraRef] = {
        c.id: c
        for chunk in _chunks(short, 900)
        for c in db.session.execute(
            select(Camera.id, Camera.hall_id, Camera.station_id).where(Camera.id.in_(chunk))
        )
    }
    # Cameras grouped by their earliest missing day: normally every camera misses only
    # today, so one batched computation of one day covers them all.
    groups: dict[date, list[_CameraRef]] = defaultdict(list)
    for cid in short:
        gaps = [d for d in days if d not in have[cid]]
        if gaps and cid in cameras:
            groups[gaps[0]].append(cameras[cid])
    for lo, group in groups.items():
        for part in _chunks(group, 500):
            for cam_id, per_day in _live_daily(part, lo, days[-1]).items():
                for d, t in per_day.items():
                    if d not in have[cam_id]:
                        out[cam_id] += t
    return out


def with_cameras(stmt: Select[Any]) -> Select[Any]:
    """A list of halls with their village and cameras (and each camera's status) loaded
    in two more statements, whatever the number of halls: no query per row."""
    return stmt.options(
        joinedload(ServiceHall.region),
        selectinload(ServiceHall.cameras).joinedload(Camera.status),
    )


def load_cameras(hall: ServiceHall) -> list[Camera]:
    """One hall's cameras with their status, in one statement (``Camera.status`` is
    never lazy-loaded); ``hall.cameras`` is set to them."""
    cams = list(
        db.session.scalars(
            select(Camera)
            .where(Camera.hall_id == hall.id)
            .options(joinedload(Camera.status))
            .order_by(Camera.id)
        )
    )
    set_committed_value(hall, "cameras", cams)
    return cams


def status_of(camera: Camera) -> CameraStatus | None:
    """The cached latest state of one camera."""
    return db.session.get(CameraStatus, camera.id)


def cameras_under(
    region: Region, active_only: bool = True, with_hall: bool = False
) -> list[Camera]:
    """Every camera of the halls in ``region``'s subtree (``with_hall``: each camera's
    hall and village loaded in the same statement, for a report that names them)."""
    stmt = select(Camera).where(Camera.region_id.in_(subtree_ids(region.path)))
    if with_hall:
        stmt = stmt.options(joinedload(Camera.hall).joinedload(ServiceHall.region))
    if active_only:
        stmt = stmt.where(Camera.active.is_(True))
    return list(db.session.scalars(stmt.order_by(Camera.id)))


def region_uptime(region: Region, first: date, last: date) -> UptimeTotals:
    """Totals of every camera under a region (village, township, county, city)."""
    total = UptimeTotals()
    for t in uptime_bulk([c.id for c in cameras_under(region)], first, last).values():
        total += t
    return total


def uptime_by_region(regions: Sequence[Region], first: date, last: date) -> dict[int, UptimeTotals]:
    """Totals per region node (e.g. every township of a county) from one bulk read."""
    if not regions:
        return {}
    root_paths = {r.id: r.path for r in regions}
    cams = list(
        db.session.execute(
            select(Camera.id, Region.path)
            .join(Region, Region.id == Camera.region_id)
            .where(Camera.active.is_(True))
        )
    )
    relevant = [
        (cid, path) for cid, path in cams if any(path.startswith(p) for p in root_paths.values())
    ]
    totals = uptime_bulk([cid for cid, _ in relevant], first, last)
    out = {rid: UptimeTotals() for rid in root_paths}
    for cid, path in relevant:
        for rid, p in root_paths.items():
            if path.startswith(p):
                out[rid] += totals[cid]
    return out


def village_totals(region: Region, first: date, last: date) -> dict[int, UptimeTotals]:
    """Totals per village (camera ``region_id``) under ``region``: the dashboard's bulk reader.

    Same figures as :func:`uptime_bulk` — stored rollups plus the missing days
    (today, invalidated days) computed live — summed per village.
    """
    cams = cameras_under(region)
    totals = uptime_bulk([c.id for c in cams], first, last)
    out: dict[int, UptimeTotals] = defaultdict(UptimeTotals)
    for c in cams:
        out[c.region_id] += totals[c.id]
    return dict(out)


def hall_uptime(hall: ServiceHall, first: date, last: date) -> UptimeTotals:
    total = UptimeTotals()
    for t in uptime_bulk([c.id for c in hall.cameras if c.active], first, last).values():
        total += t
    return total


def invalidate_rollups(camera_ids: Iterable[int], first: date, last: date | None) -> int:
    """Delete stored rollups of ``camera_ids`` on days ``[first, last]`` (``last`` None = on)."""
    ids = list(camera_ids)
    if not ids:
        return 0
    stmt = delete(CameraDailyRollup).where(
        CameraDailyRollup.camera_id.in_(ids), CameraDailyRollup.day >= first
    )
    if last is not None:
        stmt = stmt.where(CameraDailyRollup.day <= last)
    if first < clock.today():
        # A finished day's figures change: the dashboard's snapshots of the villages
        # must be recomputed (today's live part is recomputed by every roll-up anyway).
        from tracker.dashboard.writes import note_written

        note_written(
            db.session,
            db.session.scalars(select(Camera.region_id).where(Camera.id.in_(ids)).distinct()),
        )
    return db.session.execute(stmt).rowcount or 0  # type: ignore[attr-defined]


def compute_rollups(days_back: int = 40, today: date | None = None) -> int:
    """Store missing rollups for finished days (the ``halls.rollup`` job); returns rows added."""
    today = today or clock.today()
    first, last = today - timedelta(days=days_back), today - timedelta(days=1)
    cameras = list(
        db.session.scalars(select(Camera).where(Camera.active.is_(True)).order_by(Camera.id))
    )
    have: set[tuple[int, date]] = {
        (r[0], r[1])
        for r in db.session.execute(
            select(CameraDailyRollup.camera_id, CameraDailyRollup.day).where(
                CameraDailyRollup.day.between(first, last)
            )
        )
    }
    added = 0
    for chunk in _chunks(cameras, 200):
        todo = []
        for cam in chunk:
            start_day = max(first, clock.local_date(cam.created_at))
            if any((cam.id, d) not in have for d in rules.daterange(start_day, last)):
                todo.append(cam)
        if not todo:
            continue
        live = _live_daily(todo, first, last)
        for cam in todo:
            start_day = max(first, clock.local_date(cam.created_at))
            for d, t in live[cam.id].items():
                if d < start_day or (cam.id, d) in have:
                    continue
                db.session.add(
                    CameraDailyRollup(
                        camera_id=cam.id,
                        day=d,
                        region_id=cam.region_id,
                        open_s=t.open_s,
                        up_s=t.up_s,
                        down_online_s=t.down_online_s,
                        down_picture_s=t.down_picture_s,
                        unknown_s=t.unknown_s,
                        excused_online_s=t.excused_online_s,
                        excused_picture_s=t.excused_picture_s,
                    )
                )
                added += 1
        db.session.flush()
    return added


# ---------------------------------------------------------------- excuses


# Kept under these names for the views; the tables live in :mod:`tracker.halls.rules`.
EXCUSE_LABELS = rules.EXCUSE_KIND_LABELS
EXCUSE_STATUS_LABELS = rules.EXCUSE_STATUS_LABELS
CAUSE_LABELS = rules.CAUSE_LABELS


def file_excuse(
    camera: Camera, start: datetime, end: datetime, kind: ExcuseKind, reason: str, user: User | None
) -> OutageExcuse:
    """A village files a reason for an outage (pending the county's decision)."""
    if start.tzinfo is None or end.tzinfo is None:
        raise HallError(gettext("时间须带时区"), "start")
    if end <= start:
        raise HallError(gettext("结束时间应晚于开始时间"), "end")
    if end - start > timedelta(days=31):
        raise HallError(gettext("一次说明最长 31 天"), "end")
    if start > utcnow():
        raise HallError(gettext("不能为尚未发生的时间报备"), "start")
    reason = _text(reason, "reason", 2000, "情况说明")
    excuse = OutageExcuse(
        camera_id=camera.id,
        region_id=camera.region_id,
        start=start,
        end=end,
        kind=kind,
        reason=reason,
        filed_by_id=user.id if user else None,
    )
    db.session.add(excuse)
    db.session.flush()
    return excuse


def decide_excuse(
    excuse: OutageExcuse, approve: bool, user: User | None, note: str = ""
) -> OutageExcuse:
    """The county approves or rejects; approved time leaves the compliance figure."""
    if excuse.status != ExcuseStatus.pending:
        raise HallError(gettext("该说明已审核"), "status")
    if user is not None and excuse.filed_by_id == user.id:
        raise HallError(gettext("不能审核自己提交的说明"), "status")
    excuse.status = ExcuseStatus.approved if approve else ExcuseStatus.rejected
    excuse.decided_by_id = user.id if user else None
    excuse.decided_at = utcnow()
    excuse.decision_note = _text(note, "decision_note", 500, "审核意见", required=False) or None
    db.session.flush()
    if approve:
        invalidate_rollups(
            [excuse.camera_id], clock.local_date(excuse.start), clock.local_date(excuse.end)
        )
    return excuse


# ---------------------------------------------------------------- contract helpers


def resolved_opening_days(
    hall: ServiceHall, cal: WorkCalendar, days: int = 8
) -> list[dict[str, Any]]:
    """``opening_hours.days`` of the station contract: today and the next 7 days."""
    today = clock.today()
    hours = hall_hours(hall, today, today + timedelta(days=days - 1), cal)
    return [{"date": d.isoformat(), "open": rules.format_ranges(r)} for d, r in hours.items()]


def station_camera_document(station: Station) -> dict[str, Any]:
    """The body of ``GET /api/v1/station/cameras`` for ``station``."""
    from tracker.calendar_service import load_calendar

    cal = load_calendar()
    cams = db.session.scalars(
        select(Camera)
        .where(Camera.station_id == station.id, Camera.active.is_(True))
        .order_by(Camera.id)
    ).all()
    hours_cache: dict[int, list[dict[str, Any]]] = {}
    out = []
    for cam in cams:
        hall = cam.hall
        if hall.id not in hours_cache:
            hours_cache[hall.id] = resolved_opening_days(hall, cal)
        out.append(
            {
                "id": cam.id,
                "name": cam.name,
                "hall": {"id": hall.id, "name": hall.name, "village": hall.region.name},
                "stream_url": decrypt_url(cam),
                "rtsp_transport": cam.rtsp_transport,
                "check_interval_s": cam.check_interval_s,
                "snapshot_every_min": cam.snapshot_every_min,
                "thresholds": {**DEFAULT_THRESHOLDS, **(cam.thresholds or {})},
                "opening_hours": {"timezone": clock.zone().key, "days": hours_cache[hall.id]},
            }
        )
    return {
        "station": {"id": station.id, "name": station.name},
        "generated_at": utcnow().replace(microsecond=0).isoformat().replace("+00:00", "Z"),
        "heartbeat_interval_s": int(settings().heartbeat_interval_s),
        "cameras": out,
    }
