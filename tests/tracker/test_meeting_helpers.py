"""Helpers shared by the meeting tests (named test_* to sit in the meetings test paths; no tests)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from tracker.meetings.services import MeetingInput

TZ = ZoneInfo("Asia/Shanghai")


def at(y: int, m: int, d: int, h: int = 9, minute: int = 0) -> datetime:
    """A local (Asia/Shanghai) time."""
    return datetime(y, m, d, h, minute, tzinfo=TZ)


def meeting_input(world: Any, village: Any, start: datetime, **kw: Any) -> MeetingInput:
    members = world.members[village.id]
    data = MeetingInput(
        kind=kw.pop("kind", "branch_committee_meeting"),
        started_at=start,
        ended_at=kw.pop("ended_at", start + timedelta(hours=1)),
        place=kw.pop("place", "村党员活动室"),
        host_id=kw.pop("host_id", members[0].id),
        recorder=kw.pop("recorder", "记录员"),
        topics=kw.pop("topics", "研究本月工作"),
        present_ids=kw.pop("present_ids", {m.id for m in members}),
    )
    for key, value in kw.items():
        setattr(data, key, value)
    return data


def recent(days: int = 1, hour: int = 9) -> datetime:
    """A local time ``days`` ago (inside the edit-lock window, in the past)."""
    now = datetime.now(TZ)
    return (now - timedelta(days=days)).replace(hour=hour, minute=0, second=0, microsecond=0)


def form_data(world: Any, village: Any, start: datetime, **kw: Any) -> dict[str, Any]:
    """The POST body of the record form."""
    members = world.members[village.id]
    data: dict[str, Any] = {
        "kind": "branch_committee_meeting",
        "group_id": "0",
        "started_at": start.strftime("%Y-%m-%dT%H:%M"),
        "ended_at": (start + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
        "place": "村党员活动室",
        "host_id": str(members[0].id),
        "recorder": "记录员",
        "topics": "研究本月工作",
        "present": [str(m.id) for m in members[:5]],
        f"reason_{members[5].id}": "外出务工",
        "client_uuid": kw.pop("client_uuid", "uuid-" + start.isoformat()),
    }
    data.update(kw)
    return data
