"""Throughput of the list pages, the county dashboard and the JSON lists, beside a
bare Flask app served the same way, in the same run.

Starts gunicorn (2 sync workers by default) twice on 127.0.0.1 and random ports —
once with the tracker on the given database (a city from ``generate_city.py``),
once with ``bench/_bare_app.py`` — signs in as the generator's county viewer and
village clerk, then, for each target, runs ``--clients`` client processes that
send requests for ``--seconds`` and counts the 200 answers. Each target is measured
``--rounds`` times, each round right after a round of the bare app, and judged by
the median of its rounds' ratios (one round's ratio moves by ±15 % on a shared
machine). Prints req/s and the ratio to the bare app with its target (pages ≥ 1/5,
API lists ≥ 1/4; issue 18), the lowest and highest round, and the load average, so
figures from a shared machine can be judged.

    .venv/bin/python bench/web_bench.py --url sqlite:////tmp/city.db
    .venv/bin/python bench/web_bench.py --url postgresql+psycopg://postgres@127.0.0.1:5432/city

Both servers stop by themselves at the end (and on Ctrl+C).
"""

from __future__ import annotations

import argparse
import base64
import http.client
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.generate_city import BENCH_PASSWORD  # noqa: E402

PAGE_TARGET = 1 / 5
API_TARGET = 1 / 4


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(app: str, port: int, workers: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    cmd = [
        sys.executable,
        "-m",
        "gunicorn",
        "-w",
        str(workers),
        "-b",
        f"127.0.0.1:{port}",
        "--log-level",
        "warning",
        "--chdir",
        str(ROOT),
        app,
    ]
    proc = subprocess.Popen(cmd, env=env, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return proc
        except OSError:
            if proc.poll() is not None:
                raise SystemExit(f"gunicorn {app} exited with {proc.returncode}") from None
            time.sleep(0.2)
    stop(proc)
    raise SystemExit(f"gunicorn {app} did not start")


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def request(
    port: int, method: str, path: str, cookie: str = "", body: str = ""
) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Cookie": cookie} if cookie else {}
    if body:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    conn.request(method, path, body=body or None, headers=headers)
    resp = conn.getresponse()
    data = resp.read()
    out = (resp.status, {k.lower(): v for k, v in resp.getheaders()}, data)
    conn.close()
    return out


def login(port: int, username: str) -> str:
    """A session cookie of ``username`` (through the real login form, CSRF included)."""
    status, headers, page = request(port, "GET", "/login")
    cookie = headers.get("set-cookie", "").split(";")[0]
    m = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', page)
    form = {"username": username, "password": BENCH_PASSWORD}
    if m:
        form["csrf_token"] = m.group(1).decode()
    status, headers, _ = request(port, "POST", "/login", cookie, urlencode(form))
    session = headers.get("set-cookie", "").split(";")[0]
    if status != 302 or not session:
        raise SystemExit(f"login as {username} failed ({status})")
    return session


def _client(port: int, path: str, cookie: str, seconds: float) -> tuple[int, int]:
    ok = bad = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        status, _, _ = request(port, "GET", path, cookie)
        if status == 200:
            ok += 1
        else:
            bad += 1
    return ok, bad


def rate(
    pool: ProcessPoolExecutor, clients: int, port: int, path: str, cookie: str, s: float
) -> float:
    request(port, "GET", path, cookie)  # warm: caches, connections, compiled templates
    t0 = time.monotonic()
    results = list(pool.map(_client, *zip(*[(port, path, cookie, s)] * clients, strict=True)))
    elapsed = time.monotonic() - t0
    ok = sum(r[0] for r in results)
    bad = sum(r[1] for r in results)
    if bad:
        print(f"  !! {path}: {bad} answers were not 200", flush=True)
    return ok / elapsed


def targets(url: str) -> tuple[dict[str, tuple[str, str]], dict[str, tuple[str, str]]]:
    """(pages, api lists): name → (user, path), with ids from the database."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:

        def one(sql: str, **kw: Any) -> Any:
            return conn.execute(text(sql), kw).scalar()

        county = one("SELECT region_id FROM user_account WHERE username = 'bench_county'")
        village = one("SELECT region_id FROM user_account WHERE username = 'bench_village'")
    engine.dispose()
    pages = {
        "meetings": ("bench_county", f"/meetings/?region_id={county}"),
        "matters": ("bench_county", "/matters/?view=all"),
        "halls": ("bench_county", "/halls/"),
        "trainings": ("bench_county", "/trainings/"),
        "members": ("bench_village", f"/org/villages/{village}"),
        "county dashboard": ("bench_county", f"/dashboard/r/{county}"),
    }
    api = {
        "api meetings": ("bench_village", f"/api/v1/meetings?village_id={village}"),
        "api matters": ("bench_county", "/api/v1/matters"),
        "api halls": ("bench_county", "/api/v1/halls"),
        "api trainings": ("bench_village", f"/api/v1/trainings?village_id={village}"),
        "api members": ("bench_village", f"/api/v1/villages/{village}/members"),
    }
    return pages, api


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--url", required=True, help="database of generate_city.py")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--seconds", type=float, default=3.0, help="per target and round")
    ap.add_argument("--rounds", type=int, default=3, help="bare app, then target, this often")
    ap.add_argument(
        "--page-cache-mb",
        type=int,
        default=None,
        help="[tracker] page_cache_mb of the tracker (0: cache off; default: config.toml)",
    )
    args = ap.parse_args()

    env = dict(os.environ)
    env.update(
        TRACKER_DATABASE_URL=args.url,
        TRACKER_SECRET_KEY="web-bench-secret-" + "x" * 32,
        # a fixed, valid Fernet key (tracker.wsgi refuses to start without one)
        TRACKER_CAMERA_KEY=base64.urlsafe_b64encode(b"web-bench-camera-key-0123456789a").decode(),
        PYTHONPATH=str(ROOT),
    )
    if args.page_cache_mb is not None:
        env["TRACKER_PAGE_CACHE_MB"] = str(args.page_cache_mb)
    pages, api = targets(args.url)
    tport, bport = free_port(), free_port()
    tracker = start("tracker.wsgi:app", tport, args.workers, env)
    bare = start("bench._bare_app:app", bport, args.workers, env)
    rows: list[tuple[str, float, float]] = []
    try:
        cookies = {u: login(tport, u) for u in ("bench_county", "bench_village")}
        with ProcessPoolExecutor(args.clients) as pool:
            print(f"load average before: {os.getloadavg()[0]:.1f}", flush=True)
            for group, target in ((pages, PAGE_TARGET), (api, API_TARGET)):
                for name, (user, path) in group.items():
                    # The bare app is measured beside each round: the machine is shared.
                    rounds = []
                    for _ in range(args.rounds):
                        reference = rate(pool, args.clients, bport, "/", "", args.seconds)
                        got = rate(pool, args.clients, tport, path, cookies[user], args.seconds)
                        rounds.append((got / reference, got, reference))
                    share, got, reference = statistics.median_low(rounds)
                    rows.append((name, share, target))
                    # what the page cache answered the next request (hit/miss; "-" = off)
                    cache = request(tport, "GET", path, cookies[user])[1].get("x-page-cache", "-")
                    low, high = min(rounds)[0], max(rounds)[0]
                    print(
                        f"{name:18} {got:8.1f} req/s   bare {reference:8.1f} req/s   "
                        f"ratio {_ratio(share)} (rounds {_ratio(low)}–{_ratio(high)})   "
                        f"target ≥ 1/{1 / target:.0f}   "
                        f"{'ok' if share >= target else 'BELOW'}   "
                        f"cache {cache:6} "
                        f"load {os.getloadavg()[0]:.1f}",
                        flush=True,
                    )
    finally:
        stop(tracker)
        stop(bare)
    met = sum(1 for _, share, t in rows if share >= t)
    print(
        f"{met}/{len(rows)} targets met (median of {args.rounds} rounds); "
        f"{args.workers} gunicorn workers, {args.clients} clients"
    )


def _ratio(share: float) -> str:
    return f"1/{1 / share:.1f}" if share else "1/inf"


if __name__ == "__main__":
    main()
