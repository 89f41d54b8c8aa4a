"""Two checkouts of the tracker on two databases, one dashboard page, side by side.

On a shared machine, runs one after the other measure the neighbours as much as the
code. This starts one warm worker per ``label=checkout@database`` (the checkout's own
``bench/dashboard_bench.py`` app, login and page), then asks each for one request per
round, in a random order each round, so the noise falls on all of them alike; it prints
the median, p25 and minimum milliseconds of each and the load average.

    .venv/bin/python bench/dashboard_compare.py --rounds 61 --page city \\
        before-1k=/work/wt/main@city_1k before-10k=/work/wt/main@city_10k \\
        after-1k=.@city_1k after-10k=.@city_10k

A database is named on ``--base`` (``postgresql+psycopg://postgres@127.0.0.1:5432/``
by default); the worker imports the tracker of its checkout, so "before" can be
another git worktree of main. Results: ``docs/dashboard.md`` (province scale).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path


def worker(checkout: str, url: str, page: str) -> None:
    """Subprocess: sign in, warm up, then one timed request per line read."""
    sys.path.insert(0, checkout)
    os.chdir(checkout)
    from bench.dashboard_bench import _app, _client, _targets

    app = _app(url)
    user, path = _targets(app)[page]
    client = _client(app, user)
    for _ in range(3):
        assert client.get(path).status_code == 200
    print("ready", flush=True)
    for _line in sys.stdin:
        t0 = time.perf_counter()
        status = client.get(path).status_code
        ms = (time.perf_counter() - t0) * 1000
        if status != 200:
            raise SystemExit(f"{path}: HTTP {status}")
        print(f"{ms:.3f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=31)
    parser.add_argument("--page", choices=("city", "county", "village"), default="city")
    parser.add_argument("--base", default="postgresql+psycopg://postgres@127.0.0.1:5432/")
    parser.add_argument("targets", nargs="+", help="label=checkout@database")
    args = parser.parse_args()
    procs: dict[str, subprocess.Popen[str]] = {}
    for target in args.targets:
        label, rest = target.split("=", 1)
        checkout, database = rest.rsplit("@", 1)
        proc = subprocess.Popen(
            [sys.executable, __file__, "--worker", str(Path(checkout).resolve()),
             args.base + database, args.page],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready", label
        procs[label] = proc
    times: dict[str, list[float]] = {label: [] for label in procs}
    for _ in range(args.rounds):
        order = list(procs)
        random.shuffle(order)
        for label in order:
            proc = procs[label]
            assert proc.stdin is not None and proc.stdout is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()
            times[label].append(float(proc.stdout.readline()))
    for proc in procs.values():
        assert proc.stdin is not None
        proc.stdin.close()
        proc.wait()
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    print(f"page {args.page}, {args.rounds} rounds, load average {load}")
    for label, ms in times.items():
        p25 = statistics.quantiles(ms, n=4)[0]
        print(
            f"{label:14s} median {statistics.median(ms):7.1f}  p25 {p25:7.1f}  min {min(ms):7.1f}"
        )
    print(json.dumps({label: statistics.median(ms) for label, ms in times.items()}))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        worker(*sys.argv[2:5])
    else:
        main()
