"""Real HTTP MJPEG streams from the simulator: every kind gets its verdict within its bound."""

from __future__ import annotations

import pytest

from monitor.probe import ProbePool, ProbeRequest
from monitor.simulator import SimulatorServer, refusing_url

from .conftest import probe_all

pytestmark = pytest.mark.streams

TIMEOUT_S = 1.0
WINDOW_S = 1.0


def req(url: str, **kw: object) -> ProbeRequest:
    return ProbeRequest(url, timeout_s=TIMEOUT_S, window_s=WINDOW_S, **kw)  # type: ignore[arg-type]


def test_each_mjpeg_kind_gets_its_verdict_within_its_bound(
    pool: ProbePool, sim: SimulatorServer
) -> None:
    expected = {
        "live": ("online", sim.url("live"), 3.0),
        "quiet": ("online", sim.url("quiet"), 3.0),
        "frozen": ("frozen", sim.url("frozen"), 3.0),
        "black": ("black", sim.url("black"), 3.0),
        "blurred": ("blurred", sim.url("blurred"), 3.0),
        "auth_ok": ("online", sim.url("auth", credentials=True), 3.0),
        "auth_missing": ("auth_failed", sim.url("auth"), 1.0),
        "auth_wrong": ("auth_failed", f"http://demo:wrong@127.0.0.1:{sim.port}/auth", 1.0),
        "garbage": ("no_video", sim.url("garbage"), 3 * TIMEOUT_S + 1),
        "hang": ("unreachable", sim.url("hang"), 2 * TIMEOUT_S + 1),
        "stall": ("no_video", sim.url("stall"), WINDOW_S + 3 * TIMEOUT_S + 1),
        "refused": ("unreachable", refusing_url(), 0.5),
        "not_found": ("no_video", f"http://127.0.0.1:{sim.port}/nothing-here", 1.0),
    }
    results = probe_all(pool, {name: req(url) for name, (_, url, _) in expected.items()})
    problems = []
    for name, (verdict, _, bound_s) in expected.items():
        r = results[name]
        if r.verdict != verdict or r.elapsed_ms > bound_s * 1000:
            problems.append(
                f"{name}: {r.verdict} in {r.elapsed_ms} ms ({r.error}) {r.measurements}"
            )
    assert not problems, "\n".join(problems)


def test_online_result_carries_the_measurements_behind_it(
    pool: ProbePool, sim: SimulatorServer
) -> None:
    r = pool.probe(req(sim.url("live")))
    m = r.measurements
    assert r.verdict == "online"
    for key in (
        "open_ms",
        "first_frame_ms",
        "frames",
        "brightness",
        "contrast",
        "sharpness",
        "motion",
    ):
        assert key in m, key
    assert m["frames"] >= 3 and m["pts_advancing"] is True
    assert m["motion"] > 0.5


def test_snapshot_is_a_small_jpeg(pool: ProbePool, sim: SimulatorServer) -> None:
    r = pool.probe(req(sim.url("live"), snapshot_width=160))
    assert r.snapshot is not None and r.snapshot[:3] == b"\xff\xd8\xff"
    assert len(r.snapshot) < 64 * 1024


def test_error_messages_never_carry_the_credentials(pool: ProbePool, sim: SimulatorServer) -> None:
    r = pool.probe(req(f"http://demo:s3cr3t-pw@127.0.0.1:{sim.port}/auth"))
    assert r.verdict == "auth_failed"
    assert "s3cr3t-pw" not in repr(r)


def test_a_worker_past_its_hard_bound_is_killed_and_replaced(sim: SimulatorServer) -> None:
    with ProbePool(1) as own:
        # the FFmpeg timeout (5 s) would let it wait; the hard bound (1 s) does not
        r = own.probe(ProbeRequest(sim.url("hang"), timeout_s=5.0, window_s=0, max_s=1.0))
        assert r.verdict == "unreachable"
        assert r.measurements.get("probe_killed") is True
        assert r.elapsed_ms < 2500
        assert own.replaced == 1 and own.size == 1
        after = own.probe(ProbeRequest(sim.url("live"), timeout_s=TIMEOUT_S, window_s=0.5))
        assert after.verdict == "online"


def test_a_worker_killed_while_idle_is_replaced_without_losing_the_check(
    sim: SimulatorServer,
) -> None:
    import os
    import signal

    with ProbePool(1) as own:
        assert (
            own.probe(ProbeRequest(sim.url("live"), timeout_s=TIMEOUT_S, window_s=0)).verdict
            == "online"
        )
        (worker,) = list(own._all)
        assert worker.process.pid is not None
        os.kill(worker.process.pid, signal.SIGKILL)  # e.g. the OOM killer
        worker.process.join(5)
        r = own.probe(ProbeRequest(sim.url("live"), timeout_s=TIMEOUT_S, window_s=0))
        assert r.verdict == "online" and own.replaced == 1 and own.size == 1
