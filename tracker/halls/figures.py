"""The halls package's figures for the dashboard: camera time per village and per camera.

Every camera figure is :func:`tracker.halls.services.uptime_bulk` (opening time
only, unknown kept apart, approved excuses taken off the compliance rates) and
every outage is :func:`tracker.halls.rules.outage_parts` (counted / outside
opening hours / excused); ``docs/figures.md`` has the formulas. The score, the
drill-down, the 督查 sheet and the monthly report read these and nothing else.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import func, select

from tracker.extensions import db
from tracker.halls import rules
from tracker.halls.models import Camera, CameraStatus, OutageExcuse, ServiceHall
from tracker.halls.rules import OutagePart, UptimeTotals
from tracker.halls.services import camera_outages, uptime_bulk
from tracker.models import Region
from tracker.models.regions import in_subtree
from tracker.periods import Period


@dataclass(frozen=True)
class VillageCameraFigures:
    """The active cameras of one village and their summed :func:`uptime_bulk` totals."""

    cameras: int
    totals: UptimeTotals


def village_camera_figures(path: str, first: date, last: date) -> dict[int, VillageCameraFigures]:
    """``{village id: figures}`` for every village with an active camera under ``path``.

    The sum, per village, of the same per-camera figures the drill-down and the
    monthly report show.
    """
    cams = db.session.execute(
        select(Camera.id, Camera.region_id)
        .join(Region, Region.id == Camera.region_id)
        .where(Camera.active.is_(True), in_subtree(path))
    ).all()
    totals = uptime_bulk([cid for cid, _ in cams], first, last)
    count: dict[int, int] = defaultdict(int)
    summed: dict[int, UptimeTotals] = defaultdict(UptimeTotals)
    for cid, rid in cams:
        count[rid] += 1
        summed[rid] += totals[cid]
    return {rid: VillageCameraFigures(n, summed[rid]) for rid, n in count.items()}


def camera_conditions(path: str) -> dict[str, int]:
    """Active cameras under ``path`` by their condition now: ``{offline, picture, unknown, up}``.

    离线 (``offline``: no stream) and 画面异常 (``picture``: a live stream with a
    frozen, black/covered or blurred picture) are counted apart, by
    :func:`tracker.halls.rules.condition` — the wall, the home page and the
    dashboard show these counts. A camera without a status yet is unknown.
    """
    counts = dict.fromkeys(rules.CONDITION_LABELS, 0)
    rows = db.session.execute(
        select(CameraStatus.state, CameraStatus.cause, func.count(Camera.id))
        .select_from(Camera)
        .join(Region, Region.id == Camera.region_id)
        .outerjoin(CameraStatus, CameraStatus.camera_id == Camera.id)
        .where(Camera.active.is_(True), in_subtree(path))
        .group_by(CameraStatus.state, CameraStatus.cause)
    ).all()
    for state, cause, n in rows:
        counts[rules.condition(state.value if state else None, cause)] += int(n)
    return counts


@dataclass(frozen=True)
class CameraFacts:
    id: int
    name: str
    hall: str
    totals: UptimeTotals


@dataclass(frozen=True)
class OutageFacts:
    camera_id: int
    camera: str
    hall: str
    part: OutagePart
    cause: str  # Chinese
    excuse: str  # the excuse's status in Chinese, "" when none was filed


@dataclass(frozen=True)
class ExcuseFacts:
    camera: str
    start: datetime
    end: datetime
    kind: str  # Chinese
    reason: str
    status: str  # Chinese


@dataclass
class VillageCameras:
    """Everything behind a village's 监控完好 figure in a period."""

    cameras: list[CameraFacts] = field(default_factory=list)
    outages: list[OutageFacts] = field(default_factory=list)
    excuses: list[ExcuseFacts] = field(default_factory=list)


def village_cameras(village_id: int, period: Period) -> VillageCameras:
    """Per-camera figures, outages and excuses of one village's active cameras."""
    out = VillageCameras()
    cams = db.session.execute(
        select(Camera, ServiceHall.name)
        .join(ServiceHall, ServiceHall.id == Camera.hall_id)
        .where(Camera.region_id == village_id, Camera.active.is_(True))
        .order_by(ServiceHall.name, Camera.name)
    ).all()
    if not cams:
        return out
    totals = uptime_bulk([c.id for c, _ in cams], period.start, period.end)
    label = {cam.id: (cam.name, hall) for cam, hall in cams}
    out.cameras = [CameraFacts(cam.id, cam.name, hall, totals[cam.id]) for cam, hall in cams]
    lo, hi = period.utc_bounds()
    excuses = db.session.scalars(
        select(OutageExcuse)
        .where(
            OutageExcuse.camera_id.in_(list(label)),
            OutageExcuse.start < hi,
            OutageExcuse.end > lo,
        )
        .order_by(OutageExcuse.start)
    ).all()
    out.excuses = [
        ExcuseFacts(
            label[e.camera_id][0],
            e.start,
            e.end,
            rules.EXCUSE_KIND_LABELS.get(e.kind, str(e.kind)),
            e.reason,
            rules.EXCUSE_STATUS_LABELS.get(e.status, str(e.status)),
        )
        for e in excuses
    ]
    for cid, parts in camera_outages([cam for cam, _ in cams], period.start, period.end).items():
        for part in parts:
            status = next(
                (
                    rules.EXCUSE_STATUS_LABELS.get(e.status, str(e.status))
                    for e in excuses
                    if e.camera_id == cid and e.start < part.end and e.end > part.start
                ),
                "",
            )
            out.outages.append(
                OutageFacts(
                    cid, label[cid][0], label[cid][1], part, rules.cause_label(part.cause), status
                )
            )
    out.outages.sort(key=lambda o: o.part.start)
    return out
