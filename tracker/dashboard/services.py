"""Compliance snapshots (roll-ups) and the read side of the dashboard pages.

Write side — :func:`compute_period` reads the ledgers in bulk
(:mod:`tracker.dashboard.sources`), scores every village
(:func:`tracker.dashboard.rules.score`) and replaces the period's
:class:`~tracker.dashboard.models.VillageScore` rows. The jobs process calls
:func:`refresh_changed` every ``[jobs] rollup_minutes`` for the current and
previous periods: it recomputes the townships of villages written since their
snapshot (:func:`changed_villages`), brings the others of a running period up to
the minute (:func:`refresh_live`: today's camera seconds) and recomputes a period
whole once its snapshots are from an earlier day; a page that finds a period
without snapshots computes the villages it shows once.

Read side — every page figure is one SQL aggregate over the snapshot rows
(``AVG(score)``, ``SUM(numerators)``, ``SUM(denominators)`` grouped by the
township/county column), never a Python loop over ledger rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from flask import url_for
from flask_babel import gettext
from sqlalchemy import case, delete, func, insert, select, update
from sqlalchemy.orm import InstrumentedAttribute, aliased
from werkzeug.routing import BuildError

from tracker import clock
from tracker.calendar_service import load_calendar
from tracker.config import current_settings
from tracker.dashboard import rules
from tracker.dashboard.models import (
    LedgerWrite,
    MissedObligation,
    RegionAggregate,
    VillageScore,
    cam_up_rate_of,
)
from tracker.dashboard.sources import (
    CAMERA_SECONDS,
    CameraFigures,
    camera_figures,
    camera_figures_between,
    figures_for_score,
    matter_figures,
    meeting_figures,
    secondment_figures,
    teams_figures,
    training_figures,
    villages_under,
)
from tracker.dashboard.writes import EVERY_REGION, store_pending
from tracker.errors import DomainError
from tracker.extensions import db
from tracker.formatting import percent
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
    "seconded_due",
    "seconded_met",
    "teams_due",
    "teams_met",
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
        raise DashboardError(gettext("%(period)s尚未开始，请选择已开始的期间", period=period.label))
    return period


# -- write side -------------------------------------------------------------------

# A subtree with more villages than this is computed one child subtree at a time
# (memory: a county's meetings and obligations, not a province's).
CHUNK_VILLAGES = 500


def compute_period(
    period: Period, path: str = "/", today: date | None = None, *, aggregate: bool = True
) -> int:
    """(Re)compute the snapshots of every village under ``path`` for ``period``.

    Replaces the period's rows for those villages (delete + bulk insert), then (unless
    ``aggregate=False``, for a caller that computes several subtrees) the period's
    region aggregates, and flushes; the caller (job, view) commits. Returns the number
    of villages. A snapshot's ``computed_at`` is the time its sources were read, so a
    ledger row written while it was computed counts as a change for the next run.
    """
    today = today or clock.today()
    villages = villages_under(path)
    if len(villages) > CHUNK_VILLAGES:
        # A province at once would hold every meeting of the year and every obligation
        # of 10,000 villages in memory; one child subtree at a time holds a county's.
        done = 0
        node_ids = [int(p) for p in path.strip("/").split("/") if p]
        parent = Region.parent_id == node_ids[-1] if node_ids else Region.parent_id.is_(None)
        for child in db.session.scalars(select(Region.path).where(parent).order_by(Region.path)):
            done += compute_period(period, child, today, aggregate=False)
        if aggregate:
            refresh_region_scores(period)
        db.session.flush()
        return done
    now = utcnow()
    config = scoring_config()
    meetings = meeting_figures(villages, path, period, today)
    matters = matter_figures(path, period, today)
    cameras, cameras_past = _camera_parts(path, period)
    trainings = training_figures(path, period, today)
    seconded = secondment_figures(villages, period, today)
    teams = teams_figures(villages, period, today, load_calendar())
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
    rows: list[dict[str, Any]] = []
    missed: list[dict[str, Any]] = []
    for v in villages:
        m = meetings[v.id]
        s = matters.get(v.id)
        c = cameras.get(v.id)
        cp = cameras_past.get(v.id)
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
            "cam_past_open_s": cp.open_s if cp else 0,
            "cam_past_up_s": cp.up_s if cp else 0,
            "cam_past_live_s": cp.live_s if cp else 0,
            "cam_past_unknown_s": cp.unknown_s if cp else 0,
            "cam_past_excused_s": cp.excused_s if cp else 0,
            "trainings_met": trainings.get(v.id, (0, 0))[0],
            "trainings_due": trainings.get(v.id, (0, 0))[1],
            "seconded_met": seconded.get(v.township_id, (0, 0))[0],
            "seconded_due": seconded.get(v.township_id, (0, 0))[1],
            "teams_met": teams.get(v.id, (0, 0))[0],
            "teams_due": teams.get(v.id, (0, 0))[1],
            "computed_at": now,
        }
        row["cam_up_rate"] = cam_up_rate_of(
            row["cam_up_s"], row["cam_open_s"], row["cam_unknown_s"], row["cam_excused_s"]
        )
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
    if aggregate:
        refresh_region_scores(period)
    db.session.flush()
    return len(rows)


def _camera_parts(
    path: str, period: Period
) -> tuple[dict[int, CameraFigures], dict[int, CameraFigures]]:
    """The period's camera figures per village, and their part of the days before the
    clock's local today (what a later run of the same day keeps: :func:`refresh_live`).

    Camera time is always read up to now (``uptime_bulk``), whatever ``today`` the
    other figures are judged on, so the split is at the clock's day. A period holding
    that day is read as its days before it plus the day itself (the sum is
    :func:`camera_figures` of the period: each day's figures are its own); any other
    period whole, all of it past.
    """
    today = clock.today()
    if not period.start <= today <= period.end:
        whole = camera_figures(path, period)
        return whole, whole
    live = camera_figures_between(path, today, today)
    if period.start == today:
        return live, {}
    past = camera_figures_between(path, period.start, today - timedelta(days=1))
    total = {
        rid: past.get(rid, CameraFigures()) + live.get(rid, CameraFigures())
        for rid in past.keys() | live.keys()
    }
    return total, past


def changed_villages(period: Period) -> set[int]:
    """Villages whose ledgers were written after their snapshot of ``period`` was taken,
    and villages without one: what :func:`refresh_changed` recomputes.

    Set-based: one statement over the write log (:class:`LedgerWrite`, kept by
    :mod:`tracker.dashboard.writes` for every row the score reads — inserted, changed
    or deleted; a township's or county's row marks the villages under it, region 0
    every village), plus one per older write-time column (meeting records, matter
    timeline steps, trainings, team registers), each joined to the
    snapshots' times. A write counts for every period of the village (an edit may move
    a record between periods); a rule or config change is not a ledger write —
    recompute everything then (``tracker dashboard-rollup --all``).
    """
    from tracker.matters.models import MatterEvent
    from tracker.meetings.models import Meeting
    from tracker.teams.duty_models import HouseholdContact, Pledge, PostAssignment
    from tracker.teams.models import ReserveCadre
    from tracker.trainings.models import Training

    snap = (
        select(VillageScore.region_id, VillageScore.computed_at)
        .where(VillageScore.period == period.key)
        .subquery()
    )
    oldest = db.session.scalar(
        select(func.min(VillageScore.computed_at)).where(VillageScore.period == period.key)
    )
    # A camera day roll-up stored is no change: it caches the figures of a finished day
    # that were read live until then (``uptime_bulk`` reads either); a roll-up deleted
    # because a late report, heartbeat, excuse or hours change touched its day is noted
    # in the write log (``tracker.halls.services.invalidate_rollups``).
    written: list[tuple[Any, Any, Any]] = [
        (Meeting.region_id, Meeting.updated_at, None),
        (MatterEvent.region_id, MatterEvent.recorded_at, None),
        (Training.region_id, func.coalesce(Training.updated_at, Training.entered_at), None),
        (Training.region_id, Training.deleted_at, None),
        (
            ReserveCadre.region_id,
            func.coalesce(ReserveCadre.updated_at, ReserveCadre.entered_at),
            None,
        ),
        (PostAssignment.region_id, PostAssignment.entered_at, None),
        (Pledge.region_id, Pledge.entered_at, None),
        (HouseholdContact.region_id, HouseholdContact.entered_at, None),
    ]
    changed: set[int] = set()
    if oldest is not None:
        changed |= _villages_written_after(snap, oldest)
    for region_col, at, extra in written if oldest is not None else []:
        stmt = (
            select(region_col)
            .join(snap, snap.c.region_id == region_col)
            .where(at > oldest, at > snap.c.computed_at)
            .distinct()
        )
        if extra is not None:
            stmt = stmt.where(extra)
        changed.update(db.session.scalars(stmt))
    have = select(VillageScore.region_id).where(VillageScore.period == period.key)
    changed.update(
        db.session.scalars(
            select(Region.id).where(Region.level == RegionLevel.village, Region.id.not_in(have))
        )
    )
    return changed


def _villages_written_after(snap: Any, oldest: datetime) -> set[int]:
    """Villages at or under a region whose ledgers were written (:class:`LedgerWrite`,
    deletions included) after the village's snapshot; region 0 = every village."""
    store_pending(db.session)  # this transaction's own writes count too
    written = aliased(Region)
    village = aliased(Region)
    recent = LedgerWrite.written_at > oldest
    under = (
        select(village.id)
        .join(written, in_subtree(written.path, village))
        .join(LedgerWrite, LedgerWrite.region_id == written.id)
        .join(snap, snap.c.region_id == village.id)
        .where(recent, village.level == RegionLevel.village)
        .where(LedgerWrite.written_at > snap.c.computed_at)
        .distinct()
    )
    out = set(db.session.scalars(under))
    everywhere = db.session.scalar(
        select(LedgerWrite.written_at).where(LedgerWrite.region_id == EVERY_REGION, recent)
    )
    if everywhere is not None:
        out.update(
            db.session.scalars(select(snap.c.region_id).where(snap.c.computed_at < everywhere))
        )
    return out


