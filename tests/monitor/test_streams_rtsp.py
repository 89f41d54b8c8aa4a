"""Real RTSP (H.264) streams from the GStreamer RTSP server: live, frozen, black, stalled, 401."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from monitor.probe import ProbePool, ProbeRequest

from .conftest import RtspServer, probe_all, start_rtsp_server, stop_process

pytestmark = pytest.mark.streams

TIMEOUT_S = 1.0
WINDOW_S = 1.5


def req(url: str) -> ProbeRequest:
    return ProbeRequest(url, timeout_s=TIMEOUT_S, window_s=WINDOW_S)


def test_each_rtsp_kind_gets_its_verdict_within_its_bound(
    pool: ProbePool, rtsp: RtspServer
) -> None:
    expected = {
        "live": ("online", rtsp.url("live"), 4.0),
        # x264 re-encodes the still picture: codec noise of a few tenths of a grey level
        "frozen": ("frozen", rtsp.url("frozen"), 4.0),
        "black": ("black", rtsp.url("black"), 4.0),
        # the source stops after 1.5 s with the session open: noticed after 3 × the read timeout
        "stall": ("no_video", rtsp.url("stall"), WINDOW_S + 3 * TIMEOUT_S + 2),
        "no_such_path": ("no_video", rtsp.url("nothing"), 2.0),
        "auth_missing": ("auth_failed", f"rtsp://127.0.0.1:{rtsp.auth_port}/live", 2.0),
        "auth_wrong": ("auth_failed", f"rtsp://user:wrong@127.0.0.1:{rtsp.auth_port}/live", 2.0),
        "auth_ok": ("online", f"rtsp://user:secret@127.0.0.1:{rtsp.auth_port}/live", 4.0),
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


def test_rtsp_open_and_first_frame_are_fast_with_short_probing(
    pool: ProbePool, rtsp: RtspServer
) -> None:
    r = pool.probe(ProbeRequest(rtsp.url("live"), timeout_s=TIMEOUT_S, window_s=0))
    assert r.verdict == "online"
    # default FFmpeg probing costs ~2 s; analyzeduration;0|probesize;32 brings it well under 1 s
    assert r.measurements["first_frame_ms"] < 1000


def test_rtsp_over_udp_is_a_per_camera_choice(pool: ProbePool, rtsp: RtspServer) -> None:
    r = pool.probe(
        ProbeRequest(rtsp.url("live"), timeout_s=2.0, window_s=0.5, rtsp_transport="udp")
    )
    assert r.verdict == "online"


def test_a_server_killed_mid_stream_is_no_video_within_the_bound(pool: ProbePool) -> None:
    proc, server = start_rtsp_server(lifetime_s=30)
    try:
        with ThreadPoolExecutor(max_workers=1) as ex:
            future = ex.submit(
                pool.probe, ProbeRequest(server.url("live"), timeout_s=TIMEOUT_S, window_s=3.0)
            )
            time.sleep(1.5)  # the probe is inside its frame window
            proc.kill()
            r = future.result(timeout=30)
    finally:
        stop_process(proc)
    assert r.verdict == "no_video", (r.error, r.measurements)
    assert r.measurements.get("stalled") is True
    assert r.elapsed_ms < (3.0 + 3 * TIMEOUT_S + 2) * 1000
