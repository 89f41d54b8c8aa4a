"""Compliance snapshots (roll-ups) and the read side of the dashboard pages.

Write side — :func:`compute_period` reads the ledgers in bulk
(:mod:`tracker.dashboard.sources`), scores every village
(:func:`tracker.dashboard.rules.score`) and replaces the period's
:class:`~tracker.dashboard.models.VillageScore` rows. The jobs process calls it
every ``[jobs] rollup_minutes`` for the current and previous periods; a page
that finds a period without snapshots computes the villages it shows once.

Read side — every page figure is one SQL aggregate over the snapshot rows
(``AVG(score)``, ``SUM(numerators)``, ``SUM(denominators)`` grouped by the
township/county column), never a Python loop over ledger rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from types import SimpleNamespace
from typing import Any

from flask import url_for
from sqlalchemy import Float, case, cast, delete, func, insert, select
from sqlalchemy.orm import InstrumentedAttribute
from werkzeug.routing import BuildError

from tracker import clock
from tracker.calendar_service import load_calendar
from tracker.config import current_settings
from tracker.dashboard import rules
from tracker.dashboard.models import MissedObligation, VillageScore
from tracker.dashboard.sources import (
    camera_figures,
    figures_for_score,
    matter_figures,
    meeting_figures,
    training_figures,
    villages_under,
)
from tracker.errors import DomainError
from tracker.extensions import db
from tracker.matters.figures import OverdueLine
from tracker.matters.figures import cutoff as matter_cutoff
from tracker.matters.figures import overdue_backlog as matters_overdue_backlog
from tracker.meetings.figures import kind_names
from tracker.models import Region, RegionLevel, utcnow
from tracker.models.regions import in_subtree, subtree_ids
from tracker.periods import Period, PeriodError, PeriodKind

SUM_COLUMNS = (
    "meetings_due",
    "meetings_met",
    "meetings_met_late",
    "records_total",
    "records_late",
    "records_edited",
    "matters_received",
    "matters_due",
    "matters_on_time",
    "matters_overdue_open",
    "bad_ratings",
    "callbacks_on_time",
    "cameras",
    "cam_open_s",
    "cam_up_s",
    "cam_live_s",
    "cam_unknown_s",
    "cam_excused_s",
    "trainings_due",
    "trainings_met",
)


class DashboardError(DomainError):
    """Bad dashboard input (period, region); the message is for the user."""

    field = "period"


def scoring_config() -> rules.ScoringConfig:
    """Weights, targets and bands from ``config.toml [dashboard]``."""
    return rules.ScoringConfig.from_settings(current_settings().dashboard.model_dump())


def active_components(config: rules.ScoringConfig) -> list[rules.ComponentSpec]:
    """Components that have a data source (the columns of tables and exports)."""
    return [c for c in rules.COMPONENTS if c.key not in config.unavailable]


def parse_period(text: str | None, default_kind: PeriodKind = PeriodKind.month) -> Period:
    """The period asked for, or else the last finished month.

    The default is last month, not this one: in a running month most
    obligations are still pending, and "how did we do" is about a closed month.
    A bad string → :class:`DashboardError`.
    """
    if not text:
        return Period.containing(clock.today(), default_kind).previous()
    try:
        period = Period.parse(text)
    except PeriodError as exc:
        raise DashboardError(str(exc)) from exc
    if period.start > clock.today():
        raise DashboardError(f"{period.label}尚未开始，请选择已开始的期间")
    return period


# -- write side -------------------------------------------------------------------


def compute_period(period: Period, path: str = "/", today: date | None = None) -> int:
    """(Re)compute the snapshots of every village under ``path`` for ``period``.

    Replaces the period's rows for those villages (delete + bulk insert) and
    flushes; the caller (job, view) commits. Returns the number of villages.
    """
    today = today or clock.today()
    config = scoring_config()
    villages = villages_under(path)
    meetings = meeting_figures(villages, path, period, today)
    matters = matter_figures(path, period, today)
    cameras = camera_figures(path, period)
    trainings = training_figures(path, period, today)
    in_path = subtree_ids(path)
    db.session.execute(
        delete(VillageScore).where(
            VillageScore.period == period.key, VillageScore.region_id.in_(in_path)
        )
    )
    db.session.execute(
        delete(MissedObligation).where(
            MissedObligation.period == period.key, MissedObligation.region_id.in_(in_path)
        )
    )
    now = utcnow()
    rows: list[dict[str, Any]] = []
    missed: list[dict[str, Any]] = []
    for v in villages:
        m = meetings[v.id]
        s = matters.get(v.id)
        c = cameras.get(v.id)
        row: dict[str, Any] = {
            "period": period.key,
            "region_id": v.id,
            "township_id": v.township_id,
            "county_id": v.county_id,
            "city_id": v.city_id,
            "meetings_due": m.due,
            "meetings_met": m.met,
            "meetings_met_late": m.met_late,
            "records_total": m.records_total,
            "records_late": m.records_late,
            "records_edited": m.records_edited,
            "matters_received": s.received if s else 0,
            "matters_due": s.due if s else 0,
            "matters_on_time": s.on_time if s else 0,
            "matters_overdue_open": s.overdue_open if s else 0,
            "bad_ratings": s.bad_ratings if s else 0,
            "callbacks_on_time": s.callbacks_on_time if s else 0,
            "cameras": c.cameras if c else 0,
            "cam_open_s": c.open_s if c else 0,
            "cam_up_s": c.up_s if c else 0,
            "cam_live_s": c.live_s if c else 0,
            "cam_unknown_s": c.unknown_s if c else 0,
            "cam_excused_s": c.excused_s if c else 0,
            "trainings_met": trainings.get(v.id, (0, 0))[0],
            "trainings_due": trainings.get(v.id, (0, 0))[1],
            "computed_at": now,
        }
        sc = rules.score(figures_for_score(SimpleNamespace(**row)), config)
        row["score"] = sc.value
        row["band"] = sc.band.value
        rows.append(row)
        for kind, n in m.missing_by_kind.items():
            missed.append(
                {
                    "period": period.key,
                    "region_id": v.id,
                    "township_id": v.township_id,
                    "county_id": v.county_id,
                    "city_id": v.city_id,
                    "kind": kind,
                    "missing": n,
                }
            )
    if rows:
        db.session.execute(insert(VillageScore), rows)
    if missed:
        db.session.execute(insert(MissedObligation), missed)
    db.session.flush()
    return len(rows)


def periods_to_refresh(today: date, months_back: int = 1) -> list[Period]:
    """What the roll-up job recomputes: this and the previous month(s), quarter and year.

    Late entries (补录) change past periods, so the previous period of each kind
    is refreshed too; older periods are refreshed by ``tracker dashboard-rollup``.
    """
    out: list[Period] = []
    for kind in (PeriodKind.month, PeriodKind.quarter, PeriodKind.year):
        current = Period.containing(today, kind)
        out.extend(current.last(months_back + 1 if kind == PeriodKind.month else 2))
    return out


def ensure_committed(period: Period, region: Region, trend_months: int = 0) -> None:
    """:func:`ensure_period` for a request: commit what was computed.

    Two web processes may compute the same missing period at once; the loser
    hits the unique constraint, rolls back and reads the winner's rows.
    """
    from sqlalchemy.exc import IntegrityError

    try:
        if ensure_period(period, region, trend_months):
            db.session.commit()
    except IntegrityError:
        db.session.rollback()


def ensure_period(period: Period, region: Region, trend_months: int = 0) -> bool:
    """Compute snapshots for ``region`` where any of its villages lacks one.

    Checks the period (and, with ``trend_months``, the months of its trend) in one
    ``GROUP BY period`` query and computes only what is missing. Returns True
    when it computed (the caller commits). Pages call this so that a period never
    shows empty just because the jobs process has not reached it yet.
    """
    wanted = [period]
    if trend_months:
        today = clock.today()
        wanted += [m for m in trend_periods(period, trend_months) if m.start <= today]
    n_villages = db.session.scalar(
        select(func.count(Region.id)).where(
            Region.level == RegionLevel.village, in_subtree(region.path)
        )
    )
    col = level_column(region.level)
    have = dict(
        db.session.execute(
            select(VillageScore.period, func.count(VillageScore.id))
            .where(VillageScore.period.in_({p.key for p in wanted}), col == region.id)
            .group_by(VillageScore.period)
        ).all()
    )
    computed = False
    for p in dict.fromkeys(wanted):
        if have.get(p.key, 0) < (n_villages or 0):
            compute_period(p, region.path)
            computed = True
    return computed


# -- read side ---------------------------------------------------------------------


def level_column(level: RegionLevel) -> InstrumentedAttribute[Any]:
    """The snapshot column holding the id of a region of ``level``."""
    return {
        RegionLevel.city: VillageScore.city_id,
        RegionLevel.county: VillageScore.county_id,
        RegionLevel.township: VillageScore.township_id,
        RegionLevel.village: VillageScore.region_id,
    }[level]


def child_column(level: RegionLevel) -> InstrumentedAttribute[Any]:
    """The column grouping a region's snapshot rows by its children."""
    return {
        RegionLevel.city: VillageScore.county_id,
        RegionLevel.county: VillageScore.township_id,
        RegionLevel.township: VillageScore.region_id,
        RegionLevel.village: VillageScore.region_id,
    }[level]