@dataclass(frozen=True)
class LiveCameras:
    """Today's camera seconds per village (:func:`camera_figures_between` of the day),
    read at ``at``: one read serves the month, quarter and year of a roll-up run."""

    at: datetime
    figures: dict[int, CameraFigures]


def read_live_cameras() -> LiveCameras:
    at = utcnow()
    today = clock.local_date(at)
    return LiveCameras(at, camera_figures_between("/", today, today))


def refresh_changed(
    period: Period, today: date | None = None, live: dict[str, LiveCameras] | None = None
) -> int:
    """Recompute only what changed since the period's snapshots; returns the villages
    recomputed in full.

    * a closed period snapshotted after its end changes only with its ledgers: the
      townships with a changed village (:func:`changed_villages`) are recomputed;
    * a running period snapshotted earlier the same local day: the same, and every
      other village gets only what moves with the clock within a day — today's live
      camera seconds (:func:`refresh_live`); every other figure is judged by the date;
    * otherwise (no snapshots, or taken on an earlier day: windows fell due, matters
      turned overdue) the period is recomputed whole.

    Then the period's aggregates, once. ``live``: a dict the caller keeps over the
    periods of one run, so today's camera seconds are read once for all of them.
    """
    today = today or clock.today()
    oldest = db.session.scalar(
        select(func.min(VillageScore.computed_at)).where(VillageScore.period == period.key)
    )
    snapped_on = None if oldest is None else clock.local_date(_aware(oldest))
    running = period.start <= today <= period.end
    if running and snapped_on == today == clock.today():
        memo = live if live is not None else {}
        cams = memo.get("cameras")
        if cams is None or clock.local_date(cams.at) != today:
            # Read before the write log: a write after it counts for the next run.
            cams = memo["cameras"] = read_live_cameras()
        done = _recompute_towns(period, changed_villages(period), today)
        refresh_live(period, cams)
        refresh_region_scores(period)
        db.session.flush()
        return done
    if snapped_on is None or period.end >= today or snapped_on <= period.end:
        return compute_period(period, "/", today)
    changed = changed_villages(period)
    if not changed:
        return 0
    done = _recompute_towns(period, changed, today)
    refresh_region_scores(period)
    db.session.flush()
    return done


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)


