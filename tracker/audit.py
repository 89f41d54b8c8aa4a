"""Audit trail: every insert, update and delete of an audited model is logged.

A ``before_flush`` hook on the session writes :class:`AuditLog` rows, so no
view, job or CLI command can forget to. The actor and channel come from
:func:`set_actor` (the request hooks set them for web and API, the CLI and jobs
set their own). Models opt in by listing themselves in :data:`AUDITED`
(via :func:`audited`, defined in ``tracker.models.base`` so models can use it
without an import cycle).
"""

from __future__ import annotations

import enum
from contextvars import ContextVar
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import event, insert, inspect
from sqlalchemy.orm import Session

from tracker.models import AuditLog, utcnow
from tracker.models.base import AUDITED, audited

__all__ = ["AUDITED", "audited", "set_actor"]

_actor: ContextVar[tuple[int | None, str]] = ContextVar("audit_actor", default=(None, "system"))
# Columns whose values must never be copied into the log.
SECRET_COLUMNS = {"password_hash", "token_hash", "stream_url_encrypted", "stream_credentials"}
SECRET_MARK = "（已更改，不显示）"


# Columns that change as a side effect of use (a login, a heartbeat), per object; an
# update that touches only these (or only ``updated_at``) is not a change anybody
# made and is not logged.
BOOKKEEPING_COLUMNS: dict[str, frozenset[str]] = {
    "user_account": frozenset({"last_login_at"}),
    "api_token": frozenset({"last_used_at"}),
    "hall_station": frozenset(
        {"last_heartbeat_at", "software_version", "started_at", "outbox_depth"}
    ),
}
ALWAYS_BOOKKEEPING = frozenset({"updated_at"})


def is_bookkeeping(entity: str, fields: set[str]) -> bool:
    """True when every changed field is bookkeeping (the update is not logged)."""
    return fields <= (BOOKKEEPING_COLUMNS.get(entity, frozenset()) | ALWAYS_BOOKKEEPING)


def set_actor(user_id: int | None, channel: str) -> None:
    """Name who is writing (for the rest of this context)."""
    _actor.set((user_id, channel))


def _plain(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    return value


def _snapshot(obj: Any, committed: bool) -> dict[str, Any]:
    state = inspect(obj)
    data: dict[str, Any] = {}
    for attr in state.mapper.column_attrs:
        key = attr.key
        if key in SECRET_COLUMNS:
            continue
        hist = state.attrs[key].history
        if committed:
            value = hist.deleted[0] if hist.deleted else (hist.unchanged or [None])[0]
            if not hist.deleted and not hist.unchanged and hist.added:
                value = hist.added[0]
        else:
            value = getattr(obj, key)
        data[key] = _plain(value)
    return data


def _blank(value: Any) -> Any:
    """An empty text and no value are the same to a reader (a form saves "" for None)."""
    return None if value == "" else value


def _secrets_changed(obj: Any) -> set[str]:
    """Secret columns whose stored value changed (logged as changed, never with the value)."""
    state = inspect(obj)
    out = set()
    for key in SECRET_COLUMNS:
        if key in state.attrs:
            hist = state.attrs[key].history
            if hist.added and hist.deleted and hist.added[0] != hist.deleted[0]:
                out.add(key)
    return out


def _region_of(obj: Any) -> int | None:
    from tracker.models import Region

    if isinstance(obj, Region):
        return obj.id
    return getattr(obj, "region_id", None)


@event.listens_for(Session, "before_flush")
def _log_writes(session: Session, flush_context: Any, instances: Any) -> None:
    actor_id, channel = _actor.get()
    pending: list[tuple[str, Any]] = []
    for obj in session.new:
        if type(obj) in AUDITED:
            pending.append(("insert", obj))
    for obj in session.dirty:
        if type(obj) in AUDITED and session.is_modified(obj, include_collections=False):
            pending.append(("update", obj))
    for obj in session.deleted:
        if type(obj) in AUDITED:
            pending.append(("delete", obj))
    if not pending:
        return
    # Inserts need their primary key: flush them first, then log.
    entries = []
    for action, obj in pending:
        before = None if action == "insert" else _snapshot(obj, committed=True)
        after = None if action == "delete" else _snapshot(obj, committed=False)
        if action == "update" and before is not None and after is not None:
            changed = {k for k in after if _blank(before.get(k)) != _blank(after.get(k))}
            changed |= _secrets_changed(obj)
            # No-op saves and side effects of use (a login time) are not changes.
            if not changed or is_bookkeeping(type(obj).__tablename__, changed):
                continue
            before = {k: before.get(k, SECRET_MARK) for k in changed}
            after = {k: after.get(k, SECRET_MARK) for k in changed}
        entries.append((action, obj, before, after))
    if not entries:
        return
    session.info.setdefault("audit_pending", []).extend(
        (action, obj, before, after, actor_id, channel) for action, obj, before, after in entries
    )


@event.listens_for(Session, "after_flush")
def _write_log(session: Session, flush_context: Any) -> None:
    """Insert the log rows in the same flush (same transaction) as the change itself."""
    pending = session.info.pop("audit_pending", [])
    if not pending:
        return
    rows = []
    now = utcnow()
    for action, obj, before, after, actor_id, channel in pending:
        # Inserted rows get their identity key only after the flush; read the
        # primary key from the instance (set by now) instead.
        state = inspect(obj)
        ident = state.mapper.primary_key_from_instance(obj)
        entity_id = ",".join(str(i) for i in ident) if ident and None not in ident else "?"
        if after is not None and "id" in after and after["id"] is None:
            after["id"] = getattr(obj, "id", None)
        rows.append(
            {
                "at": now,
                "actor_id": actor_id,
                "channel": channel,
                "action": action,
                "entity": type(obj).__tablename__,
                "entity_id": entity_id,
                "region_id": _region_of(obj),
                "before": before,
                "after": after,
            }
        )
    session.connection().execute(insert(AuditLog), rows)
