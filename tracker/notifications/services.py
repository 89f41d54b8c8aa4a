"""notify(): put a message in users' inboxes (站内通知), optionally copied to email / webhooks.

Any package may call it (matters reminders, camera alerts, calendar warnings)::

    from tracker.notifications.services import notify
    notify(region, "摄像头离线", "平安村大厅 1 号摄像头 09:12 起无画面", url, "camera_down",
           roles={Role.admin, Role.editor}, dedupe_key=f"camera:{cam.id}:down:{start}")

Recipients are users (objects or ids) or a :class:`~tracker.models.Region`:
a region means every active user whose scope covers it (the users of that
node and of all its ancestors), optionally limited to some roles.

Like every service it only flushes; the caller commits. External delivery
never happens inside the caller's request: rows are marked ``pending`` when
``[alerts]`` has a channel configured, and the jobs process sends them
(:func:`deliver_pending`).
"""

from __future__ import annotations

import json
import logging
import smtplib
from collections.abc import Callable, Collection, Iterable
from email.message import EmailMessage
from typing import Any

from sqlalchemy import func, select, update

from tracker.config import AlertsSettings, current_settings
from tracker.extensions import db
from tracker.models import Region, Role, User, utcnow
from tracker.notifications.models import Delivery, Notification

log = logging.getLogger("tracker.notifications")

Recipients = User | int | Region | Iterable[User | int]


def _resolve(recipients: Recipients, roles: Collection[Role] | None) -> list[User]:
    """The active users a recipients argument names (no duplicates, stable order)."""
    if isinstance(recipients, Region):
        ancestor_ids = recipients.ancestor_ids or [recipients.id]
        stmt = select(User).where(User.region_id.in_(ancestor_ids), User.active.is_(True))
        if roles:
            stmt = stmt.where(User.role.in_(list(roles)))
        return list(db.session.scalars(stmt.order_by(User.id)))
    items: list[User | int] = (
        [recipients] if isinstance(recipients, User | int) else list(recipients)
    )
    ids = [u.id if isinstance(u, User) else int(u) for u in items]
    if not ids:
        return []
    stmt = select(User).where(User.id.in_(ids), User.active.is_(True))
    if roles:
        stmt = stmt.where(User.role.in_(list(roles)))
    return list(db.session.scalars(stmt.order_by(User.id)))


def external_channels_configured() -> bool:
    """Whether ``[alerts]`` names any channel besides the inbox."""
    alerts = current_settings().alerts
    return bool(
        alerts.smtp_host or alerts.webhook_url or alerts.dingtalk_webhook or alerts.wecom_webhook
    )


def notify(
    recipients: Recipients,
    title: str,
    body: str = "",
    url: str = "",
    kind: str = "info",
    *,
    roles: Collection[Role] | None = None,
    dedupe_key: str | None = None,
) -> list[Notification]:
    """Add one inbox message per recipient; return the messages created.

    ``dedupe_key`` makes the call idempotent per user: a user who already has
    a message with that key gets no second one (a job may safely run twice).
    """
    users = _resolve(recipients, roles)
    if not users:
        return []
    skip: set[int] = set()
    if dedupe_key is not None:
        skip = set(
            db.session.scalars(
                select(Notification.user_id).where(
                    Notification.dedupe_key == dedupe_key,
                    Notification.user_id.in_([u.id for u in users]),
                )
            )
        )
    delivery = Delivery.pending if external_channels_configured() else Delivery.none
    created = []
    for user in users:
        if user.id in skip:
            continue
        note = Notification(
            user_id=user.id,
            region_id=user.region_id,
            kind=kind[:32],
            title=title[:200],
            body=body,
            url=url[:500],
            dedupe_key=dedupe_key,
            delivery=delivery,
        )
        db.session.add(note)
        created.append(note)
    db.session.flush()
    return created


def unread_badge(user: Any) -> int:
    """The navbar badge of ``user`` (see ``tracker.notifications.DOMAIN``)."""
    return unread_count(user.id) if user.is_authenticated else 0


