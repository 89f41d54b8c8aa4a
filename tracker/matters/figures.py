"""The figures of the service ledger, each defined once (限时办结, 逾期, 差评回访).

Every page, list, to-do, statistics table, dashboard, export and API that shows
one of these numbers calls a function of this module; ``docs/figures.md``
explains them with examples. The definitions:

* **open on day T** (未办结): received on or before T and not completed by the
  end of T (``completed_on`` empty or after T). For T = today that is exactly
  "status 办理中/待补正".
* **逾期未办结 on day T** (overdue): open on T with a due date before T. A paused
  matter (待补正) has no due date while the clock stops, so it is never overdue.
  Days overdue are counted in working days from the due date to T.
* **a period's cut-off** T = the period's last day, or today while it runs.
* **限时办结 judged in a period** (the denominator of 按时办结率) — the matters
  the period is answerable for:

  1. those *due* in the period that are settled by the cut-off: completed (on
     time or late), or still open after their due date; a matter due on the
     cut-off day itself and still open is not judged yet;
  2. the **backlog**: those due before the period that were still open when it
     began (completed during it, late, or still open) — an open matter 213
     working days late weighs on every period it stays open in.

  **按时办结** (the numerator): judged matters completed on or before their due
  date (necessarily due in the period). 按时办结率 = 按时办结 ÷ judged.
* **超时办结 in a period** (completed late): completed in the period after the
  due date.
* **差评回访 judged in a period**: the same shape for call-backs of bad ratings
  (不满意/非常不满意, not voided on appeal): call-backs due in the period that
  were made by the cut-off or are overdue at it, plus overdue call-backs from
  before still not made when the period began; 按时回访 = made by the deadline.
* **受理** (received), 转办率, 满意率 and 平均用时 count the matters *received* in
  the period (a cohort).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from flask_babel import gettext
from sqlalchemy import ColumnElement, Select, and_, case, func, or_, select
from sqlalchemy.orm import aliased, selectinload

from tracker.extensions import db
from tracker.matters import rules
from tracker.matters.models import MatterType, ServiceMatter
from tracker.models import Region, RegionLevel
from tracker.models.regions import in_subtree, subtree_ids
from tracker.scope import Scope
from tracker.workdays import WorkCalendar

SM = ServiceMatter


def cutoff(start: date, end: date, today: date) -> date:
    """The day a period's figures are judged on: its last day, or today while it runs."""
    return min(end, today)


# -- the definitions, as SQL expressions -----------------------------------------------------


def _open_halves(day: date) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    """Not completed by the end of ``day``: still open, or completed after it (disjoint)."""
    return SM.completed_on.is_(None), SM.completed_on > day


def _past_due(day: date) -> ColumnElement[bool]:
    return and_(SM.due_on.is_not(None), SM.due_on < day)


def open_on(day: date) -> ColumnElement[bool]:
    """未办结 at the end of ``day``."""
    return and_(SM.received_on <= day, or_(*_open_halves(day)))


def overdue_on(day: date) -> ColumnElement[bool]:
    """逾期未办结 at the end of ``day``: open and past the due date."""
    return and_(open_on(day), _past_due(day))


def _judged(due: Any, done: Any, start: date, end: date, cut: date) -> ColumnElement[bool]:
    due_in_period = and_(due >= start, due <= end, or_(done <= cut, due < cut))
    backlog = and_(due < start, or_(done.is_(None), done >= start))
    return or_(due_in_period, backlog)


def judged(start: date, end: date, today: date) -> ColumnElement[bool]:
    """The matters a period's 限时办结 judges (see the module docstring)."""
    return _judged(SM.due_on, SM.completed_on, start, end, cutoff(start, end, today))


def judged_on_time(start: date, end: date, today: date) -> ColumnElement[bool]:
    """按时办结: judged and completed by the due date."""
    return and_(judged(start, end, today), SM.on_time.is_(True))


def completed_late(start: date, end: date) -> ColumnElement[bool]:
    """超时办结: completed in the period after the due date."""
    return and_(SM.completed_on >= start, SM.completed_on <= end, SM.on_time.is_(False))


def bad_rating() -> ColumnElement[bool]:
    """A bad rating (不满意/非常不满意) that was not voided on appeal."""
    return and_(SM.rating.in_(list(rules.BAD_RATINGS)), SM.rating_void.is_(False))


