"""The one notification pipeline: inbox messages (站内通知) and their external copies.

Any package tells people with :func:`publish` (a :class:`Message` to recipients)::

    from tracker.notifications.services import Message, publish
    publish(region, Message(
        title="摄像头离线：平安村 · 大厅 · 1 号",
        body="原因：无法连接；开始时间：2026-11-02 09:12。",
        url="/halls/cameras/7", kind="camera_down", dedupe_key=f"hall_alert:{alert.id}",
        public_text="摄像头离线：平安村 · 大厅 · 1 号（无法连接）",
    ), roles={Role.admin, Role.editor})

Recipients are users (objects or ids) or a :class:`~tracker.models.Region`:
a region means every active user whose scope covers it (the users of that
node and of all its ancestors), optionally limited to some roles.

What goes where:

* the **inbox** — one :class:`Notification` per recipient, with ``title`` and ``body``;
* **e-mail** (``[alerts] smtp_host``) — one outbox row per recipient address, same text;
* the **JSON webhook, DingTalk and WeCom robots** — one outbox row per *message*
  (not per recipient: a group robot hears a message once), carrying only
  ``public_text`` and ``data``. A group is read by people outside the matter,
  so a message that would need personal data there sets ``public_text=None``
  and never reaches the robots.

``dedupe_key`` makes every copy idempotent (a job may run twice). Like every
service this only flushes; the caller commits. Nothing is sent inside the
caller's request: the jobs process works through the outbox
(:func:`tracker.notifications.delivery.deliver_due`).
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, bindparam, func, insert, select, update

from tracker.config import current_settings
from tracker.extensions import db
from tracker.models import Region, Role, User, utcnow
from tracker.notifications.models import Notification, OutboxMessage, OutChannel

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


# [alerts] key of each shared (one post per message) channel.
SHARED_CHANNELS = {
    OutChannel.webhook: "webhook_url",
    OutChannel.dingtalk: "dingtalk_webhook",
    OutChannel.wecom: "wecom_webhook",
}


@dataclass(frozen=True)
class Message:
    """One thing to tell: the inbox/e-mail text, and what may be said in a group.

    * ``title``, ``body`` — for the recipients, who may see the record (may name the applicant);
    * ``public_text`` — for the robots and the generic webhook: no names, phones or
      ID numbers; ``None`` keeps the message off them;
    * ``data`` — extra fields of the generic webhook body (ids, cause), no personal data.
    """

    title: str
    body: str = ""
    url: str = ""
    kind: str = "info"
    dedupe_key: str | None = None
    public_text: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


def publish(
    recipients: Recipients, message: Message, *, roles: Collection[Role] | None = None
) -> list[Notification]:
    """Put ``message`` in the recipients' inboxes and queue its external copies.

    Returns the inbox messages created (none for users who already had one with
    the same ``dedupe_key``).
    """
    notes = notify(
        recipients,
        message.title,
        message.body,
        message.url,
        message.kind,
        roles=roles,
        dedupe_key=message.dedupe_key,
    )
    cfg = current_settings().alerts
    # Without a key the message is new by definition (its copies still go out once each).
    key = message.dedupe_key or f"once:{uuid.uuid4().hex}"
    rows: list[tuple[OutChannel, str, str]] = []
    if cfg.smtp_host:
        text = f"{message.body}\n\n{message.url}".strip()
        for address in dict.fromkeys(n.user.email for n in notes if n.user.email):
            rows.append((OutChannel.email, address, text))
    if message.public_text is not None:
        for channel, cfg_key in SHARED_CHANNELS.items():
            if getattr(cfg, cfg_key):
                rows.append((channel, "", message.public_text))
    if rows:
        _enqueue(rows, message, key)
    return notes


def _chunks(values: list[Any], size: int = 500) -> Iterable[list[Any]]:
    for i in range(0, len(values), size):
        yield values[i : i + size]


def publish_many(items: Iterable[tuple[Iterable[User | int], Message]]) -> int:
    """:func:`publish` for many messages at once (a job's reminders): the same inbox
    messages and outbox copies, each skipped when its ``dedupe_key`` was had before,
    read in a few statements (500 users or keys a statement) and inserted in one
    batch per table, whatever the number of messages — not five statements per
    message. Returns how many inbox messages were created.

    Recipients are users or user ids (no regions, no role filter).
    """
    batch = [
        (list(dict.fromkeys(u.id if isinstance(u, User) else int(u) for u in recipients)), message)
        for recipients, message in items
    ]
    if not batch:
        return 0
    user_ids = list({uid for ids, _ in batch for uid in ids})
    users: dict[int, tuple[int, str | None]] = {}  # id → (region id, e-mail)
    for chunk in _chunks(user_ids):
        users.update(
            (uid, (region_id, email))
            for uid, region_id, email in db.session.execute(
                select(User.id, User.region_id, User.email).where(
                    User.id.in_(chunk), User.active.is_(True)
                )
            )
        )
    keys = list({m.dedupe_key for _, m in batch if m.dedupe_key is not None})
    had: set[tuple[int, str]] = set()
    queued: set[tuple[str, OutChannel, str]] = set()
    for chunk in _chunks(keys):
        had.update(
            (uid, key)
            for uid, key in db.session.execute(
                select(Notification.user_id, Notification.dedupe_key).where(
                    Notification.dedupe_key.in_(chunk)
                )
            )
            if key is not None
        )
        queued.update(
            (key, channel, target)
            for key, channel, target in db.session.execute(
                select(OutboxMessage.dedupe_key, OutboxMessage.channel, OutboxMessage.target).where(
                    OutboxMessage.dedupe_key.in_([k[:200] for k in chunk])
                )
            )
        )
    cfg = current_settings().alerts
    now = utcnow()
    inbox: list[dict[str, Any]] = []
    outbox: list[dict[str, Any]] = []
    for ids, message in batch:
        emails: list[str] = []
        for uid in sorted(ids):  # in the order _resolve gives them
            user = users.get(uid)
            if user is None or (
                message.dedupe_key is not None and (uid, message.dedupe_key) in had
            ):
                continue
            if message.dedupe_key is not None:
                had.add((uid, message.dedupe_key))
            inbox.append(
                {
                    "user_id": uid,
                    "region_id": user[0],
                    "kind": message.kind[:32],
                    "title": message.title[:200],
                    "body": message.body,
                    "url": message.url[:500],
                    "dedupe_key": message.dedupe_key,
                    "created_at": now,
                }
            )
            if user[1]:
                emails.append(user[1])
        key = (message.dedupe_key or f"once:{uuid.uuid4().hex}")[:200]
        rows: list[tuple[OutChannel, str, str]] = []
        if cfg.smtp_host:
            text = f"{message.body}\n\n{message.url}".strip()
            rows.extend((OutChannel.email, address, text) for address in dict.fromkeys(emails))
        if message.public_text is not None:
            for channel, cfg_key in SHARED_CHANNELS.items():
                if getattr(cfg, cfg_key):
                    rows.append((channel, "", message.public_text))
        for channel, target, text in rows:
            if (key, channel, target[:200]) in queued:
                continue
            queued.add((key, channel, target[:200]))
            outbox.append(
                {
                    "channel": channel,
                    "target": target[:200],
                    "kind": message.kind[:32],
                    "dedupe_key": key,
                    "subject": message.title[:200],
                    "text": text,
                    "data": {**message.data, "url": message.url}
                    if channel == OutChannel.webhook
                    else None,
                }
            )
    if inbox:
        db.session.execute(insert(Notification), inbox)
    if outbox:
        db.session.execute(insert(OutboxMessage), outbox)
    return len(inbox)


def _enqueue(rows: list[tuple[OutChannel, str, str]], message: Message, key: str) -> None:
    """Add the outbox rows not queued before under ``key`` (one per channel and target)."""
    queued = {
        (channel, target)
        for channel, target in db.session.execute(
            select(OutboxMessage.channel, OutboxMessage.target).where(
                OutboxMessage.dedupe_key == key
            )
        )
    }
    for channel, target, text in rows:
        if (channel, target) in queued:
            continue
        queued.add((channel, target))
        db.session.add(
            OutboxMessage(
                channel=channel,
                target=target[:200],
                kind=message.kind[:32],
                dedupe_key=key[:200],
                subject=message.title[:200],
                text=text,
                data={**message.data, "url": message.url}
                if channel == OutChannel.webhook
                else None,
            )
        )
    db.session.flush()


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
    """Add one inbox message per recipient (no external copy: see :func:`publish`).

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
        )
        db.session.add(note)
        created.append(note)
    db.session.flush()
    return created


def unread_badge(user: Any) -> int:
    """The navbar badge of ``user`` (see ``tracker.notifications.DOMAIN``)."""
    return unread_count(user.id) if user.is_authenticated else 0


@functools.cache
def _unread_stmt() -> Select[int]:
    """Built once per process: every page's navbar runs it (the user id is a parameter)."""
    return select(func.count(Notification.id)).where(
        Notification.user_id == bindparam("user_id"), Notification.read_at.is_(None)
    )


def unread_count(user_id: int) -> int:
    """Unread messages of a user (the navbar badge)."""
    return int(db.session.scalar(_unread_stmt(), {"user_id": user_id}) or 0)


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
