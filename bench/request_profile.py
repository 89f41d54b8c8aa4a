"""Where one request's time goes: the targets of ``web_bench.py`` in one process.

For each page and JSON list of ``web_bench.py`` (same users, same paths) this
signs in through the real login form with Flask's test client, then prints the
SQL statements of one request, the median milliseconds of ``--repeat`` requests
(process CPU and wall) the Python function calls of one request (cProfile's count: the same on a busy
or a quiet machine), and the same for the bare Flask app of ``_bare_app.py``
served by the same test client — so the ratio is one of CPU costs, far less
noisy on a shared machine than req/s through gunicorn. ``--profile NAME``
prints the cProfile of that target's requests (cumulative, top ``--top``).

The ``floor`` targets are the fixed cost every HTML page pays: an empty page
extending ``base.html`` behind ``login_required`` (session lookup, user and region,
CSRF, locale, navigation bar with its badges, the security headers, the commit
boundary) — registered here on this script's own app instance, never in the
tracker. A page's cost above its floor is its own work.

    .venv/bin/python bench/request_profile.py --url sqlite:////tmp/city.db
    .venv/bin/python bench/request_profile.py --url sqlite:////tmp/city.db --profile matters
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import re
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.generate_city import BENCH_PASSWORD  # noqa: E402
from bench.web_bench import targets  # noqa: E402

FLOOR_PATH = "/_bench/floor"
FLOOR_TEMPLATE = """{% extends "base.html" %}
{% block title %}floor{% endblock %}
{% block content %}<p>floor</p>{% endblock %}"""


def add_floor_page(app: Any) -> None:
    """The cheapest authenticated HTML page: ``base.html`` around nothing (bench only)."""
    from flask import render_template
    from flask_login import login_required

    template = app.jinja_env.from_string(FLOOR_TEMPLATE)

    @login_required
    def floor() -> str:
        return render_template(template)

    app.add_url_rule(FLOOR_PATH, "bench_floor", floor)


def login(client: Any, username: str) -> None:
    page = client.get("/login").data
    m = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', page)
    form = {"username": username, "password": BENCH_PASSWORD}
    if m:
        form["csrf_token"] = m.group(1).decode()
    resp = client.post("/login", data=form)
    if resp.status_code != 302:
        raise SystemExit(f"login as {username} failed ({resp.status_code})")


def timed(client: Any, path: str, repeat: int) -> tuple[float, float]:
    """Median (cpu ms, wall ms) of ``repeat`` GETs of ``path`` (after one warm-up)."""
    client.get(path)
    cpu, wall = [], []
    for _ in range(repeat):
        c0, w0 = time.process_time(), time.perf_counter()
        resp = client.get(path)
        cpu.append((time.process_time() - c0) * 1000)
        wall.append((time.perf_counter() - w0) * 1000)
        if resp.status_code != 200:
            raise SystemExit(f"{path}: {resp.status_code}")
    return statistics.median(cpu), statistics.median(wall)


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--url", required=True)
    ap.add_argument("--repeat", type=int, default=30)
    ap.add_argument("--profile", help="target name to profile (e.g. 'matters')")
    ap.add_argument("--top", type=int, default=40)
    ap.add_argument("--only", nargs="*", help="target names to run")
    args = ap.parse_args()

    os.environ["TRACKER_DATABASE_URL"] = args.url
    os.environ.setdefault("TRACKER_SECRET_KEY", "request-profile-" + "x" * 32)
    from sqlalchemy import event

    from bench._bare_app import app as bare
    from tracker import create_app
    from tracker.extensions import db

    app = create_app()
    add_floor_page(app)
    statements = [0]
    with app.app_context():
        event.listen(
            db.engine,
            "before_cursor_execute",
            lambda *a: statements.__setitem__(0, statements[0] + 1),
        )
    pages, api = targets(args.url)
    pages = {
        "floor county": ("bench_county", FLOOR_PATH),
        "floor village": ("bench_village", FLOOR_PATH),
        **pages,
    }
    clients = {}
    for user in ("bench_county", "bench_village"):
        clients[user] = app.test_client()
        login(clients[user], user)
    bare_client = bare.test_client()
    bare_cpu, bare_wall = timed(bare_client, "/", args.repeat * 10)
    print(f"bare app: {bare_cpu:.2f} ms cpu, {bare_wall:.2f} ms wall per request")
    print(f"{'target':18} {'stmts':>5} {'calls':>7} {'cpu ms':>8} {'wall ms':>8} {'cpu/bare':>9}")
    for name, (user, path) in {**pages, **api}.items():
        if args.only and name not in args.only:
            continue
        client = clients[user]
        client.get(path)
        statements[0] = 0
        client.get(path)
        n = statements[0]
        counter = cProfile.Profile()
        counter.runcall(client.get, path)
        calls = sum(v[1] for v in pstats.Stats(counter).stats.values())  # type: ignore[attr-defined]
        cpu, wall = timed(client, path, args.repeat)
        print(
            f"{name:18} {n:5d} {calls:7d} {cpu:8.1f} {wall:8.1f} {cpu / bare_cpu:9.1f}",
            flush=True,
        )
        if args.profile == name:
            prof = cProfile.Profile()
            prof.enable()
            for _ in range(args.repeat):
                client.get(path)
            prof.disable()
            stats = pstats.Stats(prof)
            stats.sort_stats("cumulative").print_stats(args.top)
            stats.sort_stats("tottime").print_stats(args.top)


if __name__ == "__main__":
    main()
