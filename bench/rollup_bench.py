"""Benchmark of the dashboard roll-up of the running month, quarter and year.

What ``tracker dashboard-rollup`` (and the jobs' ``dashboard.rollup`` every 15 min)
spends on the open periods, on a generated city:

- ``full``: every village recomputed (``--all``: ``compute_period(period, "/")``);
- ``incremental, no writes``: the same day, nothing written since — only today's
  live camera seconds are read (once, in the first period: the month) and every
  snapshot re-scored (``refresh_changed`` → ``refresh_live``);
- ``incremental, 1 % written``: after an edit in 1 % of the villages (one member
  each, through the ORM like any page), their townships are recomputed in full.

Each step runs in a fresh process, so its peak RSS is its own; the figures are the
seconds of each period and the ratio to the full compute.

    .venv/bin/python bench/generate_city.py --url sqlite:////tmp/city.db
    .venv/bin/python bench/rollup_bench.py --url sqlite:////tmp/city.db
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _step(url: str, step: str, share: float) -> dict[str, Any]:
    """Run one step in this process (the child): ``{period: seconds}``, villages, RSS."""
    import resource
    import time

    from sqlalchemy import func, select

    from tracker import clock, create_app
    from tracker.dashboard import services
    from tracker.extensions import db
    from tracker.models import Member, Region, RegionLevel
    from tracker.periods import Period, PeriodKind

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": False})
    out: dict[str, Any] = {"step": step, "seconds": {}, "villages": {}}
    today = clock.today()
    periods = [Period.containing(today, k) for k in PeriodKind]
    with app.app_context(), app.test_request_context():
        if step == "write":
            villages = db.session.scalar(
                select(func.count(Region.id)).where(Region.level == RegionLevel.village)
            )
            n = max(1, round(villages * share))
            # One member in every (1/share)-th village: spread over the townships.
            every = max(1, round(1 / share))
            ids = db.session.scalars(
                select(Region.id).where(Region.level == RegionLevel.village).order_by(Region.id)
            ).all()[::every][:n]
            for vid in ids:
                member = db.session.scalar(
                    select(Member).where(Member.region_id == vid).order_by(Member.id).limit(1)
                )
                if member is not None:
                    member.phone = "13900000000" if member.phone != "13900000000" else "13900000001"
            db.session.commit()
            out["villages"]["written"] = len(ids)
        else:
            live: dict[str, Any] = {}  # as the job and the CLI: today's cameras read once
            for p in periods:
                t0 = time.perf_counter()
                if step == "full":
                    n = services.compute_period(p, "/")
                else:
                    n = services.refresh_changed(p, live=live)
                db.session.commit()
                out["seconds"][p.key] = time.perf_counter() - t0
                out["villages"][p.key] = n
    out["rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def _child(url: str, step: str, share: float) -> dict[str, Any]:
    res = subprocess.run(
        [sys.executable, __file__, "--url", url, "--step", step, "--share", str(share)],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    return json.loads(res.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--url", required=True)
    ap.add_argument("--share", type=float, default=0.01, help="villages written (0.01 = 1 %%)")
    ap.add_argument("--step", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.step:
        print(json.dumps(_step(args.url, args.step, args.share)))
        return
    full = _child(args.url, "full", args.share)
    quiet = _child(args.url, "incremental", args.share)
    written = _child(args.url, "write", args.share)
    after = _child(args.url, "incremental", args.share)
    rows = [
        ("full (--all)", full),
        ("incremental, no writes", quiet),
        (f"incremental, {written['villages']['written']} villages written", after),
    ]
    keys = list(full["seconds"])
    print(
        f"{'roll-up of the running periods':40}" + "".join(f"{k:>18}" for k in keys) + "  peak RSS"
    )
    for label, r in rows:
        cells = ""
        for k in keys:
            s, base = r["seconds"][k], full["seconds"][k]
            cells += f"{s:8.2f} s ×{s / base:5.2f}  " if r is not full else f"{s:8.2f} s        "
        print(f"{label:40}{cells}{r['rss_mib']:7.0f} MiB")
    print(
        "villages recomputed in full: "
        + ", ".join(
            f"{k} {full['villages'][k]}/{quiet['villages'][k]}/{after['villages'][k]}" for k in keys
        )
        + " (full / no writes / after writes)"
    )


if __name__ == "__main__":
    main()