# A region a quarter or more of whose children changed is recomputed as one subtree:
# a compute has a fixed cost (its sources read once per subtree), so one county costs
# less than its changed townships one by one (at 10,000 villages a township ~0.1 s, a
# county of 20 townships ~0.5 s).
WHOLE_SHARE = 0.25


def _parent_path(path: str) -> str:
    return path[: path.rstrip("/").rfind("/") + 1]


def _coarsen(paths: set[str]) -> set[str]:
    """``paths`` with every parent of which at least :data:`WHOLE_SHARE` of the children
    are in it put in their place, up the tree (never above a top-level region)."""
    while True:
        by_parent: dict[str, set[str]] = {}
        for path in paths:
            parent = _parent_path(path)
            if parent != "/":
                by_parent.setdefault(parent, set()).add(path)
        if not by_parent:
            return paths
        parent_region = aliased(Region)
        children = dict(
            db.session.execute(
                select(parent_region.path, func.count(Region.id))
                .join(Region, Region.parent_id == parent_region.id)
                .where(parent_region.path.in_(list(by_parent)))
                .group_by(parent_region.path)
            ).all()
        )
        whole = {
            parent
            for parent, kids in by_parent.items()
            if len(kids) >= WHOLE_SHARE * children.get(parent, len(kids))
        }
        if not whole:
            return paths
        # A whole region's subtree goes, whatever of it was in (a township, a county).
        paths = {p for p in paths | whole if not any(p != w and p.startswith(w) for w in whole)}


