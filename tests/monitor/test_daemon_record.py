"""What the daemon queues for a probe result: check item, state item, snapshot — atomically."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from monitor.analysis import Thresholds
from monitor.cameras import Camera
from monitor.config import from_mapping
from monitor.probe import ProbeRequest, ProbeResult
from monitor.scheduler import Daemon

T0 = datetime(2026, 11, 26, 1, 0, tzinfo=UTC)
CAM = Camera(
    id=7,
    name="大厅",
    stream_url="rtsp://admin:Pw-123456@10.0.0.8/ch1",
    thresholds=Thresholds(down_after=2, up_after=1),
    snapshot_every_min=0,
)


@pytest.fixture
def daemon(tmp_path: Path) -> Iterator[Daemon]:
    cfg = from_mapping(
        {"state_dir": str(tmp_path / "state"), "tracker_url": "http://127.0.0.1:9"}, env={}
    )
    d = Daemon(cfg)
    d.cameras = {CAM.id: CAM}
    yield d
    d.outbox.close()


def result(verdict: str, minute: int, **kw: object) -> ProbeResult:
    return ProbeResult(
        verdict=verdict,
        elapsed_ms=250,
        measurements={"open_ms": 100, "motion": kw.pop("motion", 2.0), "error_note": None},
        error=kw.pop("error", None),  # type: ignore[arg-type]
        started_at=T0 + timedelta(minutes=minute),
        **kw,  # type: ignore[arg-type]
    )


def test_a_confirming_check_queues_check_state_and_snapshot_together(daemon: Daemon) -> None:
    jpeg = b"\xff\xd8\xff\xe0jpeg"
    daemon.record(CAM, result("black", 0), None)
    assert daemon.outbox.depth() == {"report": 1, "heartbeat": 0, "snapshot": 0, "total": 1}
    change = daemon.record(CAM, result("black", 1, snapshot=jpeg), None)
    assert change is not None and (change.state, change.cause, change.at) == ("down", "black", T0)
    items = [i.payload for i in daemon.outbox.peek("report", 10)]
    assert [i["type"] for i in items] == ["check", "check", "state"]
    assert items[2]["at"] == "2026-11-26T01:00:00Z" and items[2]["cause"] == "black"
    assert "error_note" not in items[0]["measurements"]  # no nulls on the wire
    (snap,) = daemon.outbox.peek("snapshot", 5)
    assert snap.payload["reason"] == "state_change"
    assert snap.payload["sha256"] == hashlib.sha256(jpeg).hexdigest()
    assert daemon.outbox.get("state:7")["state"] == "down"


def test_a_monitor_failure_queues_nothing_and_keeps_the_streak(daemon: Daemon) -> None:
    daemon.record(CAM, result("unreachable", 0), None)
    daemon.record(CAM, ProbeResult(verdict=None, elapsed_ms=5, error="worker died"), None)
    assert daemon.outbox.depth()["report"] == 1
    assert daemon.states[7].bad_streak == 1


def test_errors_are_redacted_in_the_queued_item(daemon: Daemon) -> None:
    daemon.record(
        CAM, result("unreachable", 0, error="cannot open rtsp://admin:Pw-123456@10.0.0.8/ch1"), None
    )
    (item,) = daemon.outbox.peek("report", 1)
    assert "Pw-123456" not in str(item.payload)


def test_single_frame_checks_compare_with_the_previous_picture(daemon: Daemon) -> None:
    pic = np.full((45, 80), 120, np.uint8)
    pic[10:20, 10:20] = 30
    first = result("online", 0, motion=None, thumb=pic)
    daemon.record(CAM, first, None)
    same = result("online", 1, motion=None, thumb=pic.copy())
    daemon.record(CAM, same, None)
    assert same.verdict == "frozen"
    moved = result("online", 2, motion=None, thumb=np.roll(pic, 15, axis=1))
    daemon.record(CAM, moved, None)
    assert moved.verdict == "online"


def test_a_clock_jump_makes_every_camera_unknown(daemon: Daemon) -> None:
    daemon.record(CAM, result("online", 0), None)
    assert daemon.states[7].state == "up"
    daemon.mark_blind("clock_jump", "test")
    last = daemon.outbox.peek("report", 10)[-1].payload
    assert (last["type"], last["state"], last["cause"]) == ("state", "unknown", None)


@pytest.mark.streams
def test_checks_of_one_nvr_host_respect_its_concurrency_limit(tmp_path: Path) -> None:
    """Two cameras on one host with max_concurrent_per_host = 1 are probed one after the other."""
    import threading
    import time

    from monitor.probe import ProbePool
    from monitor.simulator import SimulatorServer

    cfg = from_mapping(
        {"state_dir": str(tmp_path / "s"), "tracker_url": "http://127.0.0.1:9", "max_concurrent_per_host": 1,
         "workers": 2, "probe_timeout_s": 1.0, "snapshot_width": 0},
        env={},
    )  # fmt: skip
    with SimulatorServer() as sim, ProbePool(2) as pool:
        sim.start(lifetime_s=60)
        d = Daemon(cfg)
        d.pool = pool
        t = Thresholds(frozen_window_s=1.0)
        d.cameras = {
            i: Camera(id=i, name=f"c{i}", stream_url=sim.url("live"), thresholds=t) for i in (1, 2)
        }
        pool.probe(ProbeRequest(sim.url("live"), window_s=0))  # workers warm
        t0 = time.monotonic()
        threads = [threading.Thread(target=d.check_camera, args=(i,)) for i in (1, 2)]
        for th in threads:
            th.start()
        for th in threads:
            th.join(30)
        elapsed = time.monotonic() - t0
        d.outbox.close()
    checks = [v for v in d.states.values() if v.last_verdict == "online"]
    assert len(checks) == 2
    assert elapsed >= 2.0  # two 1-second windows, not overlapping


def test_opening_time_snapshot_is_due_once_per_opening(daemon: Daemon) -> None:
    from zoneinfo import ZoneInfo

    from monitor.cameras import parse_camera

    cam = parse_camera(
        {"id": 8, "name": "窗口", "stream_url": "http://127.0.0.1:1/x", "snapshot_every_min": 0,
         "opening_hours": {"timezone": "Asia/Shanghai",
                           "days": [{"date": "2026-11-26", "open": [["08:30", "12:00"], ["13:30", "17:30"]]},
                                    {"date": "2026-11-28", "open": []}]}}
    )  # fmt: skip
    bj = ZoneInfo("Asia/Shanghai")
    before = datetime(2026, 11, 26, 8, 0, tzinfo=bj)
    at_open = datetime(2026, 11, 26, 8, 31, tzinfo=bj)
    assert daemon._snapshot_reason(cam, before) is None
    assert daemon._snapshot_reason(cam, at_open) == "opening"
    jpeg = b"\xff\xd8\xff\xe0open"
    r = result("online", 0, snapshot=jpeg)
    r.started_at = at_open
    daemon.record(cam, r, "opening")
    (snap,) = daemon.outbox.peek("snapshot", 5)
    assert snap.payload["reason"] == "opening"
    assert daemon._snapshot_reason(cam, at_open + timedelta(minutes=5)) is None  # taken already
    afternoon = datetime(2026, 11, 26, 13, 32, tzinfo=bj)
    assert daemon._snapshot_reason(cam, afternoon) == "opening"
    assert (
        daemon._snapshot_reason(cam, datetime(2026, 11, 26, 15, 0, tzinfo=bj)) == "opening"
    )  # missed: < 2 h
    assert (
        daemon._snapshot_reason(cam, datetime(2026, 11, 26, 19, 0, tzinfo=bj)) is None
    )  # too late
