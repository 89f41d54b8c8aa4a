"""Bulk figures per village read from the other packages' ledgers.

Each function answers for *every* village under a region path in a handful of
queries, so the roll-up job scales with the number of villages, not with the
number of records. Every figure comes from its own package's bulk function
(:mod:`tracker.meetings.figures`, :mod:`tracker.matters.figures`,
:mod:`tracker.halls.figures`, :func:`tracker.trainings.services.figures_for_branches`,
:func:`tracker.secondment.figures.by_township`);
the dashboard never reads another package's tables.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from datetime import date
from typing import Any

from sqlalchemy import select

from tracker.calendar_service import load_calendar
from tracker.extensions import db
from tracker.halls.figures import camera_conditions as halls_camera_conditions
from tracker.halls.figures import village_camera_figures
from tracker.matters.figures import matter_measures
from tracker.meetings.figures import MeetingFigures
from tracker.meetings.figures import village_figures as meetings_village_figures
from tracker.models import Branch, Region, RegionLevel
from tracker.models.regions import in_subtree, subtree_ids
from tracker.periods import Period
from tracker.secondment.figures import by_township
from tracker.teams.figures import team_figures
from tracker.trainings.services import figures_for_branches
from tracker.workdays import WorkCalendar


@dataclass(frozen=True)
class VillageRef:
    """A village with its ancestors' ids (from the materialized path)."""

    id: int
    name: str
    township_id: int
    county_id: int
    city_id: int


def villages_under(path: str) -> list[VillageRef]:
    """Every village under (or at) the region path, with ancestor ids."""
    rows = db.session.execute(
        select(Region.id, Region.name, Region.path)
        .where(Region.level == RegionLevel.village, in_subtree(path))
        .order_by(Region.id)
    ).all()
    out = []
    for rid, name, rpath in rows:
        ids = [int(p) for p in rpath.strip("/").split("/") if p]
        # city / county / township / village; a shorter tree repeats the top id.
        while len(ids) < 4:
            ids.insert(0, ids[0])
        out.append(VillageRef(rid, name, ids[-2], ids[-3], ids[-4]))
    return out


# -- meetings ----------------------------------------------------------------------------


def meeting_figures(
    villages: Iterable[VillageRef],
    path: str,
    period: Period,
    today: date,
    keep_statuses: bool = False,
) -> dict[int, MeetingFigures]:
    """Obligations and late/edited records per village: :func:`tracker.meetings.figures.village_figures`."""
    return meetings_village_figures([v.id for v in villages], path, period, today, keep_statuses)


# -- service matters -----------------------------------------------------------------


@dataclass
class MatterFigures:
    """限时办结 and 差评回访 figures of one village in a period."""

    received: int = 0
    due: int = 0
    on_time: int = 0
    overdue_open: int = 0
    bad_ratings: int = 0
    callbacks_on_time: int = 0


def matter_figures(path: str, period: Period, today: date) -> dict[int, MatterFigures]:
    """Service-matter figures per village: :func:`tracker.matters.figures.matter_measures`.

    限时办结 judges what fell due in the period plus the open overdue backlog;
    差评回访 the call-backs due in it (definitions in :mod:`tracker.matters.figures`
    and ``docs/figures.md``).
    """
    under = None
    if path not in ("", "/"):
        under = db.session.scalar(select(Region).where(Region.path == path))
    measures = matter_measures(
        RegionLevel.village, period.start, period.end, today=today, under=under
    )
    return {
        rid: MatterFigures(
            received=m.received,
            due=m.judged,
            on_time=m.on_time,
            overdue_open=m.overdue_open,
            bad_ratings=m.bad,
            callbacks_on_time=m.bad_called_back_on_time,
        )
        for rid, m in measures.items()
    }


# -- cameras ---------------------------------------------------------------------------


@dataclass
class CameraFigures:
    """Opening-time camera seconds of one village in a period (excuses applied)."""

    cameras: int = 0
    open_s: int = 0
    up_s: int = 0
    live_s: int = 0
    unknown_s: int = 0
    excused_s: int = 0

    def __add__(self, other: CameraFigures) -> CameraFigures:
        """Two stretches of days of one village: the seconds add up; the cameras are the
        same active cameras in both (the larger count, where one stretch has none)."""
        return CameraFigures(
            cameras=max(self.cameras, other.cameras),
            **{name: getattr(self, name) + getattr(other, name) for name in CAMERA_SECONDS},
        )

    @property
    def counted_s(self) -> int:
        return max(0, self.open_s - self.unknown_s - self.excused_s)


