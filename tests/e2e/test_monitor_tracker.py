"""End to end: the real ``monitor run`` against the real tracker (live server) and the simulator.

Proves the contract both ways: the monitor fetches its cameras (with the
decrypted stream URL) from ``/api/v1/station/cameras``, probes the simulator,
and its outbox delivers checks, confirmed states, heartbeats and snapshots that
the tracker stores, verifies and turns into camera states — with credentials in
no log.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from monitor.simulator import SimulatorServer, refusing_url

pytestmark = pytest.mark.e2e


def wait_for(cond: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def sim() -> Iterator[SimulatorServer]:
    server = SimulatorServer(fps=10).start(lifetime_s=240)
    yield server
    server.stop()


@pytest.fixture
def station_setup(e2e_app: Any, e2e_world: Any, sim: SimulatorServer) -> dict[str, Any]:
    from tracker.extensions import db
    from tracker.halls import services
    from tracker.models import Region

    with e2e_app.app_context():
        village = db.session.get(Region, e2e_world["villages"]["a2a"])
        county = db.session.get(Region, village.ancestor_ids[1])
        station, token = services.create_station("端到端机房", county)
        hall = services.create_hall(village, services.HallData(name="端到端便民服务中心"))
        thresholds = {"down_after": 2, "up_after": 2}
        specs = {
            "live": sim.url("auth", credentials=True),
            "dead": refusing_url(),
            "black": sim.url("black"),
        }
        ids = {}
        for name, url in specs.items():
            cam = services.create_camera(
                hall,
                services.CameraData(
                    name=name,
                    stream_url=url,
                    station_id=station.id,
                    check_interval_s=10,
                    thresholds=thresholds,
                ),
            )
            ids[name] = cam.id
        db.session.commit()
        return {"token": token, "station_id": station.id, "cams": ids}


def test_monitor_delivers_states_heartbeats_and_snapshots_to_the_tracker(
    e2e_app: Any, live_server: str, station_setup: dict[str, Any], tmp_path: Path
) -> None:
    from tracker.extensions import db
    from tracker.halls import services
    from tracker.halls.models import CameraCheck, CameraStatus, Snapshot, StationHeartbeat

    cfg = tmp_path / "config.toml"
    cfg.write_text(
        f"""
[monitor]
tracker_url = "{live_server}"
state_dir = "{tmp_path / "state"}"
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
    env = dict(os.environ, MONITOR_CONFIG=str(cfg), MONITOR_TOKEN=station_setup["token"])
    env.pop("MONITOR_TRACKER_URL", None)
    log_path = tmp_path / "monitor.log"
    with log_path.open("ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "monitor.cli", "run"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            cams = station_setup["cams"]

            def states() -> dict[int, tuple[str, str | None]]:
                with e2e_app.app_context():
                    rows = db.session.scalars(
                        select(CameraStatus).where(CameraStatus.camera_id.in_(list(cams.values())))
                    ).all()
                    return {r.camera_id: (r.state.value, r.cause) for r in rows}

            def settled() -> bool:
                s = states()
                return (
                    s.get(cams["live"], ("",))[0] == "up"
                    and s.get(cams["dead"]) == ("down", "unreachable")
                    and s.get(cams["black"]) == ("down", "black")
                )

            wait_for(
                settled, 120, f"confirmed states in the tracker (now {states()}, log: {log_path})"
            )

            def snapshots_in() -> bool:
                with e2e_app.app_context():
                    return bool(
                        db.session.scalar(
                            select(func.count(Snapshot.id)).where(
                                Snapshot.camera_id == cams["live"]
                            )
                        )
                    )

            wait_for(snapshots_in, 60, "an evidence snapshot of the live camera")
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                code = proc.wait(30)
            finally:
                if proc.poll() is None:
                    proc.kill()
    assert code == 0

    with e2e_app.app_context():
        beats = db.session.scalar(
            select(func.count(StationHeartbeat.id)).where(
                StationHeartbeat.station_id == station_setup["station_id"]
            )
        )
        assert beats and beats >= 2
        checks = db.session.scalar(
            select(func.count(CameraCheck.id)).where(CameraCheck.camera_id == cams["live"])
        )
        assert checks and checks >= 2
        snap = db.session.scalars(
            select(Snapshot).where(Snapshot.camera_id == cams["live"])
        ).first()
        assert snap is not None
        data = services.snapshot_path(snap.sha256).read_bytes()
        assert data[:3] == b"\xff\xd8\xff" and hashlib.sha256(data).hexdigest() == snap.sha256
        # The live camera's intervals over the last minutes say "up", watched by heartbeats.
        from tracker.halls.models import Camera
        from tracker.models import utcnow

        cam = db.session.get(Camera, cams["live"])
        assert cam is not None
        ivs = services.camera_intervals(
            cam, utcnow() - __import__("datetime").timedelta(minutes=10), utcnow()
        )
        assert any(iv.state == "up" for iv in ivs)
    log_text = log_path.read_text(encoding="utf-8", errors="replace")
    assert "demo:demo@" not in log_text and station_setup["token"] not in log_text
