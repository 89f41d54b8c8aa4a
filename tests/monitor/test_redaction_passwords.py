"""Passwords as camera web pages print them never leave the monitor: a list of nasty
passwords through redaction, log lines, error texts, ``monitor check`` and ``monitor status``."""

from __future__ import annotations

import json
import logging
import subprocess
from pathlib import Path

import pytest

from monitor.outbox import Outbox
from monitor.probe import ProbePool, ProbeRequest
from monitor.redact import RedactingFilter, StreamUrlError, canonical_url, parse_stream_url, redact
from monitor.scheduler import OUTBOX_FILE, check_item
from monitor.simulator import refusing_url

from .conftest import HlsPublisher

NASTY = [
    "p@ss",  # a raw @ (common)
    "ab/cd",  # a raw / (leaked the whole password)
    "x#y#z",  # a raw # (gave no_video instead of a usage error)
    "50%off",  # a % that is not an escape
    "p%40ss",  # an escaped @, as some people write it
    "a:b@c/d#e%f",  # all of them
    "@@//##%%",
    "Hik12345@",
    "pwd?x=1&y",
]


def fragments(password: str) -> list[str]:
    """Pieces of a password that must not appear either (≥ 3 characters)."""
    return [password[i : i + 3] for i in range(len(password) - 2)]


def leaks(text: str, password: str) -> list[str]:
    return [f for f in fragments(password) if f in text]


@pytest.mark.parametrize("password", NASTY)
def test_a_raw_password_is_read_as_the_camera_means_it(password: str) -> None:
    url = f"rtsp://admin:{password}@10.0.0.8:554/Streaming/Channels/101"
    parsed = parse_stream_url(url)
    expected = password.replace("%40", "@")
    assert (parsed.username, parsed.password, parsed.hostport) == (
        "admin",
        expected,
        "10.0.0.8:554",
    )
    assert parsed.rest == "/Streaming/Channels/101"
    # FFmpeg gets it percent-encoded, and reads it back the same
    assert parse_stream_url(canonical_url(url)).password == expected


@pytest.mark.parametrize("password", NASTY)
@pytest.mark.parametrize(
    "template",
    [
        "rtsp://admin:{pw}@10.0.0.8:554/ch1",
        "opening http://user:{pw}@cam.local/video.mjpg failed: 401",
        "playlist http://user:{pw}@127.0.0.1/live.m3u8 (no port)",
        "rtsp://admin:{pw}@[fe80::1]:554/ch1 and rtsp://a:{pw}@h/x",
    ],
)
def test_redaction_masks_any_userinfo(password: str, template: str) -> None:
    out = redact(template.format(pw=password))
    assert not leaks(out, password), out
    assert "***@" in out


@pytest.mark.parametrize("password", NASTY)
def test_log_lines_and_tracebacks_are_redacted(
    password: str, caplog: pytest.LogCaptureFixture
) -> None:
    logger = logging.getLogger("monitor.test")
    caplog.handler.addFilter(RedactingFilter())
    url = f"rtsp://admin:{password}@10.1.1.1/ch1"
    with caplog.at_level(logging.INFO):
        logger.info("probing %s", url)
        try:
            raise RuntimeError(f"failed {url}")
        except RuntimeError:
            logger.exception("boom")
    assert not leaks(caplog.text, password), caplog.text


def test_a_hash_in_the_path_is_a_usage_error_that_says_how_to_write_it(
    monitor_cmd: list[str],
) -> None:
    with pytest.raises(StreamUrlError, match="%23"):
        parse_stream_url("rtsp://admin:pw@10.0.0.8/ch1#2")
    cp = subprocess.run(
        [*monitor_cmd, "check", "rtsp://admin:secret1@10.0.0.8/ch1#x"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert cp.returncode == 2
    assert "%23" in cp.stderr and "secret1" not in cp.stderr + cp.stdout


def test_monitor_check_never_prints_the_password(monitor_cmd: list[str]) -> None:
    password = "a:b@c/d#e%f"
    dead = refusing_url().replace("http://", f"rtsp://admin:{password}@")
    for extra in ([], ["--json"]):
        cp = subprocess.run(
            [*monitor_cmd, "check", *extra, "--timeout", "1", dead],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert cp.returncode == 1, cp.stderr
        assert "unreachable" in cp.stdout
        assert not leaks(cp.stdout + cp.stderr, password), cp.stdout


def test_check_items_and_errors_never_carry_the_password(pool: ProbePool) -> None:
    password = "p@ss/w#rd%1"
    dead = refusing_url().replace("http://", f"rtsp://admin:{password}@") + "/ch1"
    r = pool.probe(ProbeRequest(dead, timeout_s=1.0, window_s=0))
    assert r.verdict == "unreachable"
    item = json.dumps(check_item(1, r))
    assert not leaks(item, password), item


@pytest.mark.streams
def test_hls_with_userinfo_is_probed_without_leaking(pool: ProbePool, hls: HlsPublisher) -> None:
    password = "p@ss/w#rd"
    url = hls.url.replace("http://", f"http://viewer:{password}@")
    r = pool.probe(ProbeRequest(url, timeout_s=2.0, window_s=0.5))
    assert r.verdict == "online", (r.error, r.measurements)
    assert not leaks(json.dumps(check_item(1, r)), password)


def test_monitor_status_masks_every_password(tmp_path: Path, monitor_cmd: list[str]) -> None:
    state = tmp_path / "state"
    state.mkdir()
    box = Outbox(state / OUTBOX_FILE)
    cams = [
        {"id": i, "name": f"cam {i}", "stream_url": f"rtsp://admin:{pw}@10.0.0.{i}:554/ch1"}
        for i, pw in enumerate(NASTY, start=1)
    ]
    box.set("cameras", {"cameras": cams})
    box.close()
    config = tmp_path / "config.toml"
    config.write_text(f'[monitor]\nstate_dir = "{state}"\n', encoding="utf-8")
    for extra in ([], ["--json"]):
        cp = subprocess.run(
            [*monitor_cmd, "--config", str(config), "status", *extra],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert cp.returncode == 0, cp.stderr
        for pw in NASTY:
            assert not leaks(cp.stdout, pw), (pw, cp.stdout)
        assert cp.stdout.count("***@") == len(NASTY)
