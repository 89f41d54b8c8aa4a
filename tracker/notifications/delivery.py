"""The one sender: works through the outbox (jobs process only), with back-off.

Each :class:`~tracker.notifications.models.OutboxMessage` is one message to one
channel. An attempt that fails is retried after 1, 2, 4 … minutes (at most an
hour apart) up to :data:`MAX_ATTEMPTS`; an answer that cannot get better by
retrying (HTTP 4xx other than 429, a robot's "bad token / keyword" errcode)
gives up at once. DingTalk and WeCom answer HTTP 200 even when they refuse a
message, with ``{"errcode": n, "errmsg": …}`` in the body: only ``errcode 0``
counts as sent.

Stored errors never contain the webhook URL (robot URLs carry access tokens).
"""

from __future__ import annotations

import json
import logging
import smtplib
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any

from sqlalchemy import select

from tracker.config import AlertsSettings, current_settings
from tracker.extensions import db
from tracker.models import utcnow
from tracker.notifications.models import OutboxMessage, OutChannel, OutStatus
from tracker.notifications.services import SHARED_CHANNELS

log = logging.getLogger("tracker.notifications.delivery")

MAX_ATTEMPTS = 8
TIMEOUT_S = 10
PREFIX = "【村级党建台账】"

# Robot errcodes that retrying cannot fix: invalid/removed token, keyword or IP check
# failed, bad message (DingTalk 300001/300005/310000/400101…, WeCom 93000/40008/44004).
# Rate limits (DingTalk 130101, WeCom 45009) and unknown codes are retried.
PERMANENT_ERRCODES = frozenset({300001, 300005, 310000, 400101, 93000, 40008, 44004})


class DeliveryError(Exception):
    """A failed attempt; ``permanent`` ones are not retried."""

    def __init__(self, message: str, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


def backoff(attempts: int) -> timedelta:
    """Wait after the ``attempts``-th failure: 1, 2, 4 … minutes, at most one hour."""
    return timedelta(seconds=min(60 * 2 ** (attempts - 1), 3600))


def _post(url: str, payload: dict[str, Any], robot: bool) -> None:
    import requests

    try:
        resp = requests.post(
            url,
            data=json.dumps(payload, ensure_ascii=False).encode("utf-8"),
            headers={"Content-Type": "application/json; charset=utf-8"},
            timeout=TIMEOUT_S,
        )
    except requests.RequestException as exc:  # the message would name the URL
        raise DeliveryError(type(exc).__name__) from None
    if resp.status_code >= 400:
        permanent = resp.status_code < 500 and resp.status_code != 429
        raise DeliveryError(f"HTTP {resp.status_code}", permanent=permanent)
    if robot:
        try:
            answer = resp.json()
        except ValueError:
            raise DeliveryError("robot answer is not JSON") from None
        code = answer.get("errcode", 0) if isinstance(answer, dict) else None
        if code is None or not isinstance(code, int):
            raise DeliveryError("robot answer has no errcode")
        if code != 0:
            errmsg = str(answer.get("errmsg", ""))[:100]
            raise DeliveryError(f"errcode {code}: {errmsg}", permanent=code in PERMANENT_ERRCODES)


def _send_email(row: OutboxMessage, cfg: AlertsSettings) -> None:
    msg = EmailMessage()
    msg["Subject"] = row.subject
    msg["From"] = cfg.smtp_from or "tracker@localhost"
    msg["To"] = row.target
    msg.set_content(row.text)
    try:
        with smtplib.SMTP(cfg.smtp_host, cfg.smtp_port, timeout=TIMEOUT_S) as smtp:
            smtp.send_message(msg)
    except smtplib.SMTPRecipientsRefused as exc:
        raise DeliveryError("SMTPRecipientsRefused", permanent=True) from exc
    except (OSError, smtplib.SMTPException) as exc:
        raise DeliveryError(f"{type(exc).__name__}: {str(exc)[:200]}") from exc


def send(row: OutboxMessage, cfg: AlertsSettings) -> None:
    """One attempt at one outbox row; raises :class:`DeliveryError` on failure."""
    if row.channel == OutChannel.email:
        if not cfg.smtp_host:
            raise DeliveryError("smtp_host 未配置", permanent=True)
        _send_email(row, cfg)
        return
    url = getattr(cfg, SHARED_CHANNELS[row.channel])
    if not url:
        raise DeliveryError(f"{SHARED_CHANNELS[row.channel]} 未配置", permanent=True)
    if row.channel == OutChannel.webhook:
        payload = {
            "kind": row.kind,
            "title": row.subject,
            "text": row.text,
            **(row.data or {}),
            "created_at": row.created_at.isoformat(),
        }
        _post(url, payload, robot=False)
    else:
        # DingTalk and WeCom robots both take {"msgtype": "text", "text": {"content": …}}.
        _post(url, {"msgtype": "text", "text": {"content": PREFIX + row.text}}, robot=True)


def deliver_due(now: datetime | None = None, limit: int = 200) -> tuple[int, int]:
    """Send the outbox rows that are due; returns ``(sent, failed attempts)``."""
    now = now or utcnow()
    cfg = current_settings().alerts
    rows = db.session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.status == OutStatus.pending, OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.id)
        .limit(limit)
    ).all()
    sent = failed = 0
    for row in rows:
        row.attempts += 1
        try:
            try:
                send(row, cfg)
            except DeliveryError:
                raise
            except Exception as exc:  # anything else: retried, named by its type only
                raise DeliveryError(type(exc).__name__) from exc
        except DeliveryError as exc:
            row.last_error = str(exc)[:300]
            if exc.permanent or row.attempts >= MAX_ATTEMPTS:
                row.status = OutStatus.failed
            else:
                row.next_attempt_at = now + backoff(row.attempts)
            failed += 1
            log.warning("outbox %s (%s) not delivered: %s", row.id, row.channel, row.last_error)
        else:
            row.status = OutStatus.sent
            row.delivered_at = now
            sent += 1
    db.session.flush()
    return sent, failed
