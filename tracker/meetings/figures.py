"""The meetings package's figures for the dashboard: obligations and record integrity.

:func:`village_figures` answers for every village under a region in a period
with one query per table (the obligations engine, late-entry counts, edited
records); :func:`village_records` and :func:`village_obligations` give the rows
behind one village's figures (the drill-down and the 督查 sheet). The
definitions are in ``docs/figures.md``:

* 会议履职 = (met + met late) ÷ settled obligations (met + met late + missing);
  obligations whose window is still open and not met are *pending*, not counted;
* 按时录入 = (records − late records) ÷ records, over the records (not deleted)
  of meetings held in the period; a record is late (补录) when it was entered
  more than ``late_entry_working_days`` working days after the meeting.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from flask_babel import gettext
from sqlalchemy import func, select

from tracker.extensions import db
from tracker.meetings import obligations as mo
from tracker.meetings import rules
from tracker.meetings.models import Meeting, MeetingKind
from tracker.models import Branch
from tracker.models.regions import subtree_ids
from tracker.periods import Period


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


def village_figures(
    village_ids: list[int], path: str, period: Period, today: date, keep_statuses: bool = False
) -> dict[int, MeetingFigures]:
    """``{village id: MeetingFigures}`` for the villages (under the region ``path``)."""
    out: dict[int, MeetingFigures] = {vid: MeetingFigures() for vid in village_ids}
    if not village_ids:
        return out
    in_path = subtree_ids(path)
    village_of_branch = dict(
        db.session.execute(
            select(Branch.id, Branch.region_id).where(Branch.region_id.in_(in_path))
        ).all()
    )
    for branch_id, statuses in mo.obligations_for_region(path, period, today).items():
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
    if not village_of_branch:
        return out
    for branch_id, (late, total) in mo.late_entry_counts(list(village_of_branch), period).items():
        fig = out.get(village_of_branch[branch_id])
        if fig is not None:  # a village may have more than one branch
            fig.records_total += total
            fig.records_late += late
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
    """Meeting kind code → name in the page's language (built-in and configured kinds).

    The Chinese name is the message id: built-in kinds are translated in meetings.po,
    a kind configured with a new name shows as it was typed."""
    names = {k.code: k.name for k in rules.BUILTIN_KINDS}
    names.update(dict(db.session.execute(select(MeetingKind.code, MeetingKind.name)).all()))
    return {code: gettext(name) for code, name in names.items()}


def village_obligations(village_id: int, period: Period, today: date) -> list[Any]:
    """Every obligation status of a village's branches in the period."""
    branch_ids = list(db.session.scalars(select(Branch.id).where(Branch.region_id == village_id)))
    return [
        s
        for items in mo.obligations_for_branches(branch_ids, period, today).values()
        for s in items
    ]


@dataclass(frozen=True)
class RecordFacts:
    """One meeting record of a village in a period, as the integrity figures see it."""

    id: int
    kind: str
    held_at: datetime
    entered_at: datetime
    late: bool
    late_days: int
    version: int
    deleted: bool


def village_records(village_id: int, period: Period) -> list[RecordFacts]:
    """The records of meetings held in the period (deleted ones too, flagged)."""
    lo, hi = period.utc_bounds()
    return [
        RecordFacts(
            m.id,
            m.kind,
            m.started_at,
            m.entered_at,
            bool(m.late),
            int(m.late_working_days or 0),
            int(m.version or 1),
            m.deleted_at is not None,
        )
        for m in db.session.scalars(
            select(Meeting)
            .where(
                Meeting.region_id == village_id, Meeting.started_at >= lo, Meeting.started_at < hi
            )
            .order_by(Meeting.started_at)
        )
    ]
