"""The explanation behind one village's score: every obligation, record, matter and outage.

Read live from the ledgers for one village and one period (small: a village has
a few dozen records a month), each item with a link to its record page in the
owning package. Used by the village page and the inspection (督查) print view.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select

from tracker.calendar_service import load_calendar
from tracker.dashboard.services import local_today, record_url
from tracker.dashboard.sources import kind_names
from tracker.extensions import db
from tracker.halls.models import Camera, OutageExcuse, ServiceHall
from tracker.halls.rules import OutagePart, UptimeTotals
from tracker.halls.services import (
    CAUSE_LABELS,
    EXCUSE_LABELS,
    EXCUSE_STATUS_LABELS,
    camera_outages,
    uptime_bulk,
)
from tracker.matters.figures import not_on_time
from tracker.models import Region
from tracker.periods import Period

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
    records: list[tuple[int, str | None]]


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

    @property
    def missing(self) -> list[ObligationLine]:
        return [o for o in self.obligations if o.status == "missing"]


def village_detail(village: Region, period: Period, today: date | None = None) -> VillageDetail:
    """Everything behind a village's score in a period."""
    today = today or local_today()
    detail = VillageDetail()
    names = kind_names()
    from tracker.meetings.obligations import obligations_for_branches
    from tracker.models import Branch

    branch_ids = list(db.session.scalars(select(Branch.id).where(Branch.region_id == village.id)))
    statuses = [
        s for items in obligations_for_branches(branch_ids, period, today).values() for s in items
    ]
    order = {"missing": 0, "met_late": 1, "due": 2, "met": 3}
    for s in sorted(statuses, key=lambda s: (order[s.status], s.kind, s.window.start)):
        detail.obligations.append(
            ObligationLine(
                kind=s.kind,
                kind_name=names.get(s.kind, s.kind),
                window=s.window.label,
                group_name=s.group_name,
                status=s.status,
                status_label=STATUS_LABELS.get(s.status, s.status),
                due_soon=s.due_soon,
                records=[
                    (rid, record_url("meetings.detail", meeting_id=rid)) for rid in s.record_ids
                ],
            )
        )
    _records(detail, village, period, names)
    _matters(detail, village, period, today)
    _cameras(detail, village, period)
    return detail


def _records(detail: VillageDetail, village: Region, period: Period, names: dict[str, str]) -> None:
    from tracker.meetings.models import Meeting

    lo, hi = period.utc_bounds()
    for m in db.session.scalars(
        select(Meeting)
        .where(Meeting.region_id == village.id, Meeting.started_at >= lo, Meeting.started_at < hi)
        .order_by(Meeting.started_at)
    ):
        line = RecordLine(
            id=m.id,
            kind_name=names.get(m.kind, m.kind),
            held_at=m.started_at,
            entered_at=m.entered_at,
            late=bool(m.late),
            late_days=int(m.late_working_days or 0),
            version=int(m.version or 1),
            deleted=m.deleted_at is not None,
            url=record_url("meetings.detail", meeting_id=m.id),
            history_url=record_url("meetings.history", meeting_id=m.id),
        )
        detail.records.append(line)
        if line.late or line.version > 1 or line.deleted:
            detail.flagged_records.append(line)


def _matters(detail: VillageDetail, village: Region, period: Period, today: date) -> None:
    """The judged matters and call-backs that were not on time (:mod:`tracker.matters.figures`)."""
    for line in not_on_time(village.id, period.start, period.end, today, load_calendar()):
        detail.matters.append(
            MatterLine(
                id=line.id,
                serial_no=line.serial_no,
                type_name=line.type_name,
                received_on=line.received_on,
                due_on=line.due_on,
                completed_on=line.completed_on,
                status="overdue" if line.overdue_open else "late",
                problem=line.problem,
                url=record_url("matters.detail", matter_id=line.id),
            )
        )


def _cameras(detail: VillageDetail, village: Region, period: Period) -> None:
    """Per-camera figures and outages from the halls package (the score's own numbers)."""
    cams = db.session.execute(
        select(Camera, ServiceHall.name)
        .join(ServiceHall, ServiceHall.id == Camera.hall_id)
        .where(Camera.region_id == village.id, Camera.active.is_(True))
        .order_by(ServiceHall.name, Camera.name)
    ).all()
    if not cams:
        return
    totals = uptime_bulk([c.id for c, _ in cams], period.start, period.end)
    for cam, hall in cams:
        detail.cameras.append(
            CameraLine(
                cam.id,
                cam.name,
                hall,
                totals[cam.id],
                record_url("halls.camera", camera_id=cam.id),
            )
        )
    lo, hi = period.utc_bounds()
    label = {cam.id: (cam.name, hall) for cam, hall in cams}
    excuses = db.session.scalars(
        select(OutageExcuse)
        .where(
            OutageExcuse.camera_id.in_(list(label)),
            OutageExcuse.start < hi,
            OutageExcuse.end > lo,
        )
        .order_by(OutageExcuse.start)
    ).all()
    for e in excuses:
        detail.excuses.append(
            {
                "camera": label[e.camera_id][0],
                "start": e.start,
                "end": e.end,
                "kind": EXCUSE_LABELS.get(e.kind, str(e.kind)),
                "reason": e.reason,
                "status": EXCUSE_STATUS_LABELS.get(e.status, str(e.status)),
            }
        )
    by_cam = camera_outages([cam for cam, _ in cams], period.start, period.end)
    for cid, parts in by_cam.items():
        for part in parts:
            status = next(
                (
                    EXCUSE_STATUS_LABELS.get(e.status, str(e.status))
                    for e in excuses
                    if e.camera_id == cid and e.start < part.end and e.end > part.start
                ),
                "",
            )
            detail.outages.append(
                OutageLine(
                    cid,
                    label[cid][0],
                    label[cid][1],
                    part,
                    CAUSE_LABELS.get(part.cause or "", part.cause or "原因不明"),
                    status,
                    record_url("halls.camera", camera_id=cid),
                )
            )
    detail.outages.sort(key=lambda o: o.part.start)
