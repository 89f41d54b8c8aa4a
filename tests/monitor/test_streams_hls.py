"""Real HLS from an ffmpeg publisher: live, and a publisher that died (stale playlist)."""

from __future__ import annotations

import time

import pytest

from monitor.probe import ProbePool, ProbeRequest

from .conftest import HlsPublisher

pytestmark = pytest.mark.streams


def test_live_hls_is_online(pool: ProbePool, hls: HlsPublisher) -> None:
    r = pool.probe(ProbeRequest(hls.url, timeout_s=2.0, window_s=1.0))
    assert r.verdict == "online", (r.error, r.measurements)
    assert r.measurements["playlist_age_s"] < 3


def test_hls_whose_publisher_died_is_no_video(pool: ProbePool, hls: HlsPublisher) -> None:
    hls.kill()
    # buffered segments still decode for a while; the playlist stops changing at once
    time.sleep(4.2)
    r = pool.probe(ProbeRequest(hls.url, timeout_s=2.0, window_s=1.0))
    assert r.verdict == "no_video", (r.error, r.measurements)
    assert "stale" in (r.error or "")
    assert r.elapsed_ms < 1000
