"""Demo halls and cameras: one hall per demo village, two cameras each, history since last month.

The history is plausible rather than random noise: most days are clean, some
have a short outage (unreachable, frozen, black …), one station-wide silence
(no heartbeats → unknown) and one power cut with an approved excuse. The
villages of :data:`tracker.demo.STORY` with a dark camera lose their hall
camera for days (one files a network excuse, which the county rejects).

For ``make run`` :func:`demo_companions` (named in ``tracker.halls.DOMAIN``)
re-issues the demo station's token and starts ``monitor simulate`` plus
``monitor run`` against the web app, with the demo cameras pointed at the
simulator's URLs, so the wall and camera pages fill up live.
"""

from __future__ import annotations

import sys
import uuid
from datetime import UTC, datetime, time, timedelta
from typing import Any

from flask import Flask
from sqlalchemy import insert, select

from tracker.demo import DemoWorld, story
from tracker.extensions import db
from tracker.halls import resident, services
from tracker.halls.models import (
    ActivityUnit,
    Camera,
    CameraStateChange,
    ExcuseKind,
    ResidentKind,
    ServiceHall,
    Station,
    StationHeartbeat,
)
from tracker.models import utcnow

DEMO_STATION = "演示机房"
SIM_PORT = 8554
# Simulator kinds given to the demo cameras in turn (most cameras are fine).
SIM_KINDS = [
    "live",
    "quiet",
    "live",
    "auth",
    "live",
    "quiet",
    "frozen",
    "live",
    "black",
    "quiet",
    "blurred",
    "live",
]
CAMERA_NAMES = [("大厅全景", "大厅东北角吊顶"), ("办事窗口", "窗口上方")]
HEARTBEAT_S = 300  # the demo history uses 5-minute heartbeats (the live monitor uses 60 s)
OUTAGE_CAUSES = [
    "unreachable",
    "unreachable",
    "no_video",
    "frozen",
    "black",
    "blurred",
    "auth_failed",
]


def sim_url(index: int, port: int = SIM_PORT) -> str:
    kind = SIM_KINDS[index % len(SIM_KINDS)]
    cred = "demo:demo@" if kind == "auth" else ""
    return f"http://{cred}127.0.0.1:{port}/{kind}"


def seed_halls(world: DemoWorld) -> None:
    """Halls, cameras, a demo station and 30 days of state changes and heartbeats."""
    rng = world.rng
    station, _token = services.create_station(DEMO_STATION, world.city)
    now = utcnow().replace(second=0, microsecond=0)
    # History since the first of last month (the month the dashboard opens on), at least 30 days.
    today = world.today
    last_month = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    start = min(now - timedelta(days=30), datetime.combine(last_month, time(0), UTC))
    cameras: list[Camera] = []
    for i, village in enumerate(world.villages):
        hall = services.create_hall(
            village,
            services.HallData(
                name=f"{village.name}便民服务中心",
                address=f"{village.name}村委会一楼",
                contact_name="值班员",
                contact_phone="0436-" + "".join(rng.choice("0123456789") for _ in range(7)),
            ),
        )
        seed_residents(world, hall)
        for j, (name, position) in enumerate(CAMERA_NAMES):
            cam = services.create_camera(
                hall,
                services.CameraData(
                    name=name,
                    position=position,
                    stream_url=sim_url(i * 2 + j),
                    station_id=station.id,
                ),
            )
            cam.created_at = start
            cameras.append(cam)
    db.session.flush()
    # Heartbeats every 5 minutes, with one 3-hour silence 9 days ago (the uplink was cut).
    silence = (now - timedelta(days=9)).replace(hour=1, minute=0)  # 09:00 Beijing
    beats = []
    t = start
    while t < now:
        if not (silence <= t < silence + timedelta(hours=3)):
            beats.append(
                {
                    "uuid": str(uuid.UUID(int=rng.getrandbits(128))),
                    "station_id": station.id,
                    "at": t,
                    "interval_s": HEARTBEAT_S,
                    "version": "0.1.0",
                    "received_at": t,
                }
            )
        t += timedelta(seconds=HEARTBEAT_S)
    db.session.execute(insert(StationHeartbeat), beats)
    station.last_heartbeat_at = now
    station.software_version = "0.1.0"
    # State changes: up from the start, a few outages a month per camera.
    states: list[dict[str, Any]] = []
    power_cut: tuple[Camera, datetime, datetime] | None = None
    dark: list[tuple[Camera, datetime, datetime, bool]] = []  # camera, start, end, excuse filed
    village_of = {v.id: v for v in world.villages}
    for n, cam in enumerate(cameras):
        states.append(_state(rng, cam, station, start, "up"))
        window: tuple[datetime, datetime] | None = None
        problems = story(village_of[cam.region_id])
        if "dark_camera" in problems:  # the hall's uplink: every camera of the hall
            # The story's dark camera: the uplink died one morning and stayed down for days.
            secretary_away = "secretary_away" in problems
            days = 8 if secretary_away else 12
            first = datetime.combine(last_month, time(1, 10), UTC)  # 09:10 Beijing
            s0 = first + timedelta(days=12 if secretary_away else 6)
            window = (s0, s0 + timedelta(days=days, hours=2))
            states.append(_state(rng, cam, station, window[0], "down", "unreachable"))
            states.append(_state(rng, cam, station, window[1], "up"))
            dark.append((cam, window[0], window[1], not secretary_away))
        day = start
        while day < now - timedelta(days=1):
            if window and window[0] - timedelta(days=1) <= day <= window[1]:
                day += timedelta(days=1)
                continue
            if rng.random() < 0.06:
                # An outage starting in the (Beijing) working day.
                at = day.replace(hour=0, minute=0) + timedelta(minutes=rng.randint(30, 540))
                length = timedelta(minutes=rng.choice([8, 15, 25, 40, 75, 150, 300]))
                cause = rng.choice(OUTAGE_CAUSES)
                states.append(_state(rng, cam, station, at, "down", cause))
                states.append(_state(rng, cam, station, at + length, "up"))
                if power_cut is None and n == 0 and cause == "unreachable":
                    power_cut = (cam, at, at + length)
            day += timedelta(days=1)
    db.session.execute(insert(CameraStateChange), states)
    db.session.flush()
    services.refresh_status([c.id for c in cameras])
    cam0 = cameras[0]
    if power_cut is None:
        at = (now - timedelta(days=5)).replace(hour=2, minute=0)
        power_cut = (cam0, at, at + timedelta(hours=2))
        db.session.execute(
            insert(CameraStateChange),
            [
                _state(rng, cam0, station, power_cut[1], "down", "unreachable"),
                _state(rng, cam0, station, power_cut[2], "up"),
            ],
        )
    cam, s, e = power_cut
    excuse = services.file_excuse(
        cam, s, e, ExcuseKind.power_cut, "全村计划停电（供电所通知），大厅设备断电。", None
    )
    services.decide_excuse(excuse, True, None, "有供电所停电通知，同意")
    for cam, s, e, filed in dark:
        if filed:
            excuse = services.file_excuse(
                cam, s, e, ExcuseKind.network, "网络故障，已报运营商维修。", None
            )
            services.decide_excuse(
                excuse, False, None, "未附运营商故障单，且断线近两周未报告，不予核准"
            )
    services.refresh_status([c.id for c in cameras])
    db.session.flush()


