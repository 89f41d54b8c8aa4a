"""The explanation behind one village's score: every obligation, record, matter and outage.

Read live from the ledgers for one village and one period (small: a village has
a few dozen records a month), each item with a link to its record page in the
owning package. Used by the village page and the inspection (督查) print view.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from flask_babel import gettext

from tracker import clock
from tracker.calendar_service import load_calendar
from tracker.dashboard.services import record_url
from tracker.halls.figures import village_cameras
from tracker.halls.rules import OutagePart, UptimeTotals
from tracker.matters.figures import not_on_time
from tracker.meetings.figures import kind_names, village_obligations, village_records
from tracker.models import Region
from tracker.periods import Period
from tracker.teams.figures import (
    PART_LABELS,
    PostsTrainingsOwed,
    posts_and_trainings_owed,
    team_figures,
)

STATUS_LABELS = {
    "met": "已完成",
    "met_late": "补录完成",
    "missing": "缺失",
    "due": "待开",
}


@dataclass
class ObligationLine:
    kind: str
    kind_name: str
    window: str
    group_name: str
    status: str
    status_label: str
    due_soon: bool
    # (record id, its page, when it was held): shown by date, never by id.
    records: list[tuple[int, str | None, datetime | None]]


@dataclass
class RecordLine:
    id: int
    kind_name: str
    held_at: datetime
    entered_at: datetime
    late: bool
    late_days: int
    version: int
    deleted: bool
    url: str | None
    history_url: str | None = None


@dataclass
class MatterLine:
    id: int
    serial_no: str
    type_name: str
    received_on: date
    due_on: date | None
    completed_on: date | None
    status: str
    problem: str
    url: str | None


@dataclass
class OutageLine:
    camera_id: int
    camera: str
    hall: str
    part: OutagePart  # start/end and the counted / excused / outside-hours seconds
    cause: str
    excused: str
    url: str | None


@dataclass
class CameraLine:
    """One camera's figures: :func:`tracker.halls.services.uptime_bulk`, as in the score."""

    camera_id: int
    camera: str
    hall: str
    totals: UptimeTotals
    url: str | None

    @property
    def counted_s(self) -> int:
        """应计时长: opening time minus unknown and approved-excuse time."""
        return max(0, self.totals.known_s - self.totals.excused_s)

    @property
    def working_rate(self) -> float | None:
        """完好率 (考核): the score's rate."""
        return self.totals.compliance_intact_rate

    @property
    def online_rate(self) -> float | None:
        """在线率 (考核)."""
        return self.totals.compliance_online_rate


@dataclass
class VillageDetail:
    obligations: list[ObligationLine] = field(default_factory=list)
    records: list[RecordLine] = field(default_factory=list)
    flagged_records: list[RecordLine] = field(default_factory=list)
    matters: list[MatterLine] = field(default_factory=list)
    cameras: list[CameraLine] = field(default_factory=list)
    outages: list[OutageLine] = field(default_factory=list)
    excuses: list[dict[str, Any]] = field(default_factory=list)
    # 队伍建设: (part label, met, due) of the period (tracker.teams.figures), and the page
    # listing what the village owes now.
    team_parts: list[tuple[str, int, int]] = field(default_factory=list)
    team_url: str | None = None
    # Vacant posts past their deadline and missed concentrated trainings, as of today
    # (tracker.teams.figures.posts_and_trainings_owed, the village page's list).
    team_owed: PostsTrainingsOwed = field(default_factory=PostsTrainingsOwed)

    @property
    def missing(self) -> list[ObligationLine]:
        return [o for o in self.obligations if o.status == "missing"]


def village_detail(village: Region, period: Period, today: date | None = None) -> VillageDetail:
    """Everything behind a village's score in a period, from each package's figures."""
    today = today or clock.today()
    detail = VillageDetail()
    names = kind_names()
    statuses = village_obligations(village.id, period, today)
    facts = village_records(village.id, period)
    held = {r.id: r.held_at for r in facts}
    order = {"missing": 0, "met_late": 1, "due": 2, "met": 3}
    for s in sorted(statuses, key=lambda s: (order[s.status], s.kind, s.window.start)):
        detail.obligations.append(
            ObligationLine(
                kind=s.kind,
                kind_name=names.get(s.kind, s.kind),
                window=s.window.label,
                group_name=s.group_name,
                status=s.status,
                status_label=gettext(STATUS_LABELS[s.status])
                if s.status in STATUS_LABELS
                else s.status,
                due_soon=s.due_soon,
                records=[
                    (rid, record_url("meetings.detail", meeting_id=rid), held.get(rid))
                    for rid in s.record_ids
                ],
            )
        )
    for r in facts:
        line = RecordLine(
            id=r.id,
            kind_name=names.get(r.kind, r.kind),
            held_at=r.held_at,
            entered_at=r.entered_at,
            late=r.late,
            late_days=r.late_days,
            version=r.version,
            deleted=r.deleted,
            url=record_url("meetings.detail", meeting_id=r.id),
            history_url=record_url("meetings.history", meeting_id=r.id),
        )
        detail.records.append(line)
        if line.late or line.version > 1 or line.deleted:
            detail.flagged_records.append(line)
    for m in not_on_time(village.id, period.start, period.end, today, load_calendar()):
        detail.matters.append(
            MatterLine(
                id=m.id,
                serial_no=m.serial_no,
                type_name=m.type_name,
                received_on=m.received_on,
                due_on=m.due_on,
                completed_on=m.completed_on,
                status="overdue" if m.overdue_open else "late",
                problem=m.problem,
                url=record_url("matters.detail", matter_id=m.id),
            )
        )
    cams = village_cameras(village.id, period)
    for c in cams.cameras:
        detail.cameras.append(
            CameraLine(c.id, c.name, c.hall, c.totals, record_url("halls.camera", camera_id=c.id))
        )
    for o in cams.outages:
        detail.outages.append(
            OutageLine(
                o.camera_id,
                o.camera,
                o.hall,
                o.part,
                o.cause,
                o.excuse,
                record_url("halls.camera", camera_id=o.camera_id),
            )
        )
    detail.excuses = [dataclasses.asdict(e) for e in cams.excuses]
    teams = team_figures([village.id], period.start, period.end, today, load_calendar())
    detail.team_parts = [
        (PART_LABELS[k], met, due) for k, (met, due) in teams[village.id].parts.items()
    ]
    detail.team_url = record_url("teams.duty.village", region_id=village.id)
    detail.team_owed = posts_and_trainings_owed([village.id], today)[village.id]
    return detail
