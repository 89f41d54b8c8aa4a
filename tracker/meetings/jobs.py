"""Scheduled work of the meeting ledgers (run by ``tracker jobs``)."""

from __future__ import annotations

import logging

from tracker.jobs import scheduled_job

log = logging.getLogger("tracker.meetings")


@scheduled_job(
    "meetings_verify_ledger",
    "cron",
    description="核验三会一课台账哈希链（每晚）",
    hour=2,
    minute=30,
)
def verify_ledger_nightly() -> None:
    """Recompute every branch's hash chain; log each finding as an error for the admins."""
    from tracker.meetings.services import verify_ledger

    checked, problems = verify_ledger()
    for p in problems:
        log.error(
            "ledger tampering: branch %s meeting %s seq %s: %s",
            p.branch_id,
            p.meeting_id,
            p.seq,
            p.message,
        )
    log.info("ledger verified: %d versions, %d problem(s)", checked, len(problems))
