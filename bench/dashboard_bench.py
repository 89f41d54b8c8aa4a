"""Benchmark of the compliance dashboard pages on a city-scale dataset.

Times the city overview, a county overview and a village page through the real
Flask app (routing, login, scope, SQL, Jinja, SVG charts), cold and warm, and
prints each against the bare SQL it needs (the *floor*):

- ``floor``: the page's snapshot aggregates run directly on the engine
  (``GROUP BY`` over ``dashboard_village_score`` etc.), no ORM, no templates;
- ``raw``: the same figures aggregated from the ledger tables themselves
  (meetings, matters, camera roll-ups) — what a page would pay without the
  snapshots maintained by the jobs process.

*Cold* is the first request of a fresh process (new engine and connections,
empty SQLAlchemy/Jinja caches), measured in a subprocess each time; *warm* is
the median of repeated requests in one process.

    .venv/bin/python bench/generate_city.py --url sqlite:////tmp/city.db
    .venv/bin/python bench/dashboard_bench.py --url sqlite:////tmp/city.db
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

TARGETS = {"city": (300, 2000), "county": (300, 2000), "village": (100, 2000)}


def _app(url: str) -> Any:
    from tracker import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": url, "WTF_CSRF_ENABLED": False, "TESTING": False})


def _targets(app: Any) -> dict[str, tuple[str, str]]:
    """page name → (username, url)."""
    from sqlalchemy import select

    from tracker.clock import today as local_today
    from tracker.extensions import db
    from tracker.models import Region, RegionLevel
    from tracker.periods import Period, PeriodKind

    period = Period.containing(local_today(), PeriodKind.month).previous().key
    with app.app_context():
        city = db.session.scalar(select(Region.id).where(Region.level == RegionLevel.city))
        county = db.session.scalar(
            select(Region.id).where(Region.level == RegionLevel.county).order_by(Region.id)
        )
        village = db.session.scalar(
            select(Region.id).where(Region.level == RegionLevel.village).order_by(Region.id)
        )
    return {
        "city": ("bench_city", f"/dashboard/r/{city}?period={period}"),
        "county": ("bench_county", f"/dashboard/r/{county}?period={period}"),
        "village": ("bench_village", f"/dashboard/r/{village}?period={period}"),
    }


def _client(app: Any, username: str) -> Any:
    """A test client signed in through the real login form (sessions are server-side)."""
    from bench.request_profile import login

    client = app.test_client()
    login(client, username)
    return client


def _timed(fn: Callable[[], Any]) -> float:
    t0 = time.perf_counter()
    fn()
    return (time.perf_counter() - t0) * 1000


def _get(client: Any, url: str) -> None:
    resp = client.get(url)
    if resp.status_code != 200:
        raise SystemExit(f"{url}: HTTP {resp.status_code}\n{resp.get_data(as_text=True)[:500]}")


def cold_one(url: str, page: str) -> None:
    """Subprocess entry: one cold request, prints milliseconds."""
    t0 = time.perf_counter()
    app = _app(url)
    user, path = _targets(app)[page]
    client = _client(app, user)
    setup = (time.perf_counter() - t0) * 1000
    ms = _timed(lambda: _get(client, path))
    print(json.dumps({"ms": ms, "setup_ms": setup}))


def floors(app: Any, page: str, runs: int) -> tuple[float, float]:
    """(snapshot floor, raw-ledger floor) in ms, median of ``runs``."""
    from sqlalchemy import Float, case, cast, func, select

    from tracker.clock import today as local_today
    from tracker.dashboard.models import MissedObligation
    from tracker.dashboard.models import VillageScore as V
    from tracker.dashboard.services import trend_periods
    from tracker.extensions import db
    from tracker.halls.models import CameraDailyRollup as R
    from tracker.matters.models import ServiceMatter as SM
    from tracker.meetings.models import Meeting
    from tracker.models import Region, RegionLevel
    from tracker.periods import Period, PeriodKind

    period = Period.containing(local_today(), PeriodKind.month).previous()
    months = [m.key for m in trend_periods(period)]
    with app.app_context():
        level = {"city": RegionLevel.city, "county": RegionLevel.county}.get(
            page, RegionLevel.village
        )
        rid = db.session.scalar(select(Region.id).where(Region.level == level).order_by(Region.id))
        region = db.session.get(Region, rid)
        assert region is not None
        col = {"city": V.city_id, "county": V.county_id, "village": V.region_id}[page]
        child = {"city": V.county_id, "county": V.township_id, "village": V.region_id}[page]
        sums = [
            func.sum(getattr(V, c))
            for c in (
                "meetings_due",
                "meetings_met",
                "records_total",
                "records_late",
                "matters_due",
                "matters_on_time",
                "bad_ratings",
                "callbacks_on_time",
                "cam_open_s",
                "cam_up_s",
                "cam_unknown_s",
                "cam_excused_s",
            )
        ]
        snapshot_sql = [
            select(func.avg(V.score), func.count(), *sums).where(
                V.period == period.key, col == rid
            ),
            select(child, func.avg(V.score), *sums)
            .where(V.period == period.key, col == rid)
            .group_by(child),
            select(child, V.period, func.avg(V.score))
            .where(V.period.in_(months), col == rid)
            .group_by(child, V.period),
            select(V.region_id, V.score, V.band).where(V.period == period.key, col == rid),
            select(MissedObligation.kind, func.sum(MissedObligation.missing))
            .where(MissedObligation.period == period.key)
            .group_by(MissedObligation.kind),
            select(V.region_id, cast(V.cam_up_s, Float) / func.nullif(V.cam_open_s, 0))
            .where(V.period == period.key, col == rid)
            .order_by(cast(V.cam_up_s, Float) / func.nullif(V.cam_open_s, 0))
            .limit(8),
        ]
        lo, hi = period.utc_bounds()
        scope = select(Region.id).where(Region.path.like(region.path + "%")).scalar_subquery()
        raw_sql = [
            select(
                Meeting.region_id,
                Meeting.kind,
                func.count(),
                func.sum(case((Meeting.late.is_(True), 1), else_=0)),
            )
            .where(Meeting.region_id.in_(scope), Meeting.started_at >= lo, Meeting.started_at < hi)
            .group_by(Meeting.region_id, Meeting.kind),
            select(SM.region_id, func.count(), func.sum(case((SM.on_time.is_(True), 1), else_=0)))
            .where(
                SM.region_id.in_(scope),
                SM.completed_on >= period.start,
                SM.completed_on <= period.end,
            )
            .group_by(SM.region_id),
            select(R.region_id, func.sum(R.open_s), func.sum(R.up_s))
            .where(R.region_id.in_(scope), R.day >= period.start, R.day <= period.end)
            .group_by(R.region_id),
        ]
        conn = db.session.connection()

        def run(stmts: list[Any]) -> None:
            for s in stmts:
                conn.execute(s).all()

        run(snapshot_sql)
        run(raw_sql)
        snap = statistics.median(_timed(lambda: run(snapshot_sql)) for _ in range(runs))
        raw = statistics.median(_timed(lambda: run(raw_sql)) for _ in range(max(3, runs // 4)))
        db.session.rollback()
    return snap, raw


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--url", required=True)
    ap.add_argument("--warm", type=int, default=15, help="warm requests per page")
    ap.add_argument("--cold", type=int, default=3, help="cold (fresh process) samples per page")
    ap.add_argument("--cold-one", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.cold_one:
        cold_one(args.url, args.cold_one)
        return
    app = _app(args.url)
    targets = _targets(app)
    db_name = "PostgreSQL" if args.url.startswith("postgresql") else "SQLite"
    print(f"dashboard benchmark on {db_name}: {args.url}")
    print(
        f"{'page':8} {'cold ms':>9} {'warm ms':>9} {'p95 ms':>8} {'floor ms':>9} "
        f"{'warm/floor':>10} {'raw ms':>8} {'target warm/cold':>17}"
    )
    results = {}
    for page, (user, url) in targets.items():
        colds = []
        for _ in range(args.cold):
            out = subprocess.run(
                [sys.executable, __file__, "--url", args.url, "--cold-one", page],
                capture_output=True,
                text=True,
                check=True,
            )
            colds.append(json.loads(out.stdout.strip().splitlines()[-1])["ms"])
        client = _client(app, user)
        _get(client, url)
        warm = [_timed(lambda c=client, u=url: _get(c, u)) for _ in range(args.warm)]
        floor, raw = floors(app, page, args.warm)
        w = statistics.median(warm)
        p95 = sorted(warm)[max(0, int(len(warm) * 0.95) - 1)]
        c = statistics.median(colds)
        tw, tc = TARGETS[page]
        ok = "ok" if w < tw and c < tc else "MISSED"
        print(
            f"{page:8} {c:9.0f} {w:9.1f} {p95:8.1f} {floor:9.1f} {w / floor:10.1f} "
            f"{raw:8.1f} {f'<{tw}/<{tc} {ok}':>17}"
        )
        results[page] = {
            "cold_ms": c,
            "warm_ms": w,
            "p95_ms": p95,
            "floor_ms": floor,
            "raw_ms": raw,
        }
    print(json.dumps(results))


if __name__ == "__main__":
    main()