@dataclass
class RegionScore:
    """A region's score for a period: mean of village scores plus pooled components."""

    region_id: int
    name: str
    level: RegionLevel
    score: rules.Score
    villages: int
    scored: int
    sums: SimpleNamespace
    computed_at: datetime | None
    trend: list[float | None] = field(default_factory=list)
    bands: SimpleNamespace = field(default_factory=SimpleNamespace)

    @property
    def band(self) -> rules.Band:
        return self.score.band


def _aggregate_columns() -> list[Any]:
    cols: list[Any] = [
        func.avg(VillageScore.score),
        func.count(VillageScore.id),
        func.count(VillageScore.score),
        func.min(VillageScore.computed_at),
    ]
    cols += [
        func.coalesce(func.sum(case((VillageScore.band == b, 1), else_=0)), 0)
        for b in ("red", "amber", "green")
    ]
    cols += [func.coalesce(func.sum(getattr(VillageScore, c)), 0) for c in SUM_COLUMNS]
    return cols


def _region_score(key: int, name: str, level: RegionLevel, values: Sequence[Any]) -> RegionScore:
    mean, n, scored, computed, red, amber, green, *sums = values
    ns = SimpleNamespace(**{c: int(v or 0) for c, v in zip(SUM_COLUMNS, sums, strict=True)})
    config = scoring_config()
    pooled = rules.score(figures_for_score(ns), config)
    value = round(float(mean), 1) if mean is not None else None
    if level == RegionLevel.village:
        # A village's own score is exactly its snapshot's (same as the mean of one).
        value = pooled.value if n else None
    sc = rules.Score(value, rules.band_for(value, config), pooled.components)
    if computed is not None and computed.tzinfo is None:
        from datetime import UTC

        computed = computed.replace(tzinfo=UTC)
    bands = SimpleNamespace(red=int(red or 0), amber=int(amber or 0), green=int(green or 0))
    return RegionScore(
        key, name, level, sc, int(n or 0), int(scored or 0), ns, computed, bands=bands
    )


