"""The obligations engine on the database: bulk loading for one or many branches.

The county dashboard (and any roll-up) calls :func:`obligations_for_branches`
with the branches it shows; it runs **one query per table** (branches with
their region path, party groups, meetings of the years concerned, county
overrides, configured kinds) whatever the number of branches, and hands the
rows to the pure :func:`tracker.meetings.rules.evaluate_many`::

    from tracker.meetings.obligations import obligations_for_region, summaries
    from tracker.meetings.rules import Period

    statuses = obligations_for_region(region.path, Period.parse("2026-Q1"), today)
    per_branch = summaries(statuses)          # {branch_id: Summary(met, met_late, missing, due)}
    late_share = late_entry_counts(branch_ids, Period.parse("2026"))   # {branch_id: (late, total)}

Each :class:`~tracker.meetings.rules.ObligationStatus` names the kind, the
window, the status (met / met_late / missing / due), ``due_soon`` and the ids
of the records that meet it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date

from sqlalchemy import DateTime, and_, case, func, select, type_coerce

from tracker import clock
from tracker.config import current_settings
from tracker.extensions import db
from tracker.meetings import rules
from tracker.meetings.models import Meeting, MeetingRuleOverride
from tracker.meetings.rules import (
    BranchFacts,
    GroupFacts,
    MeetingFact,
    ObligationStatus,
    Period,
    Summary,
)
from tracker.meetings.services import default_rules, kinds, local_year_bounds, period_bounds
from tracker.models import Branch, PartyGroup, Region, utcnow
from tracker.models.regions import in_subtree


def _branch_rows(branch_ids: Iterable[int] | None, region_path: str | None) -> list[BranchFacts]:
    stmt = select(Branch.id, Branch.tracked_from, Branch.founded_on, Region.path).join(
        Region, Region.id == Branch.region_id
    )
    if branch_ids is not None:
        stmt = stmt.where(Branch.id.in_(list(branch_ids)))
    if region_path is not None:
        stmt = stmt.where(in_subtree(region_path))
    out = []
    for bid, tracked_from, founded_on, path in db.session.execute(stmt.order_by(Branch.id)):
        ids = [int(p) for p in path.strip("/").split("/") if p]
        out.append(BranchFacts(bid, tracked_from or founded_on, ids[1] if len(ids) > 1 else None))
    return out


def obligations_for_branches(
    branch_ids: Iterable[int] | None,
    period: Period,
    today: date | None = None,
    region_path: str | None = None,
) -> dict[int, list[ObligationStatus]]:
    """Statuses of every obligation of many branches for ``period`` — one query per table.

    Pass ``branch_ids`` (already scoped by the caller) or ``region_path`` (a
    subtree: every branch under it), or both.
    """
    today = today or clock.local_date(utcnow())
    branches = _branch_rows(branch_ids, region_path)
    if not branches:
        return {}
    ids = [b.id for b in branches]
    group_rows = db.session.execute(
        select(
            PartyGroup.id,
            PartyGroup.branch_id,
            PartyGroup.name,
            PartyGroup.created_on,
            PartyGroup.dissolved_on,
        ).where(PartyGroup.branch_id.in_(ids))
    ).all()
    groups = [GroupFacts(*row) for row in group_rows]
    start, end = local_year_bounds(period.start.year, period.end.year)
    # A county's page reads thousands of records: the table's columns (no ORM entity to
    # set up), the start time as the stored naive UTC (no type decorator per value;
    # clock.local_dates converts them in one pass) and "counts" decided in SQL.
    m = Meeting.__table__.c
    meeting_rows = db.session.execute(
        select(
            m.id,
            m.branch_id,
            m.kind,
            type_coerce(m.started_at, DateTime()),
            m.group_id,
            m.late,
            and_(m.deleted_at.is_(None), m.quorum_met.is_not(False)),
        ).where(m.branch_id.in_(ids), m.started_at >= start, m.started_at < end)
    ).all()
    days = clock.local_dates([r[3] for r in meeting_rows])
    new = tuple.__new__  # MeetingFact(...) without the named tuple's __new__ per record
    facts: list[MeetingFact] = [
        new(MeetingFact, (mid, bid, kind, day, group_id, late, counts))
        for (mid, bid, kind, _, group_id, late, counts), day in zip(meeting_rows, days, strict=True)
    ]
    base = default_rules()
    counties = {b.county_id for b in branches if b.county_id is not None}
    overrides: dict[int, dict[str, str]] = {}
    if counties:
        for region_id, kind, freq in db.session.execute(
            select(
                MeetingRuleOverride.region_id,
                MeetingRuleOverride.kind,
                MeetingRuleOverride.frequency,
            ).where(MeetingRuleOverride.region_id.in_(counties))
        ):
            overrides.setdefault(region_id, {})[kind] = freq
    by_county: dict[int | None, Mapping[str, rules.Frequency]] = {
        cid: rules.merge_rules(base, o) for cid, o in overrides.items()
    }
    return rules.evaluate_many(
        branches,
        groups,
        facts,
        by_county,
        base,
        period,
        today,
        list(kinds().values()),
        current_settings().rules.due_soon_days,
    )


def obligations_for_region(
    region_path: str, period: Period, today: date | None = None
) -> dict[int, list[ObligationStatus]]:
    """Every branch under a region node (a county, a township …)."""
    return obligations_for_branches(None, period, today, region_path=region_path)


def branch_obligations(
    branch: Branch, period: Period, today: date | None = None
) -> list[ObligationStatus]:
    """One branch's obligations for a period."""
    return obligations_for_branches([branch.id], period, today).get(branch.id, [])


def summaries(statuses: Mapping[int, list[ObligationStatus]]) -> dict[int, Summary]:
    """``{branch_id: Summary}`` of :func:`obligations_for_branches`'s answer."""
    return {bid: rules.summarize(items) for bid, items in statuses.items()}


def late_entry_counts(branch_ids: Iterable[int], period: Period) -> dict[int, tuple[int, int]]:
    """``{branch_id: (late records, all records)}`` of meetings held in ``period`` (one query)."""
    lo, hi = period_bounds(period)
    rows = db.session.execute(
        select(
            Meeting.branch_id,
            func.sum(case((Meeting.late.is_(True), 1), else_=0)),
            func.count(Meeting.id),
        )
        .where(
            Meeting.branch_id.in_(list(branch_ids)),
            Meeting.deleted_at.is_(None),
            Meeting.started_at >= lo,
            Meeting.started_at < hi,
        )
        .group_by(Meeting.branch_id)
    ).all()
    return {bid: (int(late or 0), int(total)) for bid, late, total in rows}
