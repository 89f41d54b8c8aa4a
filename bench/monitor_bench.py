"""Monitor benchmark: probe N local streams (plus a share of dead ones) and compare with ffprobe.

Prints, for the monitor's probe pool and for ``ffprobe`` on the same streams:
checks per minute, CPU ms per check, p95 probe time — and the ratios. Also the
projected time of a cycle over 1,000 cameras (10 % dead) at the measured rate.

Streams are served by ``monitor simulate`` (HTTP MJPEG, 320×240 at 10 fps) in its
own process; dead cameras are half refusing ports, half "black holes" (a listener
whose backlog is full, so connects time out — what a powered-off camera behind a
switch looks like). The simulator shares the machine's CPU with the probes, so the
numbers are conservative.

Two more modes answer the station operator's questions:

* ``--cost`` — CPU per check against ``ffprobe -read_intervals %+#1`` (one frame)
  on the same RTSP main stream, side by side in one run: H.264 and H.265 at 720p
  and 4 MP, with window 0 and the default 2 s window, plus the frozen and black
  verdicts at the same size (they must stay right).
* ``--station N ...`` — ``monitor run`` with the shipped pool settings and N
  cameras at a 60 s interval (MJPEG from ``monitor simulate``, a local stand-in
  tracker): checks done per minute against needed, missed, pool size, and the
  CPU share of the daemon with its workers.

Usage::

    .venv/bin/python bench/monitor_bench.py --cameras 50 200 1000 --workers 8
    .venv/bin/python bench/monitor_bench.py --cameras 200 --window 2 --workers 32
    .venv/bin/python bench/monitor_bench.py --cost
    .venv/bin/python bench/monitor_bench.py --station 200 1000 --minutes 2
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


def start_rtsp(duration_s: float, size: str, *extra: str) -> tuple[subprocess.Popen[str], str]:
    """The GStreamer RTSP test server with one shared encoder for /live."""
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
            *extra,
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


def ffprobe_one_frame_cpu_ms(url: str, n: int) -> float:
    """CPU ms of ``ffprobe -read_intervals %+#1`` (decode one frame) on ``url``, median of ``n``."""
    costs = []
    for _ in range(n):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run(
            ["ffprobe", "-v", "error", "-rtsp_transport", "tcp", "-select_streams", "v",
             "-read_intervals", "%+#1", "-show_frames", "-show_entries", "frame=pict_type",
             "-of", "json", url],
            capture_output=True,
            timeout=60,
        )  # fmt: skip
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        costs.append((after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime) * 1000)
    return statistics.median(costs)


def run_cost(n: int) -> int:
    """Monitor vs ffprobe CPU per check, H.264/H.265 × 720p/4 MP × window 0 / 2 s."""
    print(f"cpus={os.cpu_count()}; {n} checks per cell, sequential; GOP 2 s, 10 fps (4 MP: 5 fps)")
    print(
        "| codec | size | ffprobe one frame | monitor window 0 | ratio | monitor window 2 s "
        "| ratio | first check (2 s) | ratio | frozen | black |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    cells = [("h264", "1280x720", 2000, 10), ("h265", "1280x720", 2000, 10),
             ("h264", "2688x1520", 4000, 5), ("h265", "2688x1520", 4000, 5)]  # fmt: skip
    with ProbePool(1) as pool:
        for codec, size, kbps, fps in cells:
            server, live = start_rtsp(
                900, size, "--codec", codec, "--bitrate", str(kbps), "--gop", str(2 * fps),
                "--fps", str(fps), "--pattern", "smpte",
            )  # fmt: skip
            base = live.rsplit("/", 1)[0]
            try:
                warm = pool.probe(ProbeRequest(live, timeout_s=5, window_s=2.0))
                gop = warm.measurements.get("gop_s")
                cpu: dict[str, float] = {}
                # window 0; the default 2 s window as the daemon runs it (it holds the
                # previous check's key frame); and a camera's very first check (no
                # previous picture, GOP unknown: key frames across the window)
                runs = {
                    "w0": {"window_s": 0.0, "gop_s": gop},
                    "w2": {"window_s": 2.0, "gop_s": gop, "previous": warm.thumb},
                    "first": {"window_s": 2.0},
                }
                for name, kw in runs.items():
                    rs = [pool.probe(ProbeRequest(live, timeout_s=5, **kw)) for _ in range(n)]  # type: ignore[arg-type]
                    bad = [r.verdict for r in rs if r.verdict != "online"]
                    if bad:
                        print(f"  ({codec} {size} {name}: verdicts {bad})")
                    cpu[name] = statistics.median(float(r.measurements["cpu_ms"]) for r in rs)
                ffp = ffprobe_one_frame_cpu_ms(live, n)
                frozen = pool.probe(ProbeRequest(f"{base}/frozen", timeout_s=5, window_s=2.0))
                black = pool.probe(ProbeRequest(f"{base}/black", timeout_s=5, window_s=2.0))
            finally:
                server.kill()
                server.wait(5)
            print(
                f"| {codec.upper().replace('H', 'H.')} | {size} | {ffp:.0f} ms "
                + "".join(f"| {cpu[k]:.0f} ms | {cpu[k] / ffp:.2f} " for k in ("w0", "w2", "first"))
                + f"| {frozen.verdict} | {black.verdict} |",
                flush=True,
            )
    return 0