def callbacks_judged(start: date, end: date, today: date) -> ColumnElement[bool]:
    """Bad ratings whose call-back a period judges."""
    return and_(
        bad_rating(),
        SM.callback_due_on.is_not(None),
        _judged(SM.callback_due_on, SM.called_back_on, start, end, cutoff(start, end, today)),
    )


def callbacks_on_time(start: date, end: date, today: date) -> ColumnElement[bool]:
    """按时回访: judged call-backs made by their deadline."""
    return and_(callbacks_judged(start, end, today), SM.callback_on_time.is_(True))


# -- lists ------------------------------------------------------------------------------------


def overdue_stmt(scope: Scope, as_of: date) -> Select[Any]:
    """Scoped select of the matters overdue on ``as_of``, most overdue first.

    The 逾期事项 list, the home to-do, the API's ``view=overdue`` and the
    dashboard's backlog all use it.
    """
    # What the list shows of each row, loaded for all rows at once (no query per matter).
    return (
        scope.select(SM)
        .where(overdue_on(as_of))
        .order_by(SM.due_on, SM.id)
        .options(
            selectinload(SM.region),
            selectinload(SM.matter_type),
            selectinload(SM.first_responder),
            selectinload(SM.handler),
        )
    )


def overdue_count(where: ColumnElement[bool], as_of: date) -> int:
    """How many matters ``where`` selects are :func:`overdue_on` ``as_of``.

    The same rows as ``count(*) WHERE overdue_on(as_of)``, counted as its two
    disjoint halves — still open, and completed after ``as_of`` — so that each
    half reads ``ix_service_matter_open`` alone (an OR of the two would read the
    table: 95 → 14 ms for a city of 10,000 villages on PostgreSQL). Each half is
    :func:`overdue_on` with its OR replaced by that half (the same parts, from
    :func:`_open_halves`): with the OR still inside, PostgreSQL combined two bitmap
    scans of the index and read the table's pages (6,386 → 201 buffers for a
    province's 11,376 open overdue matters; the count now an index-only scan).
    """
    still_open, done_later = (
        select(func.count())
        .where(SM.received_on <= as_of, half, _past_due(as_of), where)
        .scalar_subquery()
        for half in _open_halves(as_of)
    )
    return int(db.session.scalar(select(still_open + done_later)) or 0)


@dataclass(frozen=True)
class OverdueLine:
    """One open overdue matter as of a day (the dashboard's backlog list)."""

    id: int
    region_id: int
    village: str
    serial_no: str
    type_name: str
    received_on: date
    due_on: date
    working_days_overdue: int


def overdue_backlog(
    path: str, as_of: date, calendar: WorkCalendar, limit: int | None = None
) -> tuple[int, list[OverdueLine]]:
    """(how many, the oldest ``limit`` of them) matters overdue on ``as_of`` under ``path``.

    ``path`` is a region's materialized path (the caller checked the scope).
    """
    village = aliased(Region)
    where = and_(overdue_on(as_of), in_subtree(path, village))
    # Counted over the villages' ids (an IN list the planner reads by the region index),
    # not through the join: SQLite would walk the due_on index over every overdue
    # matter of the whole database to count one county's (45 ms → 1 ms at a city).
    total = overdue_count(SM.region_id.in_(subtree_ids(path)), as_of)
    stmt = (
        select(SM.id, SM.region_id, village.name, SM.serial_no, MatterType.name)
        .add_columns(SM.received_on, SM.due_on)
        .join(village, village.id == SM.region_id)
        .join(MatterType, MatterType.id == SM.matter_type_id)
        .where(where)
        .order_by(SM.due_on, SM.id)
    )
    if limit is not None:
        stmt = stmt.limit(limit)
    lines = [
        OverdueLine(
            mid,
            rid,
            vname,
            serial,
            tname,
            received,
            due,
            calendar.working_days_between(due, as_of),
        )
        for mid, rid, vname, serial, tname, received, due in db.session.execute(stmt)
    ]
    return total, lines


# -- the bulk figures --------------------------------------------------------------------------


