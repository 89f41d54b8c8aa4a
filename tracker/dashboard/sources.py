"""Bulk figures per village read from the other packages' ledgers.

Each function answers for *every* village under a region path in a handful of
queries (one per table, ``GROUP BY region_id`` where the figure is a count), so
the roll-up job scales with the number of villages, not with the number of
records. Where the owning package offers a bulk function it is used
(the meetings obligations engine :func:`tracker.meetings.rules.evaluate_many`);
where it does not yet, the aggregate query is written here against its models
and said so in the docstring.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select

from tracker import clock
from tracker.extensions import db
from tracker.models import Region, RegionLevel
from tracker.models.regions import in_subtree, subtree_ids
from tracker.periods import Period


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


# -- meetings: obligations engine + record integrity ------------------------------


@dataclass
class MeetingFigures:
    """Obligations and record integrity of one village in a period."""

    due: int = 0  # settled obligations: met + met late + missing
    met: int = 0
    met_late: int = 0
    pending: int = 0  # window still open and not met: not counted yet
    missing_by_kind: dict[str, int] = field(default_factory=dict)
    records_total: int = 0
    records_late: int = 0
    records_edited: int = 0
    statuses: list[Any] = field(default_factory=list)


def meeting_figures(
    villages: Iterable[VillageRef],
    path: str,
    period: Period,
    today: date,
    keep_statuses: bool = False,
) -> dict[int, MeetingFigures]:
    """Obligations and late/edited records per village, from the meetings package.

    - obligations: :func:`tracker.meetings.obligations.obligations_for_region`
      (the obligations engine; one query per table for the whole subtree);
      obligations whose window has not ended and that are not yet met are
      *pending*: neither met nor missed;
    - late entries: :func:`tracker.meetings.obligations.late_entry_counts`;
    - edited records (version > 1): one ``GROUP BY`` here — the meetings
      package has no bulk function for it.
    """
    from tracker.meetings import obligations as mo
    from tracker.meetings.models import Meeting
    from tracker.models import Branch

    vlist = list(villages)
    out: dict[int, MeetingFigures] = {v.id: MeetingFigures() for v in vlist}
    if not vlist:
        return out
    in_path = subtree_ids(path)
    village_of_branch = dict(
        db.session.execute(
            select(Branch.id, Branch.region_id).where(Branch.region_id.in_(in_path))
        ).all()
    )
    results = mo.obligations_for_region(path, period, today)
    for branch_id, statuses in results.items():
        fig = out.get(village_of_branch.get(branch_id, -1))
        if fig is None:
            continue
        for s in statuses:
            if s.status == "met":
                fig.met += 1
            elif s.status == "met_late":
                fig.met_late += 1
            elif s.status == "missing":
                fig.missing_by_kind[s.kind] = fig.missing_by_kind.get(s.kind, 0) + 1
            else:
                fig.pending += 1
        if keep_statuses:
            fig.statuses.extend(statuses)
    for fig in out.values():
        fig.due = fig.met + fig.met_late + sum(fig.missing_by_kind.values())
    if village_of_branch:
        for branch_id, (late, total) in mo.late_entry_counts(
            list(village_of_branch), period
        ).items():
            fig = out.get(village_of_branch[branch_id])
            if fig is not None:
                fig.records_total, fig.records_late = total, late
        lo, hi = period.utc_bounds()
        for rid, edited in db.session.execute(
            select(Meeting.region_id, func.count())
            .where(
                Meeting.region_id.in_(in_path),
                Meeting.deleted_at.is_(None),
                Meeting.version > 1,
                Meeting.started_at >= lo,
                Meeting.started_at < hi,
            )
            .group_by(Meeting.region_id)
        ):
            if rid in out:
                out[rid].records_edited = int(edited)
    return out


def kind_names() -> dict[str, str]:
    """Meeting kind code → Chinese name (built-in and configured kinds)."""
    from tracker.meetings import rules as mr
    from tracker.meetings.models import MeetingKind

    names = {k.code: k.name for k in mr.BUILTIN_KINDS}
    names.update(dict(db.session.execute(select(MeetingKind.code, MeetingKind.name)).all()))
    return names


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
    """Service-matter figures per village from the matters package's measures.

    :func:`tracker.matters.services.matter_measures` (one ``GROUP BY`` for every
    village) counts the matters *received* in the period (a cohort):

    - 限时办结: completed on time / (completed + still open past their due date);
      matters still within their time limit are not judged yet;
    - 差评回访: bad ratings (not voided) called back on time / bad ratings whose
      call-back was made or is overdue (one extra ``GROUP BY`` here: the measures
      also count call-backs not due yet).
    """
    from tracker.matters.services import matter_measures

    under = None
    if path not in ("", "/"):
        under = db.session.scalar(select(Region).where(Region.path == path))
    measures = matter_measures(
        RegionLevel.village, period.start, period.end, today=today, under=under
    )
    out: dict[int, MatterFigures] = {}
    for rid, m in measures.items():
        out[rid] = MatterFigures(
            received=m.received,
            due=m.completed + m.overdue_open,
            on_time=m.completed_on_time,
            overdue_open=m.overdue_open,
            bad_ratings=m.bad,
            callbacks_on_time=m.bad_called_back_on_time,
        )
    # matter_measures counts every bad rating, also those whose call-back is not
    # due yet; the score judges only call-backs made or overdue (one GROUP BY).
    from tracker.matters.models import ServiceMatter as SM

    in_path = subtree_ids(path)
    for fig in out.values():
        fig.bad_ratings = 0
    for rid, judged in db.session.execute(
        select(SM.region_id, func.count())
        .where(
            SM.region_id.in_(in_path),
            SM.received_on >= period.start,
            SM.received_on <= period.end,
            SM.rating.in_(("dissatisfied", "very_dissatisfied")),
            SM.rating_void.is_(False),
            or_(SM.called_back_on.is_not(None), SM.callback_due_on < today),
        )
        .group_by(SM.region_id)
    ):
        if rid in out:
            out[rid].bad_ratings = int(judged)
    return out


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

    @property
    def counted_s(self) -> int:
        return max(0, self.open_s - self.unknown_s - self.excused_s)


def camera_figures(path: str, period: Period) -> dict[int, CameraFigures]:
    """Camera seconds per village, from the halls package's figures.

    Finished days: the halls job's per-camera per-day
    :class:`~tracker.halls.models.CameraDailyRollup` rows, summed here in one
    ``GROUP BY region_id`` (a year of 2,000 cameras is 730,000 rows: summing them
    in SQL takes a fraction of a second, loading them as objects through
    :func:`tracker.halls.services.village_totals` takes minutes). Days after the
    last rolled-up day (today, normally) come from ``village_totals`` itself,
    which computes them live from the state intervals and opening hours.

    完好 (``up_s``) counts; 在线 adds the seconds the stream was live but the
    picture bad; unknown (monitor blind) and approved-excuse seconds are left
    out of the denominator.
    """
    from tracker.halls.models import Camera
    from tracker.halls.models import CameraDailyRollup as R

    scope = subtree_ids(path)
    out: dict[int, CameraFigures] = defaultdict(CameraFigures)
    for rid, n in db.session.execute(
        select(Camera.region_id, func.count())
        .where(Camera.region_id.in_(scope), Camera.active.is_(True))
        .group_by(Camera.region_id)
    ):
        out[rid].cameras = n
    if not out:
        return {}
    for rid, open_s, up, dpic, unk, exo, exp in db.session.execute(
        select(
            R.region_id,
            func.sum(R.open_s),
            func.sum(R.up_s),
            func.sum(R.down_picture_s),
            func.sum(R.unknown_s),
            func.sum(R.excused_online_s),
            func.sum(R.excused_picture_s),
        )
        .where(R.region_id.in_(scope), and_(R.day >= period.start, R.day <= period.end))
        .group_by(R.region_id)
    ):
        f = out[rid]
        f.open_s = int(open_s or 0)
        f.up_s = int(up or 0)
        f.live_s = int((up or 0) + (dpic or 0))
        f.unknown_s = int(unk or 0)
        f.excused_s = int((exo or 0) + (exp or 0))
    _add_live_tail(out, path, scope, period)
    return dict(out)


def _add_live_tail(out: dict[int, CameraFigures], path: str, scope: Any, period: Period) -> None:
    """Add the days after the last rolled-up day, computed live by the halls package."""
    from tracker.halls.models import CameraDailyRollup as R
    from tracker.halls.services import village_totals

    last = min(period.end, clock.local_now().date())
    rolled = db.session.scalar(
        select(func.max(R.day)).where(
            R.region_id.in_(scope), R.day >= period.start, R.day <= period.end
        )
    )
    first = (rolled + timedelta(days=1)) if rolled else period.start
    if first > last:
        return
    roots = db.session.scalars(
        select(Region).where(Region.path == path)
        if path not in ("", "/")
        else select(Region).where(Region.parent_id.is_(None))
    ).all()
    for root in roots:
        for rid, t in village_totals(root, first, last).items():
            f = out[rid]
            f.open_s += int(t.open_s)
            f.up_s += int(t.up_s)
            f.live_s += int(t.up_s + t.down_picture_s)
            f.unknown_s += int(t.unknown_s)
            f.excused_s += int(t.excused_online_s + t.excused_picture_s)


# -- trainings ---------------------------------------------------------------------------


def training_figures(path: str, period: Period, today: date) -> dict[int, tuple[int, int]]:
    """``{village id: (windows met, windows settled)}`` from the trainings register.

    :func:`tracker.trainings.services.figures_for_branches` evaluates every
    branch's training obligation windows with one query.
    """
    from tracker.models import Branch
    from tracker.trainings.services import figures_for_branches

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
    }