def _tree_cpu_s(session: int) -> float:
    """CPU seconds (user + system) of every live process of one session (daemon + workers)."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == session:  # field 6 of stat: the session id
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def run_station(counts: list[int], minutes: float) -> int:
    """``monitor run`` with the shipped pool settings and N cameras at 60 s."""
    import tempfile

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "monitor"))
    from contract_tracker import ContractTracker, Store  # noqa: PLC0415 - a test stand-in

    root = Path(__file__).resolve().parents[1]
    sim, live = start_simulator(3600, "640x360")
    print(f"cpus={os.cpu_count()}; shipped pool settings (workers = 0, max_workers = 16); "
          f"cameras at 60 s, MJPEG 640x360; measured over the last minute of {minutes} min")  # fmt: skip
    try:
        for n in counts:
            cams = [{"id": i, "name": f"cam {i}", "stream_url": f"{live}?cam={i}",
                     "check_interval_s": 60, "snapshot_every_min": 60} for i in range(1, n + 1)]  # fmt: skip
            store = Store(cameras=cams, heartbeat_interval_s=60)
            tracker = ContractTracker(store).start(lifetime_s=minutes * 60 + 120)
            with tempfile.TemporaryDirectory() as tmp:
                config = Path(tmp) / "config.toml"
                config.write_text(
                    f'[monitor]\ntracker_url = "{tracker.url}"\ntoken = "station-token"\n'
                    f'state_dir = "{tmp}/state"\n'
                    # every simulated camera is on 127.0.0.1; a station's are on many hosts
                    'host_limits = { "127.0.0.1" = 1000 }\n',
                    encoding="utf-8",
                )
                env = dict(os.environ, MONITOR_CONFIG=str(config))
                proc = subprocess.Popen(
                    [sys.executable, "-m", "monitor.cli", "run"], env=env, cwd=root,
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
                )  # fmt: skip
                try:
                    time.sleep(max(0.0, minutes * 60 - 60))
                    cpu0, t0 = _tree_cpu_s(proc.pid), time.monotonic()
                    done0 = len(store.checks())
                    time.sleep(60)
                    cpu1, t1 = _tree_cpu_s(proc.pid), time.monotonic()
                    done = len(store.checks()) - done0
                    status = subprocess.run(
                        [sys.executable, "-m", "monitor.cli", "--config", str(config), "status",
                         "--json"], capture_output=True, text=True, env=env, cwd=root, timeout=60,
                    )  # fmt: skip
                    cap = json.loads(status.stdout).get("capacity") or {}
                finally:
                    os.killpg(proc.pid, 15)
                    proc.wait(60)
                    tracker.stop()
            share = (cpu1 - cpu0) / (t1 - t0) / (os.cpu_count() or 1)
            print(
                f"{n:5} cameras: {cap.get('checks_done_per_min')} checks done in the last minute "
                f"({done} delivered), {n} needed (ratio {cap.get('checks_done_per_min', 0) / n:.2f}); "
                f"missed/min {cap.get('missed_per_min')}, "
                f"{cap.get('workers')} workers (needed {cap.get('workers_needed')}), "
                f"window {cap.get('window_s')} s; CPU {share:.1%} of {os.cpu_count()} cores"
                + (f"; why: {cap['why']}" if cap.get("why") else ""),
                flush=True,
            )
    finally:
        sim.kill()
        sim.wait(5)
    return 0


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
    ap.add_argument("--cost", action="store_true", help="CPU per check vs ffprobe (one frame)")
    ap.add_argument("--checks", type=int, default=8, help="checks per cell of --cost")
    ap.add_argument("--station", type=int, nargs="+", help="monitor run with N cameras at 60 s")
    ap.add_argument("--minutes", type=float, default=2.0, help="run time per --station count")
    args = ap.parse_args()
    if args.cost:
        return run_cost(args.checks)
    if args.station:
        return run_station(args.station, args.minutes)

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
