"""``notifications.deliver``: the one sender of e-mail, webhook, DingTalk and WeCom copies."""

from __future__ import annotations

import logging

from tracker.jobs import scheduled_job
from tracker.notifications.delivery import deliver_due

log = logging.getLogger("tracker.notifications.jobs")


@scheduled_job(
    "notifications.deliver",
    "interval",
    description="通知外发（邮件/Webhook/钉钉/企业微信），失败退避重试",
    seconds=30,
)
def deliver_job() -> None:
    """Send the outbox rows that are due; failures wait 1, 2, 4 … minutes and retry."""
    sent, failed = deliver_due()
    if sent or failed:
        log.info("outbox: %d sent, %d failed attempts", sent, failed)