@dataclass(frozen=True)
class MatterMeasures:
    """The service-ledger figures of one region node for one period.

    ``received`` … ``satisfied`` count the matters received in the period;
    ``judged`` … ``overdue_open`` follow the 限时办结 definitions of this module.
    Rates are ``None`` when their denominator is zero.
    """

    region_id: int
    received: int = 0
    completed: int = 0  # of the received ones
    total_working_days: int = 0
    referred: int = 0
    rated: int = 0
    satisfied: int = 0
    judged: int = 0  # 应办结 (限时办结 judged in the period)
    on_time: int = 0  # 按时办结
    completed_late: int = 0  # 超时办结 in the period
    overdue_open: int = 0  # 逾期未办结 at the cut-off
    bad: int = 0  # 差评 whose call-back the period judges
    bad_called_back_on_time: int = 0
    bad_callback_overdue: int = 0  # call-backs overdue at the cut-off

    @property
    def on_time_rate(self) -> float | None:
        """按时办结率 = 按时办结 ÷ 应办结 (judged)."""
        return self.on_time / self.judged if self.judged else None

    @property
    def avg_working_days(self) -> float | None:
        """Average working days from receipt to completion (pauses excluded)."""
        return self.total_working_days / self.completed if self.completed else None

    @property
    def referral_rate(self) -> float | None:
        return self.referred / self.received if self.received else None

    @property
    def satisfaction_rate(self) -> float | None:
        """满意率: 非常满意 + 满意 + 基本满意 over valid ratings."""
        return self.satisfied / self.rated if self.rated else None

    @property
    def callback_on_time_rate(self) -> float | None:
        """按时回访率 = 按时回访 ÷ judged call-backs."""
        return self.bad_called_back_on_time / self.bad if self.bad else None

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out.update(
            on_time_rate=self.on_time_rate,
            avg_working_days=self.avg_working_days,
            referral_rate=self.referral_rate,
            satisfaction_rate=self.satisfaction_rate,
            callback_on_time_rate=self.callback_on_time_rate,
        )
        return out


# How many parent steps lie between a village and its ancestor at each level.
_LEVEL_DEPTH = {RegionLevel.township: 1, RegionLevel.county: 2, RegionLevel.city: 3}


def _count(cond: Any) -> Any:
    return func.coalesce(func.sum(case((cond, 1), else_=0)), 0)


def matter_measures(
    level: RegionLevel,
    start: date,
    end: date,
    *,
    today: date,
    under: Region | None = None,
    region_ids: Sequence[int] | None = None,
) -> dict[int, MatterMeasures]:
    """Figures of every region node at ``level`` for the period ``[start, end]``.

    One SQL statement whatever the number of regions (``GROUP BY`` the village,
    or its ancestor at ``level`` reached through ``parent_id`` joins), so the
    county dashboard can ask for 1,000 villages at once.

    * ``level`` — ``village``, ``township``, ``county`` or ``city``: the key of the result;
    * ``start``/``end`` — local dates, inclusive;
    * ``today`` — the cut-off of a running period (:func:`cutoff`);
    * ``under`` — limit to villages below this node (e.g. the user's scope node);
    * ``region_ids`` — limit to these nodes of ``level``.

    Returns ``{region_id: MatterMeasures}``; a node without any counted matter is
    absent — use ``result.get(rid) or MatterMeasures(rid)``.
    """
    cut = cutoff(start, end, today)
    village = aliased(Region)
    key: Any = SM.region_id
    joins: list[tuple[Any, Any]] = [(village, village.id == SM.region_id)]
    if level != RegionLevel.village:
        key = village.parent_id
        parent = village
        for _ in range(_LEVEL_DEPTH[level] - 1):
            up = aliased(Region)
            joins.append((up, up.id == parent.parent_id))
            key = up.parent_id
            parent = up
    received = and_(SM.received_on >= start, SM.received_on <= end)
    valid_rating = and_(received, SM.rating.is_not(None), SM.rating_void.is_(False))
    is_judged = judged(start, end, today)
    cb_judged = callbacks_judged(start, end, today)
    stmt = select(key.label("rid")).select_from(SM)
    for target, onclause in joins:
        stmt = stmt.join(target, onclause)
    stmt = stmt.add_columns(
        _count(received).label("received"),
        _count(and_(received, SM.completed_on.is_not(None))).label("completed"),
        func.coalesce(func.sum(case((received, SM.working_days_used), else_=0)), 0).label(
            "total_working_days"
        ),
        _count(and_(received, SM.referred.is_(True))).label("referred"),
        _count(valid_rating).label("rated"),
        _count(and_(valid_rating, SM.rating.in_(list(rules.GOOD_RATINGS)))).label("satisfied"),
        _count(is_judged).label("judged"),
        _count(and_(is_judged, SM.on_time.is_(True))).label("on_time"),
        _count(completed_late(start, end)).label("completed_late"),
        _count(overdue_on(cut)).label("overdue_open"),
        _count(cb_judged).label("bad"),
        _count(and_(cb_judged, SM.callback_on_time.is_(True))).label("bad_called_back_on_time"),
        _count(
            and_(
                bad_rating(),
                SM.callback_due_on < cut,
                or_(SM.called_back_on.is_(None), SM.called_back_on > cut),
            )
        ).label("bad_callback_overdue"),
    )
    # Only rows that can count anywhere: received in the period, or open / owing a call-back
    # at its start (the backlog), or due in it.
    stmt = stmt.where(SM.received_on <= end).where(
        or_(
            SM.received_on >= start,
            SM.completed_on.is_(None),
            SM.completed_on >= start,
            SM.due_on >= start,  # completed early, judged when due
            SM.callback_due_on >= start,
            and_(SM.callback_due_on.is_not(None), SM.called_back_on.is_(None)),
        )
    )
    if under is not None and under.level == RegionLevel.city:
        stmt = stmt.where(in_subtree(under.path, village))
    elif under is not None:
        # Below a city the villages as a list of ids, through the matters' region index:
        # a township's or county's matters are read, not the city's (a township 12×, a
        # county 2× faster at 1,000 villages). For a whole city the scan is cheaper.
        stmt = stmt.where(SM.region_id.in_(subtree_ids(under.path)))
    if region_ids is not None:
        stmt = stmt.where(key.in_(list(region_ids)))
    stmt = stmt.group_by(key)
    out: dict[int, MatterMeasures] = {}
    for row in db.session.execute(stmt).mappings():
        values = {k: int(v or 0) for k, v in row.items()}
        rid = values.pop("rid")
        m = MatterMeasures(region_id=rid, **values)
        if any(v for k, v in values.items()):
            out[rid] = m
    return out


