"""Jobs of the dashboard, run by ``tracker jobs`` (never in the web process).

- ``dashboard.rollup`` every ``[jobs] rollup_minutes``: bring the snapshots of the
  current and previous month, quarter and year up to date
  (:func:`tracker.dashboard.services.refresh_changed`): the villages whose ledgers
  changed since (late entries, 补录) recomputed by township, the others of a running
  period given today's live camera seconds, a period whole once a day;
- ``dashboard.monthly_report`` on the 1st of each month, 06:30: the previous
  month's report workbook for the city and every county, kept for download.
"""

from __future__ import annotations

import logging

from flask import current_app
from sqlalchemy import select

from tracker import clock
from tracker.config import load_settings
from tracker.dashboard import services
from tracker.extensions import db
from tracker.jobs import scheduled_job
from tracker.models import Region, RegionLevel
from tracker.periods import Period, PeriodKind

log = logging.getLogger("tracker.dashboard")

try:
    _ROLLUP_MINUTES = load_settings().jobs.rollup_minutes
except Exception:  # a bad config stops the app elsewhere, with the key named
    _ROLLUP_MINUTES = 15


@scheduled_job("dashboard.rollup", "interval", minutes=_ROLLUP_MINUTES)
def rollup() -> None:
    """合规看板快照: recompute this and the previous period of each kind."""
    today = clock.today()
    live: dict[str, services.LiveCameras] = {}  # today's camera seconds, read once
    for period in services.periods_to_refresh(today):
        # Only what changed; a period snapshotted on an earlier day while it ran: whole.
        n = services.refresh_changed(period, today, live)
        db.session.commit()
        log.info("dashboard snapshot %s: %d villages", period.key, n)


@scheduled_job("dashboard.monthly_report", "cron", day=1, hour=6, minute=30)
def monthly_report() -> None:
    """月度合规报告: last month's workbook for the city and each county."""
    period = Period.containing(clock.today(), PeriodKind.month).previous()
    services.compute_period(period, "/")
    for region in db.session.scalars(
        select(Region).where(Region.level.in_((RegionLevel.city, RegionLevel.county)))
    ):
        from tracker.dashboard.exports import store_monthly_report

        store_monthly_report(region, period)
    log.info("monthly reports for %s stored (%s)", period.key, current_app.name)
