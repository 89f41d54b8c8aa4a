"""Fixtures of the monitor tests: local stream servers that stop by themselves, a probe pool.

Every server binds 127.0.0.1 only, has a lifetime after which it stops on its
own, and is stopped/killed at teardown — a failing test cannot leave one behind.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from monitor.probe import ProbePool, ProbeRequest, ProbeResult
from monitor.simulator import SimulatorServer

HERE = Path(__file__).parent
DEBIAN_PYTHON = "/usr/bin/python3"


def probe_all(pool: ProbePool, requests: dict[str, ProbeRequest]) -> dict[str, ProbeResult]:
    """Run several probes at once through the pool (as the daemon does)."""
    with ThreadPoolExecutor(max_workers=max(1, pool.size)) as ex:
        futures = {name: ex.submit(pool.probe, req) for name, req in requests.items()}
        return {name: f.result() for name, f in futures.items()}


@pytest.fixture(scope="session")
def pool() -> Iterator[ProbePool]:
    """Two probe worker processes shared by the stream tests."""
    p = ProbePool(2)
    yield p
    p.close()


@pytest.fixture(scope="module")
def sim() -> Iterator[SimulatorServer]:
    """The MJPEG camera simulator (stops by itself after 4 minutes)."""
    server = SimulatorServer(fps=10).start(lifetime_s=240)
    yield server
    server.stop()


@dataclass
class RtspServer:
    """The GStreamer RTSP server process and its ports (see tests/monitor/rtsp_server.py)."""

    port: int
    auth_port: int
    ports: dict[str, int]

    def url(self, path: str, server: str = "main", userinfo: str = "") -> str:
        """A mount of one of the servers, with ``user:password@`` written as given."""
        at = f"{userinfo}@" if userinfo else ""
        return f"rtsp://{at}127.0.0.1:{self.ports[server]}/{path}"


def _gst_available() -> bool:
    if not os.path.exists(DEBIAN_PYTHON):
        return False
    probe = subprocess.run(
        [DEBIAN_PYTHON, "-c", "import gi; gi.require_version('GstRtspServer', '1.0')"],
        capture_output=True,
        timeout=20,
    )
    return probe.returncode == 0


def start_rtsp_server(lifetime_s: float = 180) -> tuple[subprocess.Popen[str], RtspServer]:
    """Start tests/monitor/rtsp_server.py under Debian's python3; skip if GStreamer is missing."""
    if not _gst_available():
        pytest.skip("GStreamer RTSP server bindings not installed (make test installs them)")
    proc = subprocess.Popen(
        [
            DEBIAN_PYTHON,
            str(HERE / "rtsp_server.py"),
            "--lifetime",
            str(lifetime_s),
            "--stall-after",
            "1.5",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    line = _readline_with_timeout(proc, 20)
    if not line.startswith("READY"):
        proc.kill()
        pytest.fail(f"RTSP server did not start: {line!r}")
    _, port, auth_port, ports = line.split(maxsplit=3)
    return proc, RtspServer(int(port), int(auth_port), json.loads(ports))


@pytest.fixture(scope="module")
def rtsp() -> Iterator[RtspServer]:
    """tests/monitor/rtsp_server.py under Debian's python3 (which has the GStreamer bindings)."""
    proc, server = start_rtsp_server()
    try:
        yield server
    finally:
        stop_process(proc)


def _readline_with_timeout(proc: subprocess.Popen[str], timeout_s: float) -> str:
    result: list[str] = []
    reader = threading.Thread(
        target=lambda: result.append(proc.stdout.readline() if proc.stdout else "")
    )
    reader.daemon = True
    reader.start()
    reader.join(timeout_s)
    return result[0].strip() if result else ""


def stop_process(proc: subprocess.Popen[str] | subprocess.Popen[bytes]) -> None:
    if proc.stdin:
        proc.stdin.close()
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@dataclass
class HlsPublisher:
    """An ffmpeg HLS publisher writing segments into a directory served over HTTP."""

    process: subprocess.Popen[bytes]
    url: str
    directory: Path

    def kill(self) -> None:
        """The publisher dies (kill -9: no end-of-list is written)."""
        self.process.kill()
        self.process.wait(5)


@pytest.fixture
def hls(tmp_path: Path) -> Iterator[HlsPublisher]:
    """ffmpeg publishing 1-second HLS segments of a test pattern, served by a local HTTP server."""
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        pytest.skip("ffmpeg not installed (make test installs it)")
    proc = subprocess.Popen(
        [ffmpeg, "-nostdin", "-loglevel", "error", "-re", "-f", "lavfi", "-i",
         "testsrc=size=320x240:rate=10", "-t", "120", "-c:v", "libx264", "-preset", "ultrafast",
         "-tune", "zerolatency", "-g", "10", "-f", "hls", "-hls_time", "1", "-hls_list_size", "5",
         "-hls_flags", "delete_segments+temp_file", str(tmp_path / "live.m3u8")],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(_QuietHandler, directory=str(tmp_path)))
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    timer = threading.Timer(150, httpd.shutdown)
    timer.daemon = True
    timer.start()
    playlist = tmp_path / "live.m3u8"
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and not (
        playlist.exists() and playlist.read_text().count("#EXTINF") >= 2
    ):
        time.sleep(0.2)
    try:
        yield HlsPublisher(proc, f"http://127.0.0.1:{httpd.server_address[1]}/live.m3u8", tmp_path)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)
        timer.cancel()
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture
def monitor_cmd() -> list[str]:
    """How to start the ``monitor`` console script of this venv."""
    return [sys.executable, "-m", "monitor.cli"]


@dataclass
class FlvServer:
    """tests/monitor/flv_server.py: HTTP-FLV mounts served by GStreamer."""

    port: int

    def url(self, mount: str) -> str:
        return f"http://127.0.0.1:{self.port}/{mount}.flv"


@pytest.fixture(scope="module")
def flv() -> Iterator[FlvServer]:
    """An HTTP-FLV live server under Debian's python3 (stops by itself after 3 minutes)."""
    if not _gst_available():
        pytest.skip("GStreamer bindings not installed (make test installs them)")
    proc = subprocess.Popen(
        [DEBIAN_PYTHON, str(HERE / "flv_server.py"), "--lifetime", "180", "--stall-after", "1.5"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    line = _readline_with_timeout(proc, 20)
    if not line.startswith("READY"):
        proc.kill()
        pytest.fail(f"FLV server did not start: {line!r}")
    try:
        yield FlvServer(int(line.split()[1]))
    finally:
        stop_process(proc)
