"""The web app under an ordinary office's load, SQLite and PostgreSQL side by side.

Starts the real stack on each database (gunicorn with 2 workers, ``tracker
jobs`` in a loop, the camera simulator and ``monitor run`` posting reports;
see ``tests/loadmix.py``) and drives it with N concurrent clients doing the
same mix of logins, API reads, API writes, form posts and page reads. Prints
req/s, p50 and p99 per kind, and the 5xx count (which must be 0).

    .venv/bin/python bench/web_concurrency_bench.py \\
        --pg postgresql+psycopg://postgres@127.0.0.1:5432/bench_web --seconds 20 --clients 8

The PostgreSQL database must exist and be empty (it is migrated here).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.factories import PASSWORD  # noqa: E402
from tests.loadmix import MIX, drive, stack, summary  # noqa: E402


def run(url: str, seconds: float, clients: int) -> dict[str, dict[str, float]]:
    with tempfile.TemporaryDirectory() as tmp, stack(url, Path(tmp)) as st:
        return summary(drive(st, clients, seconds, PASSWORD), seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg", help="empty PostgreSQL database URL (omit: SQLite only)")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()
    results: dict[str, dict[str, dict[str, float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        results["SQLite"] = run(f"sqlite:///{tmp}/bench.db", args.seconds, args.clients)
    if args.pg:
        results["PostgreSQL"] = run(args.pg, args.seconds, args.clients)
    names = list(results)
    print(f"\n{args.clients} clients, {args.seconds:.0f} s, gunicorn 2 workers, mix {MIX}")
    header = f"{'kind':<10}" + "".join(
        f"{n + ' req/s':>18}{'p50 ms':>9}{'p99 ms':>9}{'5xx':>5}" for n in names
    )
    print(header)
    for kind in ["all", *MIX]:
        row = f"{kind:<10}"
        for n in names:
            f = results[n].get(kind, {"rps": 0, "p50_ms": 0, "p99_ms": 0, "5xx": 0})
            row += f"{f['rps']:>18.1f}{f['p50_ms']:>9.0f}{f['p99_ms']:>9.0f}{int(f['5xx']):>5}"
        print(row)
    if any(results[n]["all"]["5xx"] for n in names):
        sys.exit(1)


if __name__ == "__main__":
    main()