RESIDENTS = [
    (ResidentKind.ecommerce, "农村电商服务站", "县电子商务公共服务中心", ActivityUnit.transactions),
    (ResidentKind.bank, "助农取款服务点", "吉林银行白城分行", ActivityUnit.transactions),
    (
        ResidentKind.postal,
        "村级寄递物流综合服务站",
        "中国邮政白城市分公司",
        ActivityUnit.transactions,
    ),
    (ResidentKind.insurance, "农业保险服务点", "中华联合财产保险", ActivityUnit.visits),
]


def seed_residents(world: DemoWorld, hall: ServiceHall) -> None:
    """Two or three resident services per hall (e-commerce in every one) with their
    monthly figures typed in up to last month (this month's comes at its end)."""
    rng = world.rng
    chosen = [RESIDENTS[0], *rng.sample(RESIDENTS[1:], rng.choice([1, 2]))]
    for kind, name, provider, unit in chosen:
        since = world.today - timedelta(days=rng.randint(200, 900))
        service = resident.create_service(
            hall,
            resident.ResidentInput(
                kind=kind,
                name=name,
                provider=provider,
                since=since,
                unit=unit,
                opening_hours="工作日 08:30-17:00",
                contact_phone="0436-" + "".join(rng.choice("0123456789") for _ in range(7)),
            ),
        )
        base = rng.randint(20, 300)
        for month in resident.last_months(world.today, 12)[:-1]:
            if month >= since.replace(day=1):
                resident.record_activity(service, month, max(0, base + rng.randint(-15, 25)))


def _state(
    rng: Any, cam: Camera, station: Station, at: datetime, state: str, cause: str | None = None
) -> dict[str, Any]:
    return {
        "uuid": str(uuid.UUID(int=rng.getrandbits(128))),
        "camera_id": cam.id,
        "station_id": station.id,
        "at": at.astimezone(UTC),
        "state": state,
        "cause": cause,
        "received_at": at.astimezone(UTC),
    }


def demo_companions(
    app: Flask, port: int, no_monitor: bool
) -> list[tuple[str, list[str], dict[str, str]]]:
    """``make run``: the camera simulator and a monitor for the demo station."""
    if no_monitor:
        return []
    from pathlib import Path

    from tracker.config import ROOT

    station = db.session.scalar(select(Station).where(Station.name == DEMO_STATION))
    if station is None:
        return []
    token = services.rotate_station_token(station)
    cams = db.session.scalars(
        select(Camera).where(Camera.station_id == station.id).order_by(Camera.id)
    ).all()
    for i, cam in enumerate(cams):
        url = sim_url(i)
        cam.stream_url_encrypted = services.encrypt_url(url)
        cam.stream_url_masked = services.rules.mask_stream_url(url)
    db.session.commit()
    state_dir = str(Path(app.config["INSTANCE_DIR"]) / "monitor-demo")
    Path(ROOT / "instance").mkdir(exist_ok=True)
    env = {
        "MONITOR_TRACKER_URL": f"http://127.0.0.1:{port}",
        "MONITOR_TOKEN": token,
        "MONITOR_STATE_DIR": state_dir,
    }
    return [
        (
            "camera simulator",
            [sys.executable, "-m", "monitor.cli", "simulate", "--port", str(SIM_PORT)],
            {},
        ),
        ("monitor", [sys.executable, "-m", "monitor.cli", "run"], env),
    ]


__all__ = ["ServiceHall", "demo_companions", "seed_halls"]
