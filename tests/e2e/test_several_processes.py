"""Several web processes, several stations, one database (PostgreSQL only).

Two gunicorn web processes, one ``tracker jobs`` and two ``monitor run`` (one
station each, each talking to a different web process) share one fresh
PostgreSQL database and one upload directory (``TRACKER_UPLOAD_DIR``, what a
deployment puts on shared storage). Then:

- the same report batch sent to both web processes at once is stored once;
- no check, state change, heartbeat or snapshot is stored twice;
- both web processes show the same camera states, and a snapshot a station
  uploaded through one is served by the other.
"""

from __future__ import annotations

import hashlib
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import func, select

from monitor.simulator import SimulatorServer, refusing_url
from tests.conftest import TEST_DB_URL, fresh_database
from tests.factories import PASSWORD

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not TEST_DB_URL.startswith("postgresql"), reason="several processes need PostgreSQL"
    ),
]
ROOT = Path(__file__).resolve().parents[2]


def wait_for(cond: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def database() -> Iterator[str]:
    """A fresh database on the test server, dropped afterwards."""
    with fresh_database(TEST_DB_URL, f"t_multi_{uuid.uuid4().hex[:8]}") as url:
        yield url


class Procs:
    """Child processes of the test, each in its own process group, all stopped at the end."""

    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self.procs: list[tuple[str, subprocess.Popen[bytes]]] = []

    def start(self, name: str, cmd: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        log = (self.logs / f"{name}.log").open("ab")
        proc = subprocess.Popen(
            cmd, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT, start_new_session=True
        )
        self.procs.append((name, proc))
        return proc

    def stop(self) -> dict[str, int | None]:
        for _, proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        codes: dict[str, int | None] = {}
        for name, proc in self.procs:
            try:
                codes[name] = proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                codes[name] = None
        return codes


def _login(base: str, username: str) -> requests.Session:
    s = requests.Session()
    page = s.get(f"{base}/login", timeout=10).text
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    form = {"username": username, "password": PASSWORD}
    if token:
        form["csrf_token"] = token.group(1)
    resp = s.post(f"{base}/login", data=form, allow_redirects=False, timeout=10)
    assert resp.status_code == 302, resp.text[:500]
    return s


def _states(html: str) -> list[str]:
    """The state dots of the halls list, in page order."""
    return re.findall(r'class="st-dot st-(\w+)"', html)


def test_two_web_processes_one_jobs_process_and_two_monitors_share_one_database(
    database: str, tmp_path: Path
) -> None:
    from cryptography.fernet import Fernet

    from tests.factories import build_world
    from tracker import create_app
    from tracker.database import upgrade
    from tracker.extensions import db
    from tracker.halls import services
    from tracker.halls.models import (
        CameraCheck,
        CameraStateChange,
        CameraStatus,
        Snapshot,
        StationHeartbeat,
    )

    uploads = tmp_path / "shared-uploads"
    uploads.mkdir()
    secret = "several-processes-" + "s" * 32
    camera_key = Fernet.generate_key().decode()
    upgrade(database)
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database,
            "SECRET_KEY": secret,
            "UPLOAD_DIR": str(uploads),
            "CAMERA_KEY": camera_key,
        }
    )
    sim = SimulatorServer(fps=10).start(lifetime_s=240)
    stations: list[dict[str, Any]] = []
    with app.app_context():
        world = build_world()
        admin = world.users["city_admin"].username
        for county, village in (
            (world.county_a, world.village_a2a),
            (world.county_b, world.village_b1a),
        ):
            station, token = services.create_station(f"机房{county.name}", county)
            hall = services.create_hall(village, services.HallData(name=f"{village.name}服务中心"))
            cams = {}
            for name, url in (
                ("live", sim.url("auth", credentials=True)),
                ("dead", refusing_url()),
            ):
                cam = services.create_camera(
                    hall,
                    services.CameraData(
                        name=name,
                        stream_url=url,
                        station_id=station.id,
                        check_interval_s=10,
                        thresholds={"down_after": 2, "up_after": 2},
                    ),
                )
                cams[name] = cam.id
            stations.append({"id": station.id, "token": token, "cams": cams})
        db.session.commit()

    env = dict(
        os.environ,
        TRACKER_DATABASE_URL=database,
        TRACKER_SECRET_KEY=secret,
        TRACKER_CAMERA_KEY=camera_key,
        TRACKER_UPLOAD_DIR=str(uploads),
        PYTHONPATH=str(ROOT),
    )
    procs = Procs(tmp_path)
    webs = []
    try:
        for i in (1, 2):
            port = free_port()
            procs.start(
                f"web{i}",
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "-w",
                    "1",
                    "-b",
                    f"127.0.0.1:{port}",
                    "--log-level",
                    "warning",
                    "tracker.wsgi:app",
                ],
                env,
            )
            webs.append(f"http://127.0.0.1:{port}")
        for base in webs:
            wait_for(lambda base=base: _up(base), 60, f"{base} to answer")
        procs.start("jobs", [sys.executable, "-m", "tracker.cli", "jobs"], env)
        for i, (station, base) in enumerate(zip(stations, webs, strict=True), start=1):
            cfg = tmp_path / f"monitor{i}.toml"
            cfg.write_text(
                f"""
[monitor]
tracker_url = "{base}"
state_dir = "{tmp_path / f"state{i}"}"
workers = 2
probe_timeout_s = 1.5
heartbeat_interval_s = 2
delivery_interval_s = 0.5
jitter_s = 0.5
camera_refresh_s = 60
request_timeout_s = 5
max_backoff_s = 1
snapshot_width = 160
""",
                encoding="utf-8",
            )
            menv = dict(env, MONITOR_CONFIG=str(cfg), MONITOR_TOKEN=station["token"])
            menv.pop("MONITOR_TRACKER_URL", None)
            procs.start(f"monitor{i}", [sys.executable, "-m", "monitor.cli", "run"], menv)

        def settled() -> bool:
            with app.app_context():
                rows = dict(
                    db.session.execute(select(CameraStatus.camera_id, CameraStatus.state)).all()
                )
                snaps = db.session.scalar(
                    select(func.count(func.distinct(Snapshot.camera_id))).where(
                        Snapshot.camera_id.in_([s["cams"]["live"] for s in stations])
                    )
                )
            return snaps == 2 and all(
                rows.get(s["cams"]["live"]) is not None
                and rows[s["cams"]["live"]].value == "up"
                and rows[s["cams"]["dead"]].value == "down"
                for s in stations
            )

        wait_for(settled, 150, f"both stations' states and snapshots (logs in {tmp_path})")

        # A batch re-sent to the other web process at the same moment is stored once.
        first = stations[0]
        item_id = str(uuid.uuid4())
        batch = {
            "items": [
                {
                    "uuid": item_id,
                    "type": "check",
                    "camera_id": first["cams"]["dead"],
                    "at": datetime.now(UTC).isoformat(),
                    "verdict": "unreachable",
                    "elapsed_ms": 5,
                    "measurements": {},
                }
            ]
        }
        answers: list[int] = []

        def send(base: str) -> None:
            r = requests.post(
                f"{base}/api/v1/station/reports",
                json=batch,
                headers={"Authorization": f"Bearer {first['token']}"},
                timeout=10,
            )
            answers.append(r.status_code)

        threads = [threading.Thread(target=send, args=(b,)) for b in webs]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert answers == [200, 200], answers

        # Both web processes show the same states and serve the same snapshot files.
        sessions = [_login(base, admin) for base in webs]
        pages = [s.get(f"{b}/halls/", timeout=10) for s, b in zip(sessions, webs, strict=True)]
        assert all(p.status_code == 200 for p in pages)
        assert _states(pages[0].text) == _states(pages[1].text)
        assert sorted(_states(pages[0].text)) == ["offline", "offline", "up", "up"]
        with app.app_context():
            snap = db.session.scalars(
                select(Snapshot).where(Snapshot.station_id == stations[1]["id"])
            ).first()
            assert snap is not None
            sha = snap.sha256
            snap_id = snap.id
        # Station 2 uploaded through web 2, into the configured (shared) directory ...
        assert (uploads / "snapshots" / sha[:2] / f"{sha}.jpg").is_file()
        # ... and web 1 serves it from there.
        img = sessions[0].get(f"{webs[0]}/halls/snapshots/{snap_id}.jpg", timeout=10)
        assert img.status_code == 200 and hashlib.sha256(img.content).hexdigest() == sha
    finally:
        codes = procs.stop()
        sim.stop()
    assert codes["monitor1"] == 0 and codes["monitor2"] == 0, codes

    with app.app_context():
        assert db.session.scalar(select(func.count()).where(CameraCheck.uuid == item_id)) == 1
        for model in (CameraCheck, CameraStateChange, StationHeartbeat, Snapshot):
            twice = db.session.execute(
                select(model.uuid).group_by(model.uuid).having(func.count() > 1)
            ).all()
            assert twice == [], (model.__name__, twice)
        beats = dict(
            db.session.execute(
                select(StationHeartbeat.station_id, func.count()).group_by(
                    StationHeartbeat.station_id
                )
            ).all()
        )
        assert all(beats.get(s["id"], 0) >= 2 for s in stations), beats


def _up(base: str) -> bool:
    try:
        return requests.get(f"{base}/healthz", timeout=2).status_code == 200
    except requests.RequestException:
        return False