def region_score(region: Region, period: Period) -> RegionScore:
    """The score of one region (any level) for a period, from the snapshots."""
    col = level_column(region.level)
    values = db.session.execute(
        select(*_aggregate_columns()).where(VillageScore.period == period.key, col == region.id)
    ).one()
    return _region_score(region.id, region.name, region.level, values)


def child_scores(
    region: Region,
    period: Period,
    trend_months: int = 12,
    trends: dict[int, list[float | None]] | None = None,
) -> list[RegionScore]:
    """Scores of a region's children (one ``GROUP BY``), each with a 12-month trend.

    ``trends`` (from :func:`trend_by`) may be passed when the caller has it already.
    """
    col = level_column(region.level)
    group = child_column(region.level)
    names = dict(
        db.session.execute(
            select(Region.id, Region.name).where(Region.parent_id == region.id)
        ).all()
    )
    out = []
    for key, *values in db.session.execute(
        select(group, *_aggregate_columns())
        .where(VillageScore.period == period.key, col == region.id)
        .group_by(group)
    ):
        child_level = region.level.child or RegionLevel.village
        out.append(_region_score(key, names.get(key, str(key)), child_level, values))
    if trends is None:
        trends = trend_by(region, period, trend_months)
    for row in out:
        row.trend = trends.get(row.region_id, [])
    out.sort(key=lambda r: names.get(r.region_id, ""))
    return out