def unread_count(user_id: int) -> int:
    """Unread messages of a user (the navbar badge)."""
    return int(
        db.session.scalar(
            select(func.count(Notification.id)).where(
                Notification.user_id == user_id, Notification.read_at.is_(None)
            )
        )
        or 0
    )


def inbox(user_id: int, unread_only: bool = False, limit: int = 200) -> list[Notification]:
    """A user's messages, newest first."""
    stmt = select(Notification).where(Notification.user_id == user_id)
    if unread_only:
        stmt = stmt.where(Notification.read_at.is_(None))
    return list(
        db.session.scalars(
            stmt.order_by(Notification.created_at.desc(), Notification.id.desc()).limit(limit)
        )
    )


def mark_read(user_id: int, notification_id: int | None = None) -> int:
    """Mark one message (or, with no id, all) of ``user_id`` read; returns how many changed."""
    stmt = (
        update(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
    )
    if notification_id is not None:
        stmt = stmt.where(Notification.id == notification_id)
    result = db.session.execute(stmt.execution_options(synchronize_session="fetch"))
    db.session.flush()
    return int(getattr(result, "rowcount", 0) or 0)


# -- external delivery (jobs process only) ---------------------------------

Sender = Callable[[Notification, AlertsSettings], None]


def _send_email(note: Notification, alerts: AlertsSettings) -> None:
    if not alerts.smtp_host or not note.user.email:
        return
    msg = EmailMessage()
    msg["Subject"] = note.title
    msg["From"] = alerts.smtp_from or "tracker@localhost"
    msg["To"] = note.user.email
    msg.set_content(f"{note.body}\n\n{note.url}".strip())
    with smtplib.SMTP(alerts.smtp_host, alerts.smtp_port, timeout=10) as smtp:
        smtp.send_message(msg)


def _post(url: str, payload: dict[str, Any]) -> None:
    import requests

    resp = requests.post(
        url,
        data=json.dumps(payload, ensure_ascii=False).encode("utf-8"),
        headers={"Content-Type": "application/json; charset=utf-8"},
        timeout=10,
    )
    resp.raise_for_status()


def _send_webhooks(note: Notification, alerts: AlertsSettings) -> None:
    text = f"{note.title}\n{note.body}".strip()
    if alerts.webhook_url:
        _post(
            alerts.webhook_url,
            {
                "kind": note.kind,
                "title": note.title,
                "body": note.body,
                "url": note.url,
                "user": note.user.username,
                "created_at": note.created_at.isoformat(),
            },
        )
    # DingTalk and WeCom robots both take {"msgtype": "text", "text": {"content": …}}.
    for key in ("dingtalk_webhook", "wecom_webhook"):
        url = getattr(alerts, key)
        if url:
            _post(url, {"msgtype": "text", "text": {"content": text}})


SENDERS: list[Sender] = [_send_email, _send_webhooks]


def deliver_pending(limit: int = 200) -> tuple[int, int]:
    """Send pending messages to the configured channels; returns ``(sent, failed)``.

    A failure is recorded on the row (never retried forever: one attempt per
    message, the inbox copy is the one that always exists).
    """
    alerts = current_settings().alerts
    rows = db.session.scalars(
        select(Notification)
        .where(Notification.delivery == Delivery.pending)
        .order_by(Notification.id)
        .limit(limit)
    ).all()
    sent = failed = 0
    for note in rows:
        try:
            for sender in SENDERS:
                sender(note, alerts)
        except Exception as exc:  # network, SMTP: recorded, never raised into the job
            note.delivery = Delivery.failed
            # No URL in the stored error: webhook URLs may hold tokens.
            note.delivery_error = type(exc).__name__[:500]
            failed += 1
            log.warning("notification %s not delivered: %s", note.id, type(exc).__name__)
        else:
            note.delivery = Delivery.sent
            note.delivered_at = utcnow()
            sent += 1
    db.session.flush()
    return sent, failed
