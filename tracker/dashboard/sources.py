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
from datetime import date, datetime
from typing import Any

from flask import current_app
from sqlalchemy import and_, case, func, or_, select

from tracker.extensions import db
from tracker.models import Region, RegionLevel
from tracker.periods import SHANGHAI, Period


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
        .where(Region.level == RegionLevel.village, Region.path.like(path + "%"))
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


def _local_date(value: datetime) -> date:
    return value.astimezone(SHANGHAI).date()


def meeting_figures(
    villages: Iterable[VillageRef],
    path: str,
    period: Period,
    today: date,
    keep_statuses: bool = False,
) -> dict[int, MeetingFigures]:
    """Obligations (from the meetings engine) and late/edited records per village.

    Loads branches, party groups and the meetings of the years the period's
    windows cover in one query each, then runs
    :func:`tracker.meetings.rules.evaluate_many` (the obligations engine) over
    them. Obligations whose window has not ended and that are not yet met are
    *pending*: neither met nor missed.
    """
    from tracker.meetings import rules as mr
    from tracker.meetings.models import Meeting, MeetingKind, MeetingRuleOverride
    from tracker.models import Branch, PartyGroup

    vlist = list(villages)
    out: dict[int, MeetingFigures] = {v.id: MeetingFigures() for v in vlist}
    if not vlist:
        return out
    county_of = {v.id: v.county_id for v in vlist}
    village_ids = select(Region.id).where(Region.path.like(path + "%")).scalar_subquery()
    settings = current_app.config["SETTINGS"]
    kinds = list(mr.BUILTIN_KINDS)
    custom = db.session.execute(
        select(
            MeetingKind.code, MeetingKind.name, MeetingKind.frequency, MeetingKind.needs_quorum
        ).where(MeetingKind.active.is_(True))
    ).all()
    rules_cfg: dict[str, Any] = dict(settings["rules"])
    for code, name, freq, quorum in custom:
        kinds.append(mr.KindDef(code, name, needs_quorum=bool(quorum), builtin=False))
        rules_cfg[code] = freq
    default_rules = mr.rules_from_config(rules_cfg, [k.code for k in kinds])
    overrides: dict[int, dict[str, str]] = defaultdict(dict)
    for rid, kind, freq in db.session.execute(
        select(
            MeetingRuleOverride.region_id, MeetingRuleOverride.kind, MeetingRuleOverride.frequency
        )
    ):
        overrides[rid][kind] = freq
    rules_by_county: dict[int | None, mr.Rules] = {
        cid: mr.merge_rules(default_rules, o) for cid, o in overrides.items()
    }

    branch_rows = db.session.execute(
        select(Branch.id, Branch.region_id, Branch.tracked_from).where(
            Branch.region_id.in_(village_ids)
        )
    ).all()
    village_of_branch = {b.id: b.region_id for b in branch_rows}
    branches = [
        mr.BranchFacts(b.id, b.tracked_from, county_of.get(b.region_id)) for b in branch_rows
    ]
    groups = [
        mr.GroupFacts(g.id, g.branch_id, g.name, g.created_on, g.dissolved_on)
        for g in db.session.execute(
            select(
                PartyGroup.id,
                PartyGroup.branch_id,
                PartyGroup.name,
                PartyGroup.created_on,
                PartyGroup.dissolved_on,
            ).where(PartyGroup.region_id.in_(village_ids))
        )
    ]
    eperiod = mr.Period.parse(period.key)
    lo = date(period.year, 1, 1)
    hi = date(period.end.year, 12, 31)
    lo_utc = Period.parse(str(lo.year)).utc_bounds()[0]
    hi_utc = Period.parse(str(hi.year)).utc_bounds()[1]
    quorum_kinds = {k.code for k in kinds if k.needs_quorum}
    facts = []
    p_lo, p_hi = period.start, period.end
    for row in db.session.execute(
        select(
            Meeting.id,
            Meeting.branch_id,
            Meeting.region_id,
            Meeting.kind,
            Meeting.group_id,
            Meeting.started_at,
            Meeting.late,
            Meeting.quorum_met,
            Meeting.version,
            Meeting.deleted_at,
        ).where(
            Meeting.region_id.in_(village_ids),
            Meeting.started_at >= lo_utc,
            Meeting.started_at < hi_utc,
        )
    ):
        held = _local_date(row.started_at)
        counts = row.deleted_at is None and (
            row.kind not in quorum_kinds or row.quorum_met is not False
        )
        facts.append(
            mr.MeetingFact(row.id, row.branch_id, row.kind, held, row.group_id, row.late, counts)
        )
        if row.deleted_at is None and p_lo <= held <= p_hi and row.region_id in out:
            fig = out[row.region_id]
            fig.records_total += 1
            fig.records_late += int(bool(row.late))
            fig.records_edited += int((row.version or 1) > 1)
    results = mr.evaluate_many(
        branches,
        groups,
        facts,
        rules_by_county,
        default_rules,
        eperiod,
        today,
        kinds,
        int(settings["rules"].get("due_soon_days", 7)),
    )
    for branch_id, statuses in results.items():
        fig = out[village_of_branch[branch_id]]
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