def _recompute_towns(period: Period, changed: set[int], today: date) -> int:
    """Recompute the townships of ``changed`` villages (a township's seconded-cadre
    figures are carried by all its villages) — or, where many of a county's townships
    changed, the county (:func:`_coarsen`) — without the aggregates."""
    if not changed:
        return 0
    towns = db.session.execute(
        select(Region.path).where(
            Region.id.in_(select(Region.parent_id).where(Region.id.in_(changed)))
        )
    ).scalars()
    done = 0
    for path in sorted(_coarsen(set(towns))):
        done += compute_period(period, path, today, aggregate=False)
    return done


def refresh_live(period: Period, live: LiveCameras) -> int:
    """Bring the period's snapshots taken before ``live.at`` (the same local day) up to
    that time: today's camera seconds read live (:func:`read_live_cameras`) are added
    to each row's stored part of the earlier days (``cam_past_*``), the row is
    re-scored (:func:`tracker.dashboard.rules.score`) and stamped ``live.at``.

    Only for villages without ledger writes since their snapshot (the caller
    recomputed the others, stamped later): nothing else in a snapshot moves within a
    local day. Does not touch the aggregates. Returns the rows given new camera figures.
    """
    now = live.at
    stale = (VillageScore.period == period.key, VillageScore.computed_at < now)
    figures = live.figures
    config = scoring_config()
    cols = [
        VillageScore.id,
        VillageScore.region_id,
        *(getattr(VillageScore, c) for c in SUM_COLUMNS),
    ]
    cols += [getattr(VillageScore, f"cam_past_{c}") for c in CAMERA_SECONDS]
    updates: list[dict[str, Any]] = []
    ids = list(figures)
    for i in range(0, len(ids), 900):
        for r in db.session.execute(
            select(*cols).where(*stale, VillageScore.region_id.in_(ids[i : i + 900]))
        ):
            row = dict(r._mapping)
            past = CameraFigures(**{p: row[f"cam_past_{p}"] for p in CAMERA_SECONDS})
            c = past + figures[row["region_id"]]  # cameras: the active ones, as in a full run
            for part in CAMERA_SECONDS:
                row[f"cam_{part}"] = getattr(c, part)
            row["cameras"] = c.cameras
            sc = rules.score(figures_for_score(SimpleNamespace(**row)), config)
            updates.append(
                {
                    "id": row["id"],
                    "cameras": c.cameras,
                    **{f"cam_{p}": row[f"cam_{p}"] for p in CAMERA_SECONDS},
                    "cam_up_rate": cam_up_rate_of(
                        row["cam_up_s"],
                        row["cam_open_s"],
                        row["cam_unknown_s"],
                        row["cam_excused_s"],
                    ),
                    "score": sc.value,
                    "band": sc.band.value,
                    "computed_at": now,
                }
            )
    # Every row not recomputed is now as of ``now`` (no write since its snapshot).
    db.session.execute(update(VillageScore).where(*stale).values(computed_at=now))
    if updates:
        db.session.execute(update(VillageScore), updates)
    return len(updates)


