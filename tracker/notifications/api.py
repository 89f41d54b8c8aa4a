"""JSON API of the inbox: a user's messages and marking them read."""

from __future__ import annotations

from datetime import datetime

from flask_login import current_user
from pydantic import BaseModel, ConfigDict, Field

from tracker.api.core import ApiError, endpoint
from tracker.extensions import db
from tracker.notifications import services
from tracker.notifications.models import Notification

TAGS = ["通知 notifications"]


class NotificationOut(BaseModel):
    id: int
    kind: str
    title: str
    body: str
    url: str
    created_at: datetime
    read_at: datetime | None


class InboxQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    unread: bool = False
    limit: int = Field(default=50, ge=1, le=200)


class UnreadOut(BaseModel):
    unread: int


def _out(n: Notification) -> NotificationOut:
    return NotificationOut(
        id=n.id,
        kind=n.kind,
        title=n.title,
        body=n.body,
        url=n.url,
        created_at=n.created_at,
        read_at=n.read_at,
    )


@endpoint(
    "/notifications",
    summary="The caller's inbox, newest first",
    tags=TAGS,
    query=InboxQuery,
    response=NotificationOut,
)
def api_inbox(query: InboxQuery) -> list[NotificationOut]:
    notes = services.inbox(current_user.id, unread_only=query.unread, limit=query.limit)
    return [_out(n) for n in notes]


@endpoint(
    "/notifications/unread",
    summary="Number of unread messages (the badge)",
    tags=TAGS,
    response=UnreadOut,
)
def api_unread() -> UnreadOut:
    return UnreadOut(unread=services.unread_count(current_user.id))


@endpoint(
    "/notifications/<int:note_id>/read",
    ["POST"],
    summary="Mark one message read",
    tags=TAGS,
    response=NotificationOut,
)
def api_mark_read(note_id: int) -> NotificationOut:
    note = db.session.get(Notification, note_id)
    if note is None or note.user_id != current_user.id:
        raise ApiError(404)
    services.mark_read(current_user.id, note.id)
    db.session.refresh(note)
    return _out(note)
