"""What real cameras and NVRs do, on the GStreamer RTSP server: audio tracks, long GOPs,
digest, transports, still halls, passwords as camera web pages print them.

Each test fails on a probe that opens every track, bounds the first key frame by
the read timeout, sends only Basic credentials, hides the camera's answer, decodes
every frame or reads a raw ``@`` as the end of the userinfo.
"""

from __future__ import annotations

import json
import subprocess
import time

import pytest

from monitor.probe import ProbePool, ProbeRequest

from .conftest import RtspServer, probe_all

pytestmark = pytest.mark.streams

NASTY = "p@ss/w#rd%1:x"  # the admin password of tests/monitor/rtsp_server.py


def req(url: str, **kw: object) -> ProbeRequest:
    kw.setdefault("timeout_s", 2.0)
    kw.setdefault("window_s", 1.5)
    return ProbeRequest(url, **kw)  # type: ignore[arg-type]


def test_a_camera_with_its_microphone_on_is_online(pool: ProbePool, rtsp: RtspServer) -> None:
    results = probe_all(
        pool, {"g711 first": req(rtsp.url("audio_g711")), "aac": req(rtsp.url("audio_aac"))}
    )
    for name, r in results.items():
        assert r.verdict == "online", (name, r.error, r.measurements)


def test_a_long_gop_joined_mid_gop_waits_for_its_key_frame(
    pool: ProbePool, rtsp: RtspServer
) -> None:
    # the client joins half a second into a 4 s / 10 s GOP: the first key frame comes
    # 3.5 s / 9.5 s later, well past the 2 s connection timeout
    results = probe_all(
        pool,
        {"gop4": req(rtsp.url("gop4"), window_s=0), "gop10": req(rtsp.url("gop10"), window_s=0)},
    )
    for name, low in (("gop4", 3000), ("gop10", 9000)):
        r = results[name]
        assert r.verdict == "online", (name, r.error, r.measurements)
        assert r.measurements["first_frame_ms"] > low


def test_the_gop_is_measured_and_a_known_gop_sizes_the_bound(
    pool: ProbePool, rtsp: RtspServer
) -> None:
    r = pool.probe(req(rtsp.url("gop4"), window_s=1.0))
    assert r.verdict == "online", (r.error, r.measurements)
    assert r.measurements["gop_s"] == pytest.approx(4.0, abs=0.3)
    known = ProbeRequest(rtsp.url("gop4"), timeout_s=2.0, gop_s=4.0)
    assert known.keyframe_bound_s == pytest.approx(8.0)
    short = ProbeRequest(rtsp.url("live"), timeout_s=2.0, gop_s=1.0)
    assert short.keyframe_bound_s < 4  # a 1 s GOP camera that stalls is noticed quickly


def test_digest_credentials_open_and_a_wrong_password_is_auth_failed(
    pool: ProbePool, rtsp: RtspServer
) -> None:
    results = probe_all(
        pool,
        {
            "ok": req(rtsp.url("live", "digest", "user:secret")),
            "nasty ok": req(rtsp.url("live", "digest", f"admin:{NASTY}")),
            "wrong": req(rtsp.url("live", "digest", "user:wrong")),
            # open fails for another reason: the diagnosis must log in with digest
            # and then report the real answer, not a Basic 401
            "wrong path": req(rtsp.url("nothing", "digest", "user:secret")),
        },
    )
    assert results["ok"].verdict == "online", results["ok"].error
    assert results["nasty ok"].verdict == "online", results["nasty ok"].error
    assert results["wrong"].verdict == "auth_failed"
    assert "401" in (results["wrong"].error or "")
    assert results["wrong path"].verdict == "no_video"
    assert "404" in (results["wrong path"].error or "")


def test_basic_credentials_with_a_raw_password_as_cameras_print_it(
    pool: ProbePool, rtsp: RtspServer
) -> None:
    r = pool.probe(req(rtsp.url("live", "auth", f"admin:{NASTY}")))
    assert r.verdict == "online", (r.error, r.measurements)


