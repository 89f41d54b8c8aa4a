"""The explanation behind one village's score: every obligation, record, matter and outage.

Read live from the ledgers for one village and one period (small: a village has
a few dozen records a month), each item with a link to its record page in the
owning package. Used by the village page and the inspection (督查) print view.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, func, or_, select

from tracker import clock
from tracker.dashboard.services import record_url
from tracker.dashboard.sources import kind_names
from tracker.extensions import db
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
    start: datetime
    end: datetime | None
    cause: str
    excused: str
    url: str | None

    @property
    def hours(self) -> float:
        end = self.end or clock.now()
        return (end - self.start).total_seconds() / 3600


@dataclass
class CameraLine:
    camera_id: int
    camera: str
    hall: str
    open_s: int
    up_s: int
    live_s: int
    unknown_s: int
    excused_s: int
    url: str | None

    @property
    def counted_s(self) -> int:
        return max(0, self.open_s - self.unknown_s - self.excused_s)

    @property
    def working_rate(self) -> float | None:
        return self.up_s / self.counted_s if self.counted_s else None

    @property
    def online_rate(self) -> float | None:
        return min(1.0, self.live_s / self.counted_s) if self.counted_s else None


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
    today = today or clock.today()
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
    from tracker.matters.models import MatterType
    from tracker.matters.models import ServiceMatter as SM

    lo, hi = period.start, period.end
    # The matters package's measures judge the matters *received* in the period.
    overdue_open = and_(SM.status.in_(("accepted", "paused")), SM.due_on < today)
    late_done = SM.on_time.is_(False)
    bad_cb = and_(
        SM.rating.in_(("dissatisfied", "very_dissatisfied")),
        SM.rating_void.is_(False),
        or_(SM.callback_on_time.is_(False), SM.callback_on_time.is_(None)),
    )
    rows = db.session.execute(
        select(SM, MatterType.name)
        .join(MatterType, MatterType.id == SM.matter_type_id)
        .where(
            SM.region_id == village.id,
            SM.received_on >= lo,
            SM.received_on <= hi,
            or_(overdue_open, late_done, bad_cb),
        )
        .order_by(SM.received_on)
    ).all()
    for m, type_name in rows:
        problems = []
        if m.status in ("accepted", "paused") and m.due_on and m.due_on < today:
            problems.append(f"逾期 {(today - m.due_on).days} 天未办结")
        if m.on_time is False:
            problems.append("超时办结")
        if m.rating in ("dissatisfied", "very_dissatisfied") and not m.callback_on_time:
            problems.append(
                "差评未按时回访"
                if m.called_back_on or (m.callback_due_on or today) < today
                else "差评待回访"
            )
        detail.matters.append(
            MatterLine(
                id=m.id,
                serial_no=m.serial_no,
                type_name=type_name,
                received_on=m.received_on,
                due_on=m.due_on,
                completed_on=m.completed_on,
                status=str(m.status),
                problem="；".join(problems),
                url=record_url("matters.detail", matter_id=m.id),
            )
        )


def _cameras(detail: VillageDetail, village: Region, period: Period) -> None:
    from tracker.halls.models import (
        Camera,
        CameraState,
        OutageExcuse,
        ServiceHall,
    )
    from tracker.halls.models import (
        CameraDailyRollup as R,
    )
    from tracker.halls.models import (
        CameraStateChange as C,
    )

    cams = db.session.execute(
        select(Camera.id, Camera.name, ServiceHall.name)
        .join(ServiceHall, ServiceHall.id == Camera.hall_id)
        .where(Camera.region_id == village.id)
        .order_by(ServiceHall.name, Camera.name)
    ).all()
    if not cams:
        return
    label = {cid: (name, hall) for cid, name, hall in cams}
    sums = {
        r[0]: r[1:]
        for r in db.session.execute(
            select(
                R.camera_id,
                func.sum(R.open_s),
                func.sum(R.up_s),
                func.sum(R.down_picture_s),
                func.sum(R.unknown_s),
                func.sum(R.excused_online_s),
                func.sum(R.excused_picture_s),
            )
            .where(R.region_id == village.id, R.day >= period.start, R.day <= period.end)
            .group_by(R.camera_id)
        )
    }
    for cid, (name, hall) in label.items():
        o, up, dpic, unk, exo, exp = (int(x or 0) for x in sums.get(cid, (0,) * 6))
        detail.cameras.append(
            CameraLine(
                cid,
                name,
                hall,
                o,
                up,
                up + dpic,
                unk,
                exo + exp,
                record_url("halls.camera", camera_id=cid),
            )
        )
    lo, hi = period.utc_bounds()
    excuses = (
        db.session.execute(
            select(OutageExcuse).where(
                OutageExcuse.region_id == village.id, OutageExcuse.start < hi, OutageExcuse.end > lo
            )
        )
        .scalars()
        .all()
    )
    for e in excuses:
        detail.excuses.append(
            {
                "camera": label.get(e.camera_id, ("?", ""))[0],
                "start": e.start,
                "end": e.end,
                "kind": str(e.kind),
                "reason": e.reason,
                "status": str(e.status),
            }
        )
    # State changes of the period (plus the one in force at its start).
    changes = db.session.execute(
        select(C.camera_id, C.at, C.state, C.cause)
        .where(C.camera_id.in_(list(label)), C.at < hi)
        .where(
            or_(
                C.at >= lo,
                C.id.in_(
                    select(func.max(C.id))
                    .where(C.camera_id.in_(list(label)), C.at < lo)
                    .group_by(C.camera_id)
                ),
            )
        )
        .order_by(C.camera_id, C.at)
    ).all()
    by_cam: dict[int, list[Any]] = {}
    for row in changes:
        by_cam.setdefault(row.camera_id, []).append(row)
    for cid, rows in by_cam.items():
        for i, row in enumerate(rows):
            if row.state != CameraState.down:
                continue
            end = rows[i + 1].at if i + 1 < len(rows) else None
            start = max(row.at, lo)
            if end is not None and end <= lo:
                continue
            excused = next(
                (
                    e["status"]
                    for e in detail.excuses
                    if e["camera"] == label[cid][0]
                    and e["start"] < (end or hi)
                    and e["end"] > start
                ),
                "",
            )
            detail.outages.append(
                OutageLine(
                    cid,
                    label[cid][0],
                    label[cid][1],
                    start,
                    end if end is None or end < hi else None if end is None else end,
                    row.cause or "",
                    {"approved": "已核准", "pending": "待审核", "rejected": "已驳回"}.get(
                        excused, ""
                    ),
                    record_url("halls.camera", camera_id=cid),
                )
            )
    detail.outages.sort(key=lambda o: o.start)
