"""``notifications.deliver``: send pending inbox messages to email / webhooks ([alerts])."""

from __future__ import annotations

from tracker.jobs import scheduled_job
from tracker.notifications.services import deliver_pending


@scheduled_job(
    "notifications.deliver", "interval", description="站内通知外发（邮件/Webhook）", minutes=1
)
def deliver_job() -> None:
    """Deliver what is pending; a message is tried once, failures are recorded on it."""
    deliver_pending()
