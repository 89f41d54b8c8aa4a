"""Camera alerts: one per outage, station summaries, escalation, and their delivery.

- :func:`on_state_changes` runs after a report batch stored new state items: a
  camera that is now confirmed ``down`` without an open alert gets one (the
  outage's only alert — cause changes during it do not alert again); a camera
  back ``up`` closes its alert with a recovery notice. ``unknown`` (the monitor
  went blind) neither opens nor closes an alert.
- When cameras of one station go down and the station's 离线 cameras (no
  stream; 画面异常 is the camera's own problem) reach both
  ``[cameras] station_outage_min_cameras`` and the share
  ``station_outage_share`` of its active cameras (:func:`station_looks_down`),
  one summary alert says "probably the station or its uplink" — so 3 dark
  cameras of 40 stay three camera alerts. The per-camera alerts of the batch
  (and of later batches while the summary is open) are kept but marked
  ``suppressed`` and not delivered.
- :func:`escalate` (jobs): a hall whose every camera stayed dark for
  ``escalate_after_open_hours`` opening hours is escalated to the county, once.
- Delivery: :func:`enqueue` publishes each alert through the one notification
  pipeline (:func:`tracker.notifications.services.publish`): the inbox of the
  township and everyone above it, and one outbox row per ``[alerts]`` channel
  (one e-mail per recipient) that ``notifications.deliver`` sends with back-off,
  never inside the station's request.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select

from tracker import clock
from tracker.config import current_settings
from tracker.extensions import db
from tracker.halls import rules
from tracker.halls.models import (
    AlertKind,
    Camera,
    CameraState,
    CameraStatus,
    HallAlert,
    ServiceHall,
    Station,
)
from tracker.halls.rules import cause_label
from tracker.models import Region, RegionLevel, utcnow
from tracker.models.regions import in_subtree
from tracker.notifications.services import Message, publish

log = logging.getLogger("tracker.halls.alerts")


def _local(value: datetime | None) -> str:
    return "" if value is None else value.astimezone(clock.zone()).strftime("%Y-%m-%d %H:%M")


def _ancestor(region: Region, level: RegionLevel) -> Region:
    """The node of ``level`` above (or at) ``region``; the region itself if none."""
    nodes = db.session.scalars(select(Region).where(Region.id.in_(region.ancestor_ids))).all()
    for node in nodes:
        if node.level == level:
            return node
    return region


def camera_url(camera_id: int) -> str:
    return f"/halls/cameras/{camera_id}"


def on_state_changes(camera_ids: Sequence[int]) -> list[HallAlert]:
    """Open/close outage alerts for cameras whose state just changed; returns new alerts."""
    created: list[HallAlert] = []
    new_downs: list[HallAlert] = []
    touched_stations: set[int] = set()
    for cam_id in camera_ids:
        camera = db.session.get(Camera, cam_id)
        status = db.session.get(CameraStatus, cam_id)
        if camera is None or status is None:
            continue
        open_alert = db.session.scalar(
            select(HallAlert).where(
                HallAlert.camera_id == cam_id,
                HallAlert.kind == AlertKind.down,
                HallAlert.open.is_(True),
            )
        )
        hall = camera.hall
        where = f"{hall.region.name} · {hall.name} · {camera.name}"
        if status.state == CameraState.down and open_alert is None:
            alert = HallAlert(
                kind=AlertKind.down,
                region_id=camera.region_id,
                camera_id=cam_id,
                station_id=camera.station_id,
                hall_id=hall.id,
                outage_start=status.since,
                cause=status.cause,
                title=f"摄像头离线：{where}",
                body=f"原因：{cause_label(status.cause)}；开始时间：{_local(status.since)}。",
                open=True,
            )
            db.session.add(alert)
            new_downs.append(alert)
            created.append(alert)
        elif status.state == CameraState.up and open_alert is not None:
            open_alert.open = False
            alert = HallAlert(
                kind=AlertKind.recovery,
                region_id=camera.region_id,
                camera_id=cam_id,
                station_id=camera.station_id,
                hall_id=hall.id,
                outage_start=open_alert.outage_start,
                cause=open_alert.cause,
                title=f"摄像头恢复：{where}",
                body=(
                    f"{_local(open_alert.outage_start)} 起的离线（{cause_label(open_alert.cause)}）"
                    f"已于 {_local(status.since)} 恢复。"
                ),
                suppressed=open_alert.suppressed,
                parent_id=open_alert.parent_id,
            )
            db.session.add(alert)
            created.append(alert)
            if open_alert.station_id:
                touched_stations.add(open_alert.station_id)
    db.session.flush()
    created.extend(_group_by_station(new_downs))
    for station_id in touched_stations:
        rec = _maybe_close_station(station_id)
        if rec is not None:
            created.append(rec)
    db.session.flush()
    for alert in created:
        if not alert.suppressed:
            enqueue(alert)
    return created


def station_looks_down(offline: int, total: int) -> bool:
    """Whether ``offline`` dark cameras of ``total`` active ones say "the station is down".

    Both ``[cameras] station_outage_min_cameras`` (at least that many) and
    ``station_outage_share`` (at least that share of the station's cameras).
    """
    cfg = current_settings().cameras
    return (
        total > 0
        and offline >= cfg.station_outage_min_cameras
        and offline >= cfg.station_outage_share * total
    )


def _group_by_station(new_downs: list[HallAlert]) -> list[HallAlert]:
    """Fold a station's simultaneous downs into one summary alert (no alert storm)."""
    by_station: dict[int, list[HallAlert]] = defaultdict(list)
    for a in new_downs:
        if a.station_id:
            by_station[a.station_id].append(a)
    summaries = []
    for station_id, alerts in by_station.items():
        summary = db.session.scalar(
            select(HallAlert).where(
                HallAlert.station_id == station_id,
                HallAlert.kind == AlertKind.station_down,
                HallAlert.open.is_(True),
            )
        )
        if summary is None:
            station = db.session.get(Station, station_id)
            assert station is not None
            rows = db.session.execute(
                select(CameraStatus.state, CameraStatus.cause)
                .select_from(Camera)
                .outerjoin(CameraStatus, CameraStatus.camera_id == Camera.id)
                .where(Camera.station_id == station_id, Camera.active.is_(True))
            ).all()
            total = len(rows)
            offline = sum(
                1
                for state, cause in rows
                if rules.condition(state.value if state else None, cause) == "offline"
            )
            if not station_looks_down(offline, total):
                continue
            start = min((a.outage_start for a in alerts if a.outage_start), default=None)
            summary = HallAlert(
                kind=AlertKind.station_down,
                region_id=station.region_id,
                station_id=station_id,
                outage_start=start,
                title=f"监控站 {station.name}：{offline} 个摄像头同时离线",
                body=(
                    f"{_local(start)} 起监控站 {station.name} 的 {offline}/{total} 个摄像头同时离线，"
                    "很可能是监控站本身或其网络上行链路故障，而不是各个大厅的摄像头。"
                    "单个摄像头的离线通知已合并到本条。"
                ),
                open=True,
            )
            db.session.add(summary)
            db.session.flush()
            summaries.append(summary)
        for a in alerts:
            a.suppressed = True
            a.parent_id = summary.id
    return summaries


def _maybe_close_station(station_id: int) -> HallAlert | None:
    summary = db.session.scalar(
        select(HallAlert).where(
            HallAlert.station_id == station_id,
            HallAlert.kind == AlertKind.station_down,
            HallAlert.open.is_(True),
        )
    )
    if summary is None:
        return None
    still_down = db.session.scalar(
        select(HallAlert.id).where(
            HallAlert.parent_id == summary.id,
            HallAlert.kind == AlertKind.down,
            HallAlert.open.is_(True),
        )
    )
    if still_down:
        return None
    summary.open = False
    station = db.session.get(Station, station_id)
    name = station.name if station else str(station_id)
    rec = HallAlert(
        kind=AlertKind.station_recovery,
        region_id=summary.region_id,
        station_id=station_id,
        outage_start=summary.outage_start,
        title=f"监控站 {name}：摄像头已全部恢复",
        body=f"{_local(summary.outage_start)} 起的集中离线已结束。",
        parent_id=summary.id,
    )
    db.session.add(rec)
    db.session.flush()
    return rec


# ---------------------------------------------------------------- escalation


def escalate(now: datetime | None = None) -> list[HallAlert]:
    """Escalate to the county every hall dark for N opening hours (once per outage)."""
    from tracker.calendar_service import load_calendar
    from tracker.halls.services import hall_hours, opening_windows

    now = now or utcnow()
    hours = int(current_settings().cameras.escalate_after_open_hours)
    open_alerts = db.session.scalars(
        select(HallAlert).where(HallAlert.kind == AlertKind.down, HallAlert.open.is_(True))
    ).all()
    by_hall: dict[int, list[HallAlert]] = defaultdict(list)
    for a in open_alerts:
        if a.hall_id:
            by_hall[a.hall_id].append(a)
    cal = load_calendar()
    out = []
    for hall_id, alerts in by_hall.items():
        hall = db.session.get(ServiceHall, hall_id)
        if hall is None or any(a.escalated_at for a in alerts):
            continue
        active = {c.id for c in hall.cameras if c.active}
        if not active or active - {a.camera_id for a in alerts}:
            continue  # not every camera is dark
        dark_since = max(a.outage_start or now for a in alerts)
        windows = opening_windows(
            hall_hours(hall, clock.local_date(dark_since), clock.local_date(now), cal), until=now
        )
        dark_open_s = rules.seconds_of(
            rules.intersect(
                rules.merge_windows(w for ws in windows.values() for w in ws), [(dark_since, now)]
            )
        )
        if dark_open_s < hours * 3600:
            continue
        county = _ancestor(hall.region, RegionLevel.county)
        alert = HallAlert(
            kind=AlertKind.escalation,
            region_id=hall.region_id,
            hall_id=hall.id,
            outage_start=dark_since,
            title=f"升级提醒：{hall.region.name} · {hall.name} 已连续 {hours} 个营业小时无监控画面",
            body=(
                f"{_local(dark_since)} 起该大厅全部 {len(active)} 个摄像头离线，"
                f"营业时间内累计 {dark_open_s // 3600} 小时 {dark_open_s % 3600 // 60} 分，请县级督办。"
            ),
        )
        db.session.add(alert)
        for a in alerts:
            a.escalated_at = now
        db.session.flush()
        enqueue(alert, recipients_region=county)
        out.append(alert)
    return out


# ---------------------------------------------------------------- delivery


def _recipient_region(alert: HallAlert) -> Region:
    """Hall alerts go to the hall's township (and, through notify, everyone above)."""
    if alert.hall_id:
        hall = db.session.get(ServiceHall, alert.hall_id)
        if hall is not None:
            return _ancestor(hall.region, RegionLevel.township)
    station = db.session.get(Station, alert.station_id) if alert.station_id else None
    region = station.region if station else db.session.get(Region, alert.region_id)
    assert region is not None
    return region


def enqueue(alert: HallAlert, recipients_region: Region | None = None) -> None:
    """Tell the township (or ``recipients_region``) and everyone above, through the one pipeline.

    Alerts name places and cameras, never people, so robots get the full text.
    """
    region = recipients_region or _recipient_region(alert)
    url = camera_url(alert.camera_id) if alert.camera_id else "/halls/wall"
    publish(
        region,
        Message(
            title=alert.title,
            body=alert.body,
            url=url,
            kind=f"camera_{alert.kind.value}",
            dedupe_key=f"hall_alert:{alert.id}",
            public_text=f"{alert.title}\n{alert.body}",
            data=payload_for(alert),
        ),
    )


def payload_for(alert: HallAlert) -> dict[str, Any]:
    """Extra fields of the generic JSON webhook body."""
    return {
        "alert_kind": alert.kind.value,
        "camera_id": alert.camera_id,
        "hall_id": alert.hall_id,
        "station_id": alert.station_id,
        "cause": alert.cause,
        "outage_start": alert.outage_start.isoformat() if alert.outage_start else None,
    }


def recent_alerts(region_path: str, limit: int = 50) -> list[HallAlert]:
    """Delivered (not suppressed) alerts in a subtree, newest first."""
    return list(
        db.session.scalars(
            select(HallAlert)
            .join(Region, Region.id == HallAlert.region_id)
            .where(in_subtree(region_path), HallAlert.suppressed.is_(False))
            .order_by(HallAlert.created_at.desc(), HallAlert.id.desc())
            .limit(limit)
        )
    )