# Region level → the snapshot column holding that region's id.
_AGGREGATED = ("township_id", "county_id", "city_id")


def refresh_region_scores(period: Period) -> int:
    """Rebuild the period's :class:`RegionAggregate` rows from its village snapshots.

    One ``INSERT … SELECT … GROUP BY`` per level (township, county, city) over the
    period's village rows — a few milliseconds even at 10,000 villages — so the
    overviews never re-read the village rows. Returns the rows written.
    """
    db.session.execute(delete(RegionAggregate).where(RegionAggregate.period == period.key))
    written = 0
    for level_col in _AGGREGATED:
        key = getattr(VillageScore, level_col)
        cols = [
            VillageScore.period,
            key,
            Region.parent_id,
            func.count(VillageScore.id),
            func.count(VillageScore.score),
            func.coalesce(func.sum(VillageScore.score), 0.0),
            *(
                func.coalesce(func.sum(case((VillageScore.band == b, 1), else_=0)), 0)
                for b in ("red", "amber", "green")
            ),
            func.min(VillageScore.computed_at),
            *(func.coalesce(func.sum(getattr(VillageScore, c)), 0) for c in SUM_COLUMNS),
        ]
        source = (
            select(*cols)
            .join(Region, Region.id == key)
            .where(VillageScore.period == period.key)
            .group_by(VillageScore.period, key, Region.parent_id)
        )
        target = [
            "period",
            "region_id",
            "parent_id",
            "villages",
            "scored",
            "score_sum",
            "red",
            "amber",
            "green",
            "computed_at",
            *SUM_COLUMNS,
        ]
        result = db.session.execute(insert(RegionAggregate).from_select(target, source))
        written += max(result.rowcount or 0, 0)  # type: ignore[attr-defined]
    return written


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
    keys = {p.key for p in wanted}
    if region.level == RegionLevel.village:
        have = dict(
            db.session.execute(
                select(VillageScore.period, func.count(VillageScore.id))
                .where(VillageScore.period.in_(keys), VillageScore.region_id == region.id)
                .group_by(VillageScore.period)
            ).all()
        )
    else:
        # The region's aggregate row counts its village snapshots: one row per period.
        have = dict(
            db.session.execute(
                select(RegionAggregate.period, RegionAggregate.villages).where(
                    RegionAggregate.period.in_(keys), RegionAggregate.region_id == region.id
                )
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


def _aggregate_values(row: RegionAggregate | None) -> tuple[Any, ...]:
    """A :class:`RegionAggregate` row in the shape of :func:`_aggregate_columns`."""
    if row is None:
        return (None, 0, 0, None, 0, 0, 0, *(0 for _ in SUM_COLUMNS))
    mean = row.score_sum / row.scored if row.scored else None
    return (
        mean,
        row.villages,
        row.scored,
        row.computed_at,
        row.red,
        row.amber,
        row.green,
        *(getattr(row, c) for c in SUM_COLUMNS),
    )


def region_score(region: Region, period: Period) -> RegionScore:
    """The score of one region (any level) for a period: a village from its snapshot,
    a township/county/city from its aggregate row (one row, whatever its villages)."""
    if region.level != RegionLevel.village:
        row = db.session.scalar(
            select(RegionAggregate).where(
                RegionAggregate.period == period.key, RegionAggregate.region_id == region.id
            )
        )
        return _region_score(region.id, region.name, region.level, _aggregate_values(row))
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
    child_level = region.level.child or RegionLevel.village
    if region.level in (RegionLevel.city, RegionLevel.county):
        # Children are townships/counties: their aggregate rows, one per child.
        for agg in db.session.scalars(
            select(RegionAggregate).where(
                RegionAggregate.period == period.key, RegionAggregate.parent_id == region.id
            )
        ):
            key = agg.region_id
            out.append(
                _region_score(key, names.get(key, str(key)), child_level, _aggregate_values(agg))
            )
    else:
        for key, *values in db.session.execute(
            select(group, *_aggregate_columns())
            .where(VillageScore.period == period.key, col == region.id)
            .group_by(group)
        ):
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
    if region.level in (RegionLevel.city, RegionLevel.county):
        # From the aggregate rows: (children + itself) × months, whatever the villages.
        for rid, pkey, total, scored in db.session.execute(
            select(
                RegionAggregate.region_id,
                RegionAggregate.period,
                RegionAggregate.score_sum,
                RegionAggregate.scored,
            ).where(
                RegionAggregate.period.in_(keys),
                (RegionAggregate.parent_id == region.id) | (RegionAggregate.region_id == region.id),
            )
        ):
            out.setdefault(rid, {})[pkey] = float(total) / scored if scored else None
        return {k: [v.get(p) for p in keys] for k, v in out.items()}
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


# Above this many villages a city's grid shows its townships (one square each, from
# their aggregates): 10,000 squares would be neither readable nor quick to draw.
GRID_MAX_VILLAGES = 2000


def overview_grid(region: Region, period: Period) -> tuple[str, list[GridCell]]:
    """The grid of an overview: ``("village", cells)``, or for a province-scale city
    ``("township", cells)`` — a square per township, rows per county — read from the
    region aggregates, so the page does not grow with the villages."""
    if region.level != RegionLevel.city:
        return "village", village_grid(region, period)
    villages = db.session.scalar(
        select(RegionAggregate.villages).where(
            RegionAggregate.period == period.key, RegionAggregate.region_id == region.id
        )
    )
    if (villages or 0) <= GRID_MAX_VILLAGES:
        return "village", village_grid(region, period)
    config = scoring_config()
    county = Region.__table__.alias("county")
    counties = select(Region.id).where(Region.parent_id == region.id)
    rows = db.session.execute(
        select(
            RegionAggregate.region_id,
            Region.name,
            county.c.id,
            county.c.name,
            RegionAggregate.score_sum,
            RegionAggregate.scored,
        )
        .join(Region, Region.id == RegionAggregate.region_id)
        .join(county, county.c.id == RegionAggregate.parent_id)
        .where(RegionAggregate.period == period.key, RegionAggregate.parent_id.in_(counties))
        .order_by(county.c.name, Region.name)
    ).all()
    cells = []
    for rid, name, cid, cname, total, scored in rows:
        mean = round(float(total) / scored, 1) if scored else None
        cells.append(GridCell(rid, name, cid, cname, mean, rules.band_for(mean, config).value))
    return "township", cells


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
            gettext("%(n)s 个村缺", n=villages),
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
    # Each list is the top ``limit`` by its figure, ties by name. The rows that can be in
    # it are those at least as bad as the ``limit``-th worst figure: that bound is read
    # from the city's index in order (a few index entries), then only the rows within it
    # are joined to their names and sorted — not every village row of a province.
    in_node = (VillageScore.period == period.key, col == region.id)
    n_open = VillageScore.matters_overdue_open
    worst_open = select(n_open).where(*in_node, n_open > 0).order_by(n_open.desc()).limit(limit)
    open_floor = select(func.min(worst_open.subquery().c.matters_overdue_open)).scalar_subquery()
    overdue = [
        Problem(name, gettext("逾期未办结 %(n)s 件", n=n), float(n), village_url(rid, period), rid)
        for rid, name, n in db.session.execute(
            select(VillageScore.region_id, Region.name, n_open)
            .join(Region, Region.id == VillageScore.region_id)
            .where(*in_node, n_open >= open_floor)  # the floor is at least 1
            .order_by(n_open.desc(), Region.name)
            .limit(limit)
        )
    ]
    ratio = VillageScore.cam_up_rate
    counts = ratio.is_not(None)
    darkest = select(ratio).where(*in_node, counts).order_by(ratio).limit(limit)
    rate_ceiling = select(func.max(darkest.subquery().c.cam_up_rate)).scalar_subquery()
    dark = [
        Problem(
            name,
            gettext("完好率 %(rate)s，%(n)s 路摄像头", rate=percent(float(r)), n=cams),
            float(r),
            village_url(rid, period),
            rid,
        )
        for rid, name, r, cams in db.session.execute(
            select(VillageScore.region_id, Region.name, ratio, VillageScore.cameras)
            .join(Region, Region.id == VillageScore.region_id)
            .where(*in_node, counts, ratio <= rate_ceiling)
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
