"""Real HTTP-FLV, as NVRs and relays (SRS, nginx-http-flv) serve it: GStreamer's ``flvmux``
behind ``tcpserversink`` (tests/monitor/flv_server.py), every client joined at the newest
buffer — mid-GOP, with the AAC audio track of a camera whose microphone is on."""

from __future__ import annotations

import pytest

from monitor.probe import ProbePool, ProbeRequest

from .conftest import FlvServer, probe_all

pytestmark = pytest.mark.streams


def req(url: str, **kw: object) -> ProbeRequest:
    kw.setdefault("timeout_s", 2.0)
    kw.setdefault("window_s", 1.5)
    return ProbeRequest(url, **kw)  # type: ignore[arg-type]


def test_live_flv_with_audio_is_online(pool: ProbePool, flv: FlvServer) -> None:
    r = pool.probe(req(flv.url("live")))
    assert r.verdict == "online", (r.error, r.measurements)
    assert r.measurements["width"] == 320


def test_a_long_gop_flv_joined_mid_gop_waits_for_its_key_frame(
    pool: ProbePool, flv: FlvServer
) -> None:
    # a key frame every 4 s: joined at a random point, the first one may be up to 4 s
    # away — past the 2 s connection timeout, within the key-frame bound
    results = probe_all(pool, {f"try {n}": req(flv.url("gop4"), window_s=0) for n in range(2)})
    for name, r in results.items():
        assert r.verdict == "online", (name, r.error, r.measurements)


def test_frozen_and_black_flv_are_told_apart_from_live(pool: ProbePool, flv: FlvServer) -> None:
    results = probe_all(
        pool, {"frozen": req(flv.url("frozen"), window_s=2.0), "black": req(flv.url("black"))}
    )
    assert results["frozen"].verdict == "frozen", results["frozen"].measurements
    assert results["black"].verdict == "black", results["black"].measurements


def test_a_relay_that_holds_the_connection_after_its_publisher_died_is_no_video(
    pool: ProbePool, flv: FlvServer
) -> None:
    r = pool.probe(req(flv.url("stall"), window_s=0))
    assert r.verdict == "no_video", (r.error, r.measurements)
    # bounded by the key-frame bound, never the 30 s FFmpeg default
    assert r.elapsed_ms < 1000 * (req(flv.url("stall")).keyframe_bound_s + 6)


def test_a_missing_flv_stream_is_not_online(pool: ProbePool, flv: FlvServer) -> None:
    r = pool.probe(req(flv.url("nope")))
    assert r.verdict == "no_video", (r.error, r.measurements)
    assert "404" in (r.error or ""), r.error