@dataclass(frozen=True)
class JudgedLine:
    """A judged matter or call-back of a village that was not on time (the drill-down)."""

    id: int
    serial_no: str
    type_name: str
    received_on: date
    due_on: date | None
    completed_on: date | None
    problem: str
    overdue_open: bool


def not_on_time(
    village_id: int, start: date, end: date, today: date, calendar: WorkCalendar
) -> list[JudgedLine]:
    """Every matter behind a village's 限时办结 and 差评回访 shortfall in a period.

    Exactly the judged matters that are not on time (``judged − on_time``) and
    the judged call-backs not made on time, so the list's length matches the
    figures' difference.
    """
    cut = cutoff(start, end, today)
    late_matter = and_(judged(start, end, today), or_(SM.on_time.is_(None), SM.on_time.is_(False)))
    late_cb = and_(
        callbacks_judged(start, end, today),
        or_(SM.callback_on_time.is_(None), SM.callback_on_time.is_(False)),
    )
    rows = db.session.execute(
        select(SM, MatterType.name, late_matter.label("m"), late_cb.label("c"))
        .join(MatterType, MatterType.id == SM.matter_type_id)
        .where(SM.region_id == village_id, or_(late_matter, late_cb))
        .order_by(SM.due_on, SM.id)
    ).all()
    out = []
    for m, type_name, is_late, cb_late in rows:
        problems = []
        overdue = bool(
            m.due_on and m.due_on < cut and (m.completed_on is None or m.completed_on > cut)
        )
        if is_late and overdue and m.due_on:
            days = calendar.working_days_between(m.due_on, cut)
            problems.append(gettext("逾期 %(n)s 个工作日未办结", n=days))
        elif is_late and m.due_on and m.completed_on:
            days = calendar.working_days_between(m.due_on, m.completed_on)
            problems.append(gettext("超时办结（迟 %(n)s 个工作日）", n=days))
        if cb_late:
            problems.append(
                gettext("差评未按时回访")
                if m.called_back_on
                else gettext("差评未按时回访（仍未回访）")
            )
        out.append(
            JudgedLine(
                m.id,
                m.serial_no,
                type_name,
                m.received_on,
                m.due_on,
                m.completed_on,
                "；".join(problems),
                overdue,
            )
        )
    return out