def trend_periods(period: Period, n: int = 12) -> list[Period]:
    """The ``n`` months ending with the period's last month (oldest first)."""
    return Period.month_of(period.end).last(n)


def trend_by(region: Region, period: Period, n: int = 12) -> dict[int, list[float | None]]:
    """Monthly mean score of each child of ``region`` (plus ``region.id`` itself)."""
    months = trend_periods(period, n)
    keys = [m.key for m in months]
    col = level_column(region.level)
    group = child_column(region.level)
    out: dict[int, dict[str, float | None]] = {}
    if region.level != RegionLevel.village:  # a village has no children
        for key, pkey, mean in db.session.execute(
            select(group, VillageScore.period, func.avg(VillageScore.score))
            .where(VillageScore.period.in_(keys), col == region.id)
            .group_by(group, VillageScore.period)
        ):
            out.setdefault(key, {})[pkey] = float(mean) if mean is not None else None
    for pkey, mean in db.session.execute(
        select(VillageScore.period, func.avg(VillageScore.score))
        .where(VillageScore.period.in_(keys), col == region.id)
        .group_by(VillageScore.period)
    ):
        out.setdefault(region.id, {})[pkey] = float(mean) if mean is not None else None
    return {k: [v.get(p) for p in keys] for k, v in out.items()}


@dataclass(frozen=True)
class GridCell:
    """One village in the map-like grid."""

    village_id: int
    name: str
    township_id: int
    township: str
    score: float | None
    band: str


def village_grid(region: Region, period: Period) -> list[GridCell]:
    """Every village under the region with its score and band (one joined query).

    Rows of the grid are townships; for a city (hundreds of townships) they are
    counties, so the grid stays one screen high.
    """
    col = level_column(region.level)
    group_col = (
        VillageScore.county_id if region.level == RegionLevel.city else VillageScore.township_id
    )
    group = Region.__table__.alias("grp")
    rows = db.session.execute(
        select(
            VillageScore.region_id,
            Region.name,
            group_col,
            group.c.name,
            VillageScore.score,
            VillageScore.band,
        )
        .join(Region, Region.id == VillageScore.region_id)
        .join(group, group.c.id == group_col)
        .where(VillageScore.period == period.key, col == region.id)
        .order_by(VillageScore.county_id, group.c.name, VillageScore.township_id, Region.name)
    ).all()
    return [GridCell(*r) for r in rows]


@dataclass(frozen=True)
class Problem:
    """One line of "top problems": a label, a figure, a link."""

    label: str
    detail: str
    value: float
    url: str | None
    region_id: int | None = None


