"""Monitor benchmark: probe N local streams (plus a share of dead ones) and compare with ffprobe.

Prints, for the monitor's probe pool and for ``ffprobe`` on the same streams:
checks per minute, CPU ms per check, p95 probe time — and the ratios. Also the
projected time of a cycle over 1,000 cameras (10 % dead) at the measured rate.

Streams are served by ``monitor simulate`` (HTTP MJPEG, 320×240 at 10 fps) in its
own process; dead cameras are half refusing ports, half "black holes" (a listener
whose backlog is full, so connects time out — what a powered-off camera behind a
switch looks like). The simulator shares the machine's CPU with the probes, so the
numbers are conservative.

Usage::

    .venv/bin/python bench/monitor_bench.py --cameras 50 200 1000 --workers 8
    .venv/bin/python bench/monitor_bench.py --cameras 200 --window 2 --workers 32
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import resource
import socket
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from monitor.probe import ProbePool, ProbeRequest  # noqa: E402


@dataclass
class Figures:
    """The figures of one run."""

    name: str
    checks: int
    wall_s: float
    cpu_ms_per_check: float
    p95_ms: float
    verdicts: dict[str, int]

    @property
    def per_minute(self) -> float:
        """Checks per minute at this concurrency."""
        return self.checks / self.wall_s * 60

    def line(self) -> str:
        """One printable line."""
        return (
            f"{self.name:8} {self.checks:5} checks in {self.wall_s:6.1f} s = {self.per_minute:7.0f}/min, "
            f"CPU {self.cpu_ms_per_check:6.1f} ms/check, p95 {self.p95_ms:6.0f} ms  {self.verdicts}"
        )


def p95(values: list[float]) -> float:
    """95th percentile."""
    if len(values) < 2:
        return values[0] if values else 0.0
    return statistics.quantiles(values, n=20)[18]


def blackhole() -> tuple[socket.socket, list[socket.socket]]:
    """A listener that never accepts, its backlog filled: further connects time out."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(0)
    fillers = []
    for _ in range(4):
        c = socket.socket()
        c.setblocking(False)
        with contextlib.suppress(BlockingIOError):
            c.connect(srv.getsockname())
        fillers.append(c)
    return srv, fillers


def refusing() -> str:
    """URL of a port nobody listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/dead"


def start_simulator(duration_s: float, size: str) -> tuple[subprocess.Popen[str], str]:
    """``monitor simulate`` in its own process; returns it and the live URL."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "monitor.cli",
            "simulate",
            "--port",
            "0",
            "--json",
            "--duration",
            str(duration_s),
            "--size",
            size,
        ],  # fmt: skip
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    assert proc.stdout is not None
    urls = json.loads(proc.stdout.readline())
    return proc, urls["live"]


