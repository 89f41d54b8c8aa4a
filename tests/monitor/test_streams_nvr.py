"""An NVR that allows 2 sessions with several cameras behind it (GStreamer RTSP server with
``max-sessions=2``): busy is never a verdict, the host's limit is learned, checks of one
host are spread over the interval."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from monitor.analysis import Thresholds
from monitor.cameras import Camera
from monitor.config import from_mapping
from monitor.probe import ProbePool, ProbeRequest
from monitor.scheduler import Daemon, HostLimiter, spread_offsets

from .conftest import RtspServer, probe_all

pytestmark = pytest.mark.streams


def test_a_third_session_is_busy_not_a_verdict(rtsp: RtspServer) -> None:
    with ProbePool(3) as three:
        results = probe_all(
            three, {f"cam{i}": ProbeRequest(rtsp.url("live", "busy"), timeout_s=2.0, window_s=1.0)
                    for i in range(3)},
        )  # fmt: skip
    verdicts = sorted(str(r.verdict) for r in results.values())
    assert verdicts == ["None", "online", "online"], [
        (r.verdict, r.error) for r in results.values()
    ]
    busy = next(r for r in results.values() if r.verdict is None)
    assert busy.measurements["busy"] is True
    assert "SETUP: 503" in (busy.error or "")  # the NVR's own words


@pytest.fixture
def nvr_daemon(tmp_path: Path, rtsp: RtspServer) -> Iterator[Daemon]:
    cfg = from_mapping(
        {"state_dir": str(tmp_path / "state"), "tracker_url": "http://127.0.0.1:9",
         "snapshot_width": 0, "max_window_s": 1.0, "probe_timeout_s": 4.0},
        env={},
    )  # fmt: skip
    d = Daemon(cfg)
    d.cameras = {
        i: Camera(id=i, name=f"通道{i}", stream_url=rtsp.url("live", "busy"),
                  thresholds=Thresholds(down_after=1, up_after=1))
        for i in range(1, 5)
    }  # fmt: skip
    d.pool = ProbePool(4)
    yield d
    d.pool.close()
    d.outbox.close()


def test_an_nvr_with_two_sessions_is_never_reported_down(nvr_daemon: Daemon) -> None:
    d = nvr_daemon
    host = "127.0.0.1"
    assert d.hosts.limit(host) == 4  # the default lets four probes at the NVR at once
    with ThreadPoolExecutor(4) as ex:
        list(ex.map(d.check_camera, d.cameras))
    assert d.hosts.limit(host) < 4  # learned from the 503s
    assert d.outbox.get(f"hostlimit:{host}") == d.hosts.limit(host)
    retries = [j.id for j in d.scheduler.get_jobs() if j.id.startswith("retry-")]
    assert retries, "a busy camera is checked again soon"

    def checked() -> set[int]:
        items = [i.payload for i in d.outbox.peek("report", 100)]
        return {i["camera_id"] for i in items if i["type"] == "check"}

    # the retries keep to the learned limit: every camera gets its verdict
    for _ in range(3):
        if checked() == set(d.cameras):
            break
        with ThreadPoolExecutor(4) as ex:
            list(ex.map(d.check_camera, sorted(set(d.cameras) - checked())))
    assert 1 <= d.hosts.limit(host) <= 2
    checks = [i.payload for i in d.outbox.peek("report", 100) if i.payload["type"] == "check"]
    assert {c["verdict"] for c in checks} == {"online"}  # busy is never a verdict
    assert {c["camera_id"] for c in checks} == set(d.cameras)
    assert all(st.state != "down" for st in d.states.values())


def test_a_configured_host_limit_is_kept() -> None:
    limiter = HostLimiter(4, {"10.0.0.5": 2})
    assert limiter.limit("10.0.0.5") == 2 and limiter.limit("10.0.0.6") == 4
    limiter.active["10.0.0.5"] = 2
    assert limiter.busy("10.0.0.5") == 2  # configured wins over learning


def test_checks_of_one_host_are_spread_over_the_interval() -> None:
    cams = [Camera(id=i, name="", stream_url=f"rtsp://10.0.0.5/ch{i}", check_interval_s=60)
            for i in range(8)]  # fmt: skip
    cams += [
        Camera(id=100 + i, name="", stream_url=f"rtsp://10.0.0.{20 + i}/ch1") for i in range(4)
    ]
    offsets = spread_offsets(cams)
    nvr = sorted(offsets[c.id] for c in cams[:8])
    gaps = [b - a for a, b in zip(nvr, nvr[1:], strict=False)]
    assert all(gap == pytest.approx(7.5) for gap in gaps)
    assert all(0 <= o < 60 for o in offsets.values())
