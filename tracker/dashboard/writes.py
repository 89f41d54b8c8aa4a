"""Write times of the ledgers that feed the dashboard score (:class:`LedgerWrite`).

Every row the roll-up reads — meetings and their groups, matters, trainings,
seconded cadres, team registers, members and their dated facts, halls, cameras,
opening hours, excuses — carries a ``region_id``. A session listener notes, for
every flush, the regions of the rows of those tables it inserted, changed or
**deleted** (the old and the new region of a row moved between villages), and the
transaction writes them to ``dashboard_ledger_write`` (one upsert per region) when
it commits, so a deletion leaves its time as surely as an edit.
:func:`tracker.dashboard.services.changed_villages` recomputes the villages at or
under a region written after their snapshot.

Writes that do not go through the ORM call :func:`note_written` themselves (the
camera day roll-ups a late report, heartbeat or excuse invalidates:
:func:`tracker.halls.services.invalidate_rollups`). The raw monitor reports
(checks, state changes, heartbeats) are not noted: they change today's live
camera part, which every run recomputes anyway, and a report reaching back into a
finished day invalidates that day's roll-ups, which is noted.

Not noted, because the score never reads them: dues, recruitment, resident
services, the cached camera status, alerts, snapshots, stations, import logs,
meeting versions and the camera day roll-ups stored (a cache of a finished day's
figures, read live until it is stored; its deletion is what is noted). A rule or
config change is no ledger write: ``tracker dashboard-rollup --all`` recomputes
everything.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Session, scoped_session

from tracker.models import utcnow

# The packages whose tables the roll-up reads (tracker.dashboard.sources and the
# figures modules behind it).
WATCHED_MODULES = (
    "tracker.meetings.",
    "tracker.matters.",
    "tracker.trainings.",
    "tracker.secondment.",
    "tracker.teams.",
    "tracker.halls.",
    "tracker.org.",
    "tracker.models.party",
    "tracker.models.calendar",
    "tracker.models.regions",
)
# Tables of those packages that never change a score (or are noted another way).
IGNORED = frozenset(
    {
        "CameraStatus",  # a cache of the latest report, refreshed on every ingest
        "CameraCheck",
        "CameraStateChange",
        "StationHeartbeat",  # raw reports: today's live part (see the module docstring)
        "CameraDailyRollup",  # a cache; deleting one is noted (invalidate_rollups)
        "Snapshot",
        "HallAlert",
        "Station",
        "ResidentService",
        "ResidentActivity",
        "MeetingVersion",
        "MemberImport",
        "WeeklyReportVersion",
    }
)
# Rows without a region that change every village's figures.
# (A region added, moved or renamed: rare, and a village's snapshot carries its
# township, county and city.)
EVERYWHERE = frozenset({"MeetingKind", "CalendarOverride", "Region"})
EVERY_REGION = 0
# Rows without a region of their own, with the column naming the row that has one.
_PARENT = {
    "TrainingAttendee": ("training_id", "tracker.trainings.models", "Training"),
    "GroupMember": ("group_id", "tracker.secondment.models", "WorkGroup"),
    "GroupCoverage": ("group_id", "tracker.secondment.models", "WorkGroup"),
}

_PENDING = "dashboard_ledger_writes"
COMMIT_MARGIN = timedelta(seconds=60)
"""How far after its stamp a write may still be committing: a snapshot taken within it
does not count as having seen the write."""
AnySession = Session | scoped_session[Any]  # ``db.session`` or the listener's session


def _watched(obj: Any) -> bool:
    cls = type(obj)
    return cls.__module__.startswith(WATCHED_MODULES) and cls.__name__ not in IGNORED


def _regions_of(session: Session, obj: Any, load: bool) -> set[int]:
    """The regions a watched row belongs to: its region now and, if it moved, before.
    ``load``: read an expired region from the database (not after the row is gone)."""
    name = type(obj).__name__
    if name in EVERYWHERE:
        return {EVERY_REGION}
    state = inspect(obj)
    col = "region_id"
    model: Any = None
    if "region_id" not in state.mapper.columns:
        if name not in _PARENT:
            return {EVERY_REGION}  # a watched row of unknown place: recompute everything
        col, module, parent = _PARENT[name]
        model = getattr(importlib.import_module(module), parent)
    hist = state.attrs[col].history
    ids = {r for r in (*hist.added, *hist.unchanged, *hist.deleted) if r is not None}
    if col not in state.dict and load:
        with session.no_autoflush:
            value = getattr(obj, col)
        if value is not None:
            ids.add(value)
    if model is None or not ids:
        return ids
    return set(session.connection().scalars(select(model.region_id).where(model.id.in_(ids))))


def note_written(session: AnySession, region_ids: Iterable[int]) -> None:
    """Note regions whose score-feeding rows were written outside the ORM (Core
    statements); they are stored with the transaction's other writes."""
    pending: dict[int, datetime] = session.info.setdefault(_PENDING, {})
    now = utcnow()  # the time of the write (its flush), not of its commit
    for r in region_ids:
        if r is not None:
            pending[r] = now


