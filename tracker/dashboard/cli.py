"""``tracker dashboard-rollup``: compute the dashboard snapshots of past periods.

The jobs process keeps the current and previous periods fresh; this command
back-fills any range of months, with the quarters and years they make up. It
recomputes only what changed since the last run (the townships of villages with
ledger writes newer than their snapshot; for a running period snapshotted earlier
the same day, the other villages get today's live camera seconds; a period
snapshotted on an earlier day while it ran is recomputed whole); ``--all``
recomputes everything (after a change of rules or of ``config.toml``).
"""

from __future__ import annotations

import time

import click

from tracker import clock
from tracker.cli_support import with_app


@click.command("dashboard-rollup")
@click.option("--from", "first", required=True, help="First month, e.g. 2024-01.")
@click.option("--to", "last", default=None, help="Last month (default: this month).")
@click.option("--all", "everything", is_flag=True, help="Recompute every village, changed or not.")
@with_app
def rollup_cmd(first: str, last: str | None, everything: bool) -> None:
    """Compute the compliance snapshots of every month, quarter and year in a range."""
    from tracker.dashboard import services
    from tracker.extensions import db
    from tracker.periods import Period, PeriodError, PeriodKind

    try:
        lo = Period.parse(first)
        hi = Period.parse(last) if last else Period.containing(clock.today(), PeriodKind.month)
    except PeriodError as exc:
        raise click.BadParameter(str(exc)) from exc
    if lo.kind != PeriodKind.month or hi.kind != PeriodKind.month or hi < lo:
        raise click.BadParameter("--from/--to 应为月份（如 2024-01），且 --from 不晚于 --to")
    periods: list[Period] = []
    month = lo
    while month <= hi:
        periods.append(month)
        month = month.next()
    extra = {Period.quarter_of(m.start) for m in periods} | {
        Period.year_of(m.start) for m in periods
    }
    periods += sorted(extra, key=lambda p: (p.kind.value, p.year, p.index))
    started = time.monotonic()
    villages = 0
    live: dict[str, services.LiveCameras] = {}  # today's camera seconds, read once
    with click.progressbar(
        periods, label="合规看板快照", item_show_func=lambda p: p.key if p else ""
    ) as bar:
        for period in bar:
            if everything:
                villages += services.compute_period(period, "/")
            else:
                villages += services.refresh_changed(period, live=live)
            db.session.commit()
    click.echo(
        f"{len(periods)} 个期间，重算 {villages} 个村期快照，用时 {time.monotonic() - started:.0f} 秒"
    )


def commands() -> list[click.Command]:
    """The dashboard's ``tracker`` subcommands."""
    return [rollup_cmd]