@pytest.mark.parametrize(
    ("server", "configured", "works"), [("tcp", "udp", "tcp"), ("udp", "tcp", "udp")]
)
def test_the_other_transport_is_tried_once_and_the_answer_shown(
    pool: ProbePool, rtsp: RtspServer, server: str, configured: str, works: str
) -> None:
    r = pool.probe(req(rtsp.url("live", server), rtsp_transport=configured, window_s=0))
    assert r.verdict == "online", (r.error, r.measurements)
    assert r.measurements["transport"] == works
    assert "461" in r.measurements["transport_fallback"]
    refused = pool.probe(
        req(
            rtsp.url("live", server),
            rtsp_transport=configured,
            window_s=0,
            transport_fallback=False,
        )
    )
    assert refused.verdict == "no_video"
    assert "SETUP: 461" in (refused.error or "")


def test_a_quiet_hall_is_live_and_frozen_encoders_are_frozen_with_a_wide_margin(
    pool: ProbePool, rtsp: RtspServer
) -> None:
    results = probe_all(
        pool,
        {
            "quiet": req(rtsp.url("quiet"), window_s=2.0),
            "frozen h264": req(rtsp.url("frozen"), window_s=2.0),
            "frozen h265": req(rtsp.url("h265_frozen"), window_s=2.0),
        },
    )
    quiet = results["quiet"]
    assert quiet.verdict == "online", (quiet.error, quiet.measurements)
    threshold = quiet.measurements["frozen_threshold"]
    assert quiet.measurements["motion"] > 3 * threshold
    for name in ("frozen h264", "frozen h265"):
        r = results[name]
        assert r.verdict == "frozen", (name, r.error, r.measurements)
        assert r.measurements["motion"] * 3 <= r.measurements["frozen_threshold"]


def test_a_check_decodes_key_frames_only(pool: ProbePool, rtsp: RtspServer) -> None:
    # 1.5 s of a 10 fps stream with a 1 s GOP: two or three pictures decoded, not 15
    r = pool.probe(req(rtsp.url("live"), window_s=1.5))
    assert r.verdict == "online"
    assert r.measurements["frames_read"] <= 3


def test_monitor_check_json_reports_measure_and_threshold_and_masks_the_password(
    rtsp: RtspServer, monitor_cmd: list[str]
) -> None:
    url = rtsp.url("live", "digest", f"admin:{NASTY}")
    cp = subprocess.run(
        [*monitor_cmd, "check", "--json", "--timeout", "2", "--window", "1", url],
        capture_output=True,
        text=True,
        timeout=60,
    )
    out = json.loads(cp.stdout)
    assert cp.returncode == 0, out
    assert out["measurements"]["motion"] > out["measurements"]["frozen_threshold"] > 0
    for part in (NASTY, "p@ss", "w#rd", "rd%1", "%1:x"):
        assert part not in cp.stdout + cp.stderr


def test_with_the_previous_checks_picture_one_key_frame_decides(
    pool: ProbePool, rtsp: RtspServer
) -> None:
    first = probe_all(
        pool,
        {
            "osd": req(rtsp.url("osd"), window_s=0),
            "frozen": req(rtsp.url("frozen"), window_s=0),
        },
    )
    time.sleep(2.0)  # the next check: a minute later in a station, two clock ticks here
    results = probe_all(
        pool,
        {
            name: req(rtsp.url(name), window_s=2.0, gop_s=1.0, previous=first[name].thumb)
            for name in ("osd", "frozen")
        },
    )
    # a still hall whose on-screen clock ticks (the server restarts /live's ball and
    # /quiet's noise identically for every client, a camera does not)
    for name, verdict in (("osd", "online"), ("frozen", "frozen")):
        r = results[name]
        assert r.verdict == verdict, (name, r.error, r.measurements)
        assert r.measurements["frames_read"] == 1  # one key frame decoded, not a window of them
        assert r.measurements["compared_with"] == "previous_check"
