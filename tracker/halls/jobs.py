"""Scheduled work of the halls package (run by ``tracker jobs``, never in the web app)."""

from __future__ import annotations

import logging

from tracker.jobs import scheduled_job

log = logging.getLogger("tracker.halls.jobs")


@scheduled_job("halls.escalate", "interval", minutes=5)
def escalate_dark_halls() -> None:
    """Escalate halls dark for N opening hours to the county (once per outage)."""
    from tracker.halls.alerts import escalate

    escalate()


@scheduled_job("halls.rollup", "interval", minutes=30)
def rollup_camera_days() -> None:
    """Store per-camera daily opening-time totals of finished days (cheap monthly figures)."""
    from tracker.halls.services import compute_rollups

    added = compute_rollups()
    if added:
        log.info("camera rollups: %d day rows stored", added)
