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
