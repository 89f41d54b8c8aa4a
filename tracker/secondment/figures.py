"""挂职管理 — a receiving unit's handling of its seconded cadres (one definition).

The dashboard's ``secondment`` component, the programme view's 管理履职 tile and
the export of the programme read this module and nothing else
(``docs/figures.md#secondment``). For a period ``[start, end]`` judged as of
``today``, every secondment owes four kinds of obligations, each with a
deadline ``d``:

* **weekly report** (周报): each week the cadre served, due
  ``[rules] secondment_report_working_days`` working days after its Sunday;
  met when the report was filed by then (``WeeklyReport.on_time``);
* **assessment** (定期考核): each assessment window of the term (quarters or
  half-years, plus the end of term), due on the window's last day; met when a
  grade is recorded for the window;
* **rectification** (督查整改): each inspection finding with a rectification
  deadline; met when it was rectified on or before the deadline;
* **complaint** (监督举报): each complaint, due on its handling deadline; met
  when it was closed on or before it.

An obligation is **judged** in the period when ``start ≤ d ≤ end`` and either
its deadline has passed (``d < today``) or it is already met; one still open on
or after its deadline day is pending and counts neither way. The rate is
**met ÷ judged** (``HandlingFigures.met`` / ``HandlingFigures.due``).

A receiving township answers for the cadres it received and for those received
by its villages: :func:`by_township` groups the secondments under each township.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import or_, select

from tracker.config import current_settings
from tracker.extensions import db
from tracker.models import Region
from tracker.models.regions import in_subtree
from tracker.secondment.models import (
    Assessment,
    Complaint,
    Inspection,
    Secondment,
    WeeklyReport,
)
from tracker.secondment.rules import assessment_windows, report_due_on, scheduled_weeks
from tracker.workdays import WorkCalendar


@dataclass
class HandlingFigures:
    """Judged and met obligations of a set of secondments in a period."""

    reports_due: int = 0
    reports_on_time: int = 0
    assessments_due: int = 0
    assessments_done: int = 0
    rectifications_due: int = 0
    rectified_on_time: int = 0
    complaints_due: int = 0
    complaints_on_time: int = 0

    @property
    def due(self) -> int:
        return (
            self.reports_due + self.assessments_due + self.rectifications_due + self.complaints_due
        )

    @property
    def met(self) -> int:
        return (
            self.reports_on_time
            + self.assessments_done
            + self.rectified_on_time
            + self.complaints_on_time
        )

    @property
    def rate(self) -> float | None:
        return self.met / self.due if self.due else None

    def add(self, other: HandlingFigures) -> None:
        for name in vars(other):
            setattr(self, name, getattr(self, name) + getattr(other, name))


def _judge(deadline: date, met: bool, start: date, end: date, today: date) -> tuple[int, int]:
    """``(judged, met)`` of one obligation in the period (0 or 1 each)."""
    if not start <= deadline <= end:
        return 0, 0
    if deadline < today or met:
        return 1, int(met)
    return 0, 0


def filed_reports(secondment_ids: Sequence[int]) -> dict[int, dict[date, bool]]:
    """``{secondment id: {week's Monday: filed on time}}`` — the reports filed (one query)."""
    filed: dict[int, dict[date, bool]] = {}
    for sid, monday, on_time in db.session.execute(
        select(WeeklyReport.secondment_id, WeeklyReport.week_start, WeeklyReport.on_time).where(
            WeeklyReport.secondment_id.in_(secondment_ids)
        )
    ):
        filed.setdefault(sid, {})[monday] = on_time
    return filed


def handling(
    secondments: Sequence[Any], start: date, end: date, today: date, cal: WorkCalendar
) -> dict[int, HandlingFigures]:
    """``{secondment id: HandlingFigures}`` for the given secondments (five queries in all).

    ``secondments`` need ``id``, ``start_on`` and ``end_on`` (rows or objects).
    """
    out = {s.id: HandlingFigures() for s in secondments}
    ids = list(out)
    if not ids:
        return out
    rules = current_settings().rules
    n = rules.secondment_report_working_days
    filed = filed_reports(ids)
    graded: dict[int, set[str]] = {}
    for sid, key in db.session.execute(
        select(Assessment.secondment_id, Assessment.window_key).where(
            Assessment.secondment_id.in_(ids)
        )
    ):
        graded.setdefault(sid, set()).add(key)
    for s in secondments:
        f = out[s.id]
        mine = filed.get(s.id, {})
        for monday in scheduled_weeks(s.start_on, s.end_on):
            judged, met = _judge(
                report_due_on(monday, cal, n), mine.get(monday, False), start, end, today
            )
            f.reports_due += judged
            f.reports_on_time += met
        done = graded.get(s.id, set())
        for key, _first, last in assessment_windows(
            rules.secondment_assessment, s.start_on, s.end_on
        ):
            judged, met = _judge(last, key in done, start, end, today)
            f.assessments_due += judged
            f.assessments_done += met
    for sid, deadline, rectified_on in db.session.execute(
        select(Inspection.secondment_id, Inspection.rectify_by, Inspection.rectified_on).where(
            Inspection.secondment_id.in_(ids),
            Inspection.rectify_by >= start,
            Inspection.rectify_by <= end,
        )
    ):
        if deadline is None:  # no rectification demanded (the filter already leaves these out)
            continue
        met = rectified_on is not None and rectified_on <= deadline
        judged, ok = _judge(deadline, met, start, end, today)
        out[sid].rectifications_due += judged
        out[sid].rectified_on_time += ok
    for sid, deadline, closed_on in db.session.execute(
        select(Complaint.secondment_id, Complaint.due_on, Complaint.closed_on).where(
            Complaint.secondment_id.in_(ids), Complaint.due_on >= start, Complaint.due_on <= end
        )
    ):
        met = closed_on is not None and closed_on <= deadline
        judged, ok = _judge(deadline, met, start, end, today)
        out[sid].complaints_due += judged
        out[sid].complaints_on_time += ok
    return out


def total(figures: Iterable[HandlingFigures]) -> HandlingFigures:
    """The sum of several secondments' (or townships') figures."""
    out = HandlingFigures()
    for f in figures:
        out.add(f)
    return out


@dataclass(frozen=True)
class _Row:
    id: int
    start_on: date
    end_on: date
    path: str


def by_township(
    township_ids: Iterable[int], start: date, end: date, today: date, cal: WorkCalendar
) -> dict[int, HandlingFigures]:
    """``{township id: HandlingFigures}``: the cadres received by each township or its villages."""
    paths = dict(
        db.session.execute(
            select(Region.path, Region.id).where(Region.id.in_(list(township_ids)))
        ).all()
    )
    out = {tid: HandlingFigures() for tid in paths.values()}
    if not paths:
        return out
    rows = [
        _Row(sid, s_start, actual or planned, rpath)
        for sid, s_start, actual, planned, rpath in db.session.execute(
            select(
                Secondment.id,
                Secondment.start_on,
                Secondment.actual_end_on,
                Secondment.planned_end_on,
                Region.path,
            )
            .join(Region, Region.id == Secondment.region_id)
            .where(or_(*(in_subtree(p) for p in paths)), Secondment.start_on <= end)
        )
    ]
    per = handling(rows, start, end, today, cal)
    for row in rows:
        prefix = next(p for p in paths if row.path.startswith(p))
        out[paths[prefix]].add(per[row.id])
    return out