# The seconds of :class:`CameraFigures` (what adds up; the snapshot's ``cam_<name>``
# and ``cam_past_<name>`` columns).
CAMERA_SECONDS = tuple(f.name for f in fields(CameraFigures) if f.name != "cameras")


def cameras_now(path: str) -> dict[str, int]:
    """Active cameras under ``path`` by condition now (离线 / 画面异常 / 未知 / 正常):
    :func:`tracker.halls.figures.camera_conditions`, the counts the wall shows."""
    return halls_camera_conditions(path)


def camera_figures(path: str, period: Period) -> dict[int, CameraFigures]:
    """Camera seconds per village: :func:`tracker.halls.services.village_camera_figures`.

    The sums of the per-camera figures (:func:`tracker.halls.services.uptime_bulk`)
    that the drill-down, the 督查 sheet and the monthly report show. 完好
    (``up_s``) counts; 在线 adds the seconds the stream was live but the picture
    bad; unknown (monitor blind) and approved-excuse seconds are left out of the
    denominator.
    """
    return camera_figures_between(path, period.start, period.end)


def camera_figures_between(path: str, first: date, last: date) -> dict[int, CameraFigures]:
    """:func:`camera_figures` of the local days ``[first, last]`` (part of a period)."""
    out: dict[int, CameraFigures] = {}
    for rid, f in village_camera_figures(path, first, last).items():
        t = f.totals
        out[rid] = CameraFigures(
            cameras=f.cameras,
            open_s=t.open_s,
            up_s=t.up_s,
            live_s=t.live_s,
            unknown_s=t.unknown_s,
            excused_s=t.excused_s,
        )
    return out


# -- trainings ---------------------------------------------------------------------------


def training_figures(path: str, period: Period, today: date) -> dict[int, tuple[int, int]]:
    """``{village id: (windows met, windows settled)}`` from the trainings register.

    :func:`tracker.trainings.services.figures_for_branches` evaluates every
    branch's training obligation windows with one query.
    """
    in_path = subtree_ids(path)
    village_of = dict(
        db.session.execute(
            select(Branch.id, Branch.region_id).where(Branch.region_id.in_(in_path))
        ).all()
    )
    out: dict[int, tuple[int, int]] = {}
    for branch_id, fig in figures_for_branches(list(village_of), period, today).items():
        met, due = out.get(village_of[branch_id], (0, 0))
        out[village_of[branch_id]] = (met + fig.windows_met, due + fig.windows_required)
    return out


# -- seconded cadres --------------------------------------------------------------------


def secondment_figures(
    villages: Iterable[VillageRef], period: Period, today: date
) -> dict[int, tuple[int, int]]:
    """``{township id: (obligations met, judged)}`` of the cadres seconded to each township.

    :func:`tracker.secondment.figures.by_township` (挂职管理, ``docs/figures.md``): a
    receiving township answers for the cadres it and its villages received, so every
    village of the township carries the township's figures.
    """
    towns = {v.township_id for v in villages}
    figures = by_township(towns, period.start, period.end, today, load_calendar())
    return {tid: (f.met, f.due) for tid, f in figures.items()}


# -- team registers (队伍建设) -------------------------------------------------------------


def teams_figures(
    villages: Iterable[VillageRef], period: Period, today: date, cal: WorkCalendar
) -> dict[int, tuple[int, int]]:
    """``{village id: (items met, items due)}``: :func:`tracker.teams.figures.team_figures`."""
    figs = team_figures([v.id for v in villages], period.start, period.end, today, cal)
    return {vid: (f.met, f.due) for vid, f in figs.items()}


def figures_for_score(row: Any) -> Mapping[str, tuple[float, float]]:
    """``{component: (numerator, denominator)}`` of a snapshot row (or a sum row)."""
    counted = max(0, (row.cam_open_s or 0) - (row.cam_unknown_s or 0) - (row.cam_excused_s or 0))
    return {
        "meetings": (
            float((row.meetings_met or 0) + (row.meetings_met_late or 0)),
            float(row.meetings_due or 0),
        ),
        "on_time_entry": (
            float((row.records_total or 0) - (row.records_late or 0)),
            float(row.records_total or 0),
        ),
        "service_on_time": (float(row.matters_on_time or 0), float(row.matters_due or 0)),
        "callbacks": (float(row.callbacks_on_time or 0), float(row.bad_ratings or 0)),
        "camera_uptime": (float(min(row.cam_up_s or 0, counted)), float(counted)),
        "trainings": (float(row.trainings_met or 0), float(row.trainings_due or 0)),
        "secondment": (float(row.seconded_met or 0), float(row.seconded_due or 0)),
        "teams": (float(row.teams_met or 0), float(row.teams_due or 0)),
    }