def start_rtsp(duration_s: float, size: str) -> tuple[subprocess.Popen[str], str]:
    """The GStreamer RTSP test server with one shared H.264 encoder for /live."""
    script = Path(__file__).resolve().parents[1] / "tests" / "monitor" / "rtsp_server.py"
    proc = subprocess.Popen(
        [
            "/usr/bin/python3",
            str(script),
            "--lifetime",
            str(duration_s),
            "--shared",
            "--size",
            size,
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    port = proc.stdout.readline().split()[1]
    return proc, f"rtsp://127.0.0.1:{port}/live"


def run_monitor(pool: ProbePool, urls: list[str], timeout_s: float, window_s: float) -> Figures:
    """All URLs through the probe pool, as many at once as it has workers."""
    reqs = [ProbeRequest(u, timeout_s=timeout_s, window_s=window_s) for u in urls]
    before = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.monotonic()
    with ThreadPoolExecutor(max_workers=pool.size) as ex:
        results = list(ex.map(pool.probe, reqs))
    wall = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_SELF)
    parent_ms = (after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime) * 1000
    worker_ms = sum(float(r.measurements.get("cpu_ms", 0.0)) for r in results)
    verdicts: dict[str, int] = {}
    for r in results:
        verdicts[str(r.verdict)] = verdicts.get(str(r.verdict), 0) + 1
    return Figures(
        "monitor",
        len(results),
        wall,
        (worker_ms + parent_ms) / len(results),
        p95([r.elapsed_ms for r in results]),
        verdicts,
    )


def run_ffprobe(urls: list[str], timeout_s: float, concurrency: int) -> Figures:
    """``ffprobe -show_streams`` on the same URLs (it decodes frames while probing)."""
    us = str(int(timeout_s * 1_000_000))

    def one(url: str) -> tuple[float, bool]:
        t = time.monotonic()
        try:
            cp = subprocess.run(
                ["ffprobe", "-v", "error", "-rw_timeout", us, "-timeout", us, "-show_streams",
                 "-select_streams", "v", "-of", "json", url],
                capture_output=True,
                timeout=timeout_s * 3 + 5,
            )  # fmt: skip
            ok = cp.returncode == 0 and b'"codec_type": "video"' in cp.stdout
        except subprocess.TimeoutExpired:
            ok = False
        return (time.monotonic() - t) * 1000, ok

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    with ThreadPoolExecutor(max_workers=concurrency) as ex:
        results = list(ex.map(one, urls))
    wall = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_ms = (after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime) * 1000
    ok = sum(1 for _, good in results if good)
    return Figures(
        "ffprobe",
        len(results),
        wall,
        cpu_ms / len(results),
        p95([ms for ms, _ in results]),
        {"video": ok, "failed": len(results) - ok},
    )


def main() -> int:
    """Run the benchmark and print the figures."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cameras", type=int, nargs="+", default=[50, 200])
    ap.add_argument("--dead-share", type=float, default=0.10)
    ap.add_argument("--workers", type=int, default=8)
    ap.add_argument("--timeout", type=float, default=3.0, help="open/read timeout per probe (s)")
    ap.add_argument(
        "--window", type=float, default=0.0, help="frame window (s); 0 = one decoded frame"
    )
    ap.add_argument(
        "--ffprobe-max", type=int, default=200, help="ffprobe on at most this many streams"
    )
    ap.add_argument(
        "--source", choices=("mjpeg", "rtsp"), default="mjpeg", help="kind of live stream"
    )
    ap.add_argument("--size", default="1280x720", help="picture size of the live streams")
    args = ap.parse_args()

    if args.source == "rtsp":
        sim, live_url = start_rtsp(3600, args.size)
        sep = "?"
    else:
        sim, live_url = start_simulator(3600, args.size)
        sep = "?"
    hole, fillers = blackhole()
    hole_url = f"http://127.0.0.1:{hole.getsockname()[1]}/dead"
    print(f"cpus={os.cpu_count()}; workers={args.workers}, "
          f"timeout={args.timeout}s, window={args.window}s, dead share={args.dead_share:.0%}, "
          f"live streams: {args.source} {args.size}")  # fmt: skip
    try:
        with ProbePool(args.workers) as pool:
            run_monitor(pool, [live_url] * args.workers, args.timeout, 0)  # warm the workers up
            for n in args.cameras:
                dead = int(round(n * args.dead_share))
                urls = [f"{live_url}{sep}cam={i}" for i in range(n - dead)]
                urls += [refusing() if i % 2 else hole_url for i in range(dead)]
                # dead ones spread evenly, so the ffprobe sample has the same share
                random.Random(n).shuffle(urls)
                mon = run_monitor(pool, urls, args.timeout, args.window)
                print(f"\n== {n} cameras ({dead} dead) ==")
                print(mon.line())
                cycle_1000 = 1000 / mon.per_minute * 60
                print(f"         → a cycle over 1,000 cameras at this rate: {cycle_1000:.0f} s")
                sample = urls[: min(n, args.ffprobe_max)]
                ffp = run_ffprobe(sample, args.timeout, args.workers)
                print(ffp.line())
                print(
                    f"ratio    monitor/ffprobe: CPU per check {mon.cpu_ms_per_check / ffp.cpu_ms_per_check:.2f}, "
                    f"checks/min {mon.per_minute / ffp.per_minute:.2f}, p95 {mon.p95_ms / max(ffp.p95_ms, 1):.2f}"
                )
    finally:
        sim.kill()
        sim.wait(5)
        for c in fillers:
            c.close()
        hole.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