def _before_flush(session: Session, _ctx: Any, _instances: Any) -> None:
    # Changed and deleted rows while they are still in the database (an expired row's
    # region is loaded); new rows get their region (foreign keys) in the flush.
    regions: set[int] = set()
    for obj in session.deleted:
        if _watched(obj):
            regions |= _regions_of(session, obj, load=True)
    for obj in session.dirty:
        if _watched(obj) and session.is_modified(obj, include_collections=False):
            regions |= _regions_of(session, obj, load=True)
    if regions:
        note_written(session, regions)


def _after_flush(session: Session, _ctx: Any) -> None:
    # New rows, and rows the flush deleted by cascade (their loaded region).
    regions: set[int] = set()
    for obj in (*session.new, *session.deleted):
        if _watched(obj):
            regions |= _regions_of(session, obj, load=False)
    if regions:
        note_written(session, regions)


def store_pending(session: AnySession, committing: bool = False) -> int:
    """Write the noted regions' times (one upsert); returns the regions written.

    On commit they are stamped with the commit's time plus :data:`COMMIT_MARGIN`: a
    roll-up that read the ledgers while this transaction was open (without its rows),
    even in the moment between this stamp and the COMMIT, took its snapshot before that
    time, so the writes count for its next run. (The cost: a village written in the
    minute before a run is recomputed once more by the next.) Stored earlier (a roll-up
    in the same transaction, which sees its own rows) they keep the times of their
    flushes.
    """
    regions: dict[int, datetime] | None = session.info.pop(_PENDING, None)
    if not regions:
        return 0
    if committing:
        stamp = utcnow() + COMMIT_MARGIN
        regions = dict.fromkeys(regions, stamp)
    from sqlalchemy.dialects.postgresql import insert as pg_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    from tracker.dashboard.models import LedgerWrite

    conn = session.connection()
    insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    stmt = insert(LedgerWrite)
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=[LedgerWrite.region_id],
            set_={"written_at": stmt.excluded.written_at},
        ),
        [{"region_id": r, "written_at": regions[r]} for r in sorted(regions)],  # one lock order
    )
    return len(regions)


def _before_commit(session: Session) -> None:
    session.flush()  # the last flush's writes are noted before they are stored
    store_pending(session, committing=True)


def _after_rollback(session: Session) -> None:
    session.info.pop(_PENDING, None)


def install() -> None:
    """Listen on every session (idempotent)."""
    for name, fn in (
        ("before_flush", _before_flush),
        ("after_flush", _after_flush),
        ("before_commit", _before_commit),
        ("after_rollback", _after_rollback),
    ):
        if not event.contains(Session, name, fn):
            event.listen(Session, name, fn)