BAD_RATINGS = ("dissatisfied", "very_dissatisfied")
OPEN_STATUSES = ("accepted", "paused")


def matter_figures(path: str, period: Period, today: date) -> dict[int, MatterFigures]:
    """Service-matter figures per village (three ``GROUP BY region_id`` queries).

    The service package keeps ``on_time``, ``due_on``, ``callback_on_time`` …
    denormalised on :class:`~tracker.matters.models.ServiceMatter`; it offers no
    bulk measure function yet, so the aggregate is written here against its model.

    - *due in the period*: completed in it (on time or not), or still open with
      ``due_on`` inside the period and before today (overdue);
    - *bad ratings*: 不满意/非常不满意 (not voided by an appeal) whose call-back
      fell due in the period (or was already made); on time per ``callback_on_time``.
    """
    from tracker.matters.models import ServiceMatter as SM

    scope = select(Region.id).where(Region.path.like(path + "%")).scalar_subquery()
    out: dict[int, MatterFigures] = defaultdict(MatterFigures)
    lo, hi = period.start, period.end
    last_due = min(hi, date.fromordinal(today.toordinal() - 1))
    for rid, received in db.session.execute(
        select(SM.region_id, func.count())
        .where(SM.region_id.in_(scope), SM.received_on >= lo, SM.received_on <= hi)
        .group_by(SM.region_id)
    ):
        out[rid].received = received
    for rid, done, on_time in db.session.execute(
        select(
            SM.region_id,
            func.count(),
            func.sum(case((SM.on_time.is_(True), 1), else_=0)),
        )
        .where(SM.region_id.in_(scope), SM.completed_on >= lo, SM.completed_on <= hi)
        .group_by(SM.region_id)
    ):
        out[rid].due += done
        out[rid].on_time += int(on_time or 0)
    for rid, overdue in db.session.execute(
        select(SM.region_id, func.count())
        .where(
            SM.region_id.in_(scope),
            SM.status.in_(OPEN_STATUSES),
            SM.due_on >= lo,
            SM.due_on <= last_due,
        )
        .group_by(SM.region_id)
    ):
        out[rid].due += overdue
        out[rid].overdue_open += overdue
    for rid, bad, cb in db.session.execute(
        select(
            SM.region_id,
            func.count(),
            func.sum(case((SM.callback_on_time.is_(True), 1), else_=0)),
        )
        .where(
            SM.region_id.in_(scope),
            SM.rating.in_(BAD_RATINGS),
            SM.rating_void.is_(False),
            SM.callback_due_on >= lo,
            SM.callback_due_on <= hi,
            or_(SM.callback_due_on < today, SM.called_back_on.is_not(None)),
        )
        .group_by(SM.region_id)
    ):
        out[rid].bad_ratings = bad
        out[rid].callbacks_on_time = int(cb or 0)
    return dict(out)


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
    """Camera seconds per village from the halls package's per-camera daily roll-up.

    :class:`~tracker.halls.models.CameraDailyRollup` holds, per camera and
    finished local day, the opening-time seconds up / down / unknown / excused
    (computed by the halls job from the state intervals and opening hours). The
    halls package has no bulk per-village reader yet, so the sum is taken here:
    one ``GROUP BY region_id``. 完好 (``up_s``) counts; 在线 adds the seconds the
    stream was live but the picture bad; unknown and approved-excuse seconds are
    left out of the denominator.
    """
    from tracker.halls.models import Camera
    from tracker.halls.models import CameraDailyRollup as R

    scope = select(Region.id).where(Region.path.like(path + "%")).scalar_subquery()
    out: dict[int, CameraFigures] = defaultdict(CameraFigures)
    for rid, n in db.session.execute(
        select(Camera.region_id, func.count())
        .where(Camera.region_id.in_(scope), Camera.active.is_(True))
        .group_by(Camera.region_id)
    ):
        out[rid].cameras = n
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
    return dict(out)


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
    }