def top_problems(region: Region, period: Period, limit: int = 8) -> dict[str, list[Problem]]:
    """Most-missed obligations, most-overdue villages, darkest halls of the period."""
    col = level_column(region.level)
    mcol = {
        RegionLevel.city: MissedObligation.city_id,
        RegionLevel.county: MissedObligation.county_id,
        RegionLevel.township: MissedObligation.township_id,
        RegionLevel.village: MissedObligation.region_id,
    }[region.level]
    names = kind_names()
    missed = [
        Problem(
            names.get(kind, kind),
            f"{villages} 个村缺",
            float(total),
            None,
        )
        for kind, total, villages in db.session.execute(
            select(
                MissedObligation.kind,
                func.sum(MissedObligation.missing),
                func.count(func.distinct(MissedObligation.region_id)),
            )
            .where(MissedObligation.period == period.key, mcol == region.id)
            .group_by(MissedObligation.kind)
            .order_by(func.sum(MissedObligation.missing).desc())
            .limit(limit)
        )
    ]
    overdue = [
        Problem(name, f"逾期未办结 {n} 件", float(n), village_url(rid, period), rid)
        for rid, name, n in db.session.execute(
            select(VillageScore.region_id, Region.name, VillageScore.matters_overdue_open)
            .join(Region, Region.id == VillageScore.region_id)
            .where(
                VillageScore.period == period.key,
                col == region.id,
                VillageScore.matters_overdue_open > 0,
            )
            .order_by(VillageScore.matters_overdue_open.desc(), Region.name)
            .limit(limit)
        )
    ]
    counted = VillageScore.cam_open_s - VillageScore.cam_unknown_s - VillageScore.cam_excused_s
    ratio = cast(VillageScore.cam_up_s, Float) / func.nullif(counted, 0)
    dark = [
        Problem(
            name,
            f"完好率 {r * 100:.1f}%，{cams} 路摄像头",
            float(r),
            village_url(rid, period),
            rid,
        )
        for rid, name, r, cams in db.session.execute(
            select(VillageScore.region_id, Region.name, ratio, VillageScore.cameras)
            .join(Region, Region.id == VillageScore.region_id)
            .where(VillageScore.period == period.key, col == region.id, counted > 0)
            .order_by(ratio.asc(), Region.name)
            .limit(limit)
        )
        if r is not None and r < 1
    ]
    return {"missed": missed, "overdue": overdue, "dark": dark}


@dataclass(frozen=True)
class Backlog:
    """The open overdue matters (逾期未办结) under a region as of a period's cut-off."""

    as_of: date
    total: int
    lines: list[OverdueLine]

    def url(self, matter_id: int) -> str | None:
        return record_url("matters.detail", matter_id=matter_id)


def overdue_backlog(region: Region, period: Period, limit: int = 50) -> Backlog:
    """The backlog every dashboard page lists, from :func:`tracker.matters.figures.overdue_backlog`.

    As of the period's cut-off (its last day, or today while it runs), oldest first,
    with the working days overdue — the same rows as the 逾期事项 list on that day.
    """
    as_of = matter_cutoff(period.start, period.end, clock.today())
    total, lines = matters_overdue_backlog(region.path, as_of, load_calendar(), limit=limit)
    return Backlog(as_of, total, lines)


# -- links to the record pages of the other packages ---------------------------------


def record_url(endpoint: str, **values: Any) -> str | None:
    """``url_for`` of another package's page, or None while that page does not exist."""
    try:
        return url_for(endpoint, **values)
    except BuildError:
        return None


def village_url(village_id: int, period: Period) -> str | None:
    return record_url("dashboard.region", region_id=village_id, period=period.key)


def red_villages(path: str, period: Period) -> int:
    """How many villages under ``path`` are red in the period's snapshots."""
    in_path = subtree_ids(path)
    return int(
        db.session.scalar(
            select(func.count(VillageScore.id)).where(
                VillageScore.period == period.key,
                VillageScore.region_id.in_(in_path),
                VillageScore.band == rules.Band.red.value,
            )
        )
        or 0
    )
