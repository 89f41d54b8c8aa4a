"""The figures of the secondment programme, each defined once (``docs/figures.md``).

:func:`programme` — the programme view's live counts for any period (reports scheduled
and received, visits, problems solved, suggestions, outcomes …), read by the page, the
API, the cadre list's flags and the home to-do.

挂职管理 — a receiving unit's handling of its seconded cadres.

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
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, or_, select

from tracker.config import current_settings
from tracker.extensions import db
from tracker.models import Region
from tracker.models.regions import in_subtree
from tracker.secondment.models import (
    Assessment,
    Complaint,
    ComplaintStatus,
    Grade,
    Inspection,
    ResultItem,
    ResultKind,
    Secondment,
    WeeklyReport,
    WorkGroup,
)
from tracker.secondment.rules import (
    assessment_windows,
    report_due_on,
    scheduled_weeks,
    week_start,
)
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


# --- the programme view ----------------------------------------------------------------


@dataclass
class Programme:
    """Live counts of the programme for a period, over the secondments in scope."""

    start: date
    end: date
    active: int = 0
    ended: int = 0
    by_post_type: dict[str, int] = field(default_factory=dict)
    reports_scheduled: int = 0
    reports_received: int = 0
    reports_on_time: int = 0
    due_this_week: int = 0
    missing_this_week: int = 0
    assessments_due: int = 0
    assessments_done: int = 0
    unfit: int = 0
    visits: int = 0
    visits_by_group: dict[str, int] = field(default_factory=dict)
    absent: int = 0
    rectifications_overdue: int = 0
    open_complaints: int = 0
    solved: int = 0
    reported: int = 0
    suggestions: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    # 挂职管理 (tracker.secondment.figures): obligations judged in the period / met.
    handling_due: int = 0
    handling_met: int = 0
    # Per secondment: "due" / "missing" (last week's report), "assessment" (a window ended
    # ungraded) — what the cadre list's ``?flag=`` filters on.
    flags: dict[int, set[str]] = field(default_factory=dict)


def programme(
    secondments: list[Secondment], start: date, end: date, today: date, cal: WorkCalendar
) -> Programme:
    """Figures of the programme view over ``secondments`` (already scoped) for ``[start, end]``.

    Reports *scheduled* are the weeks with a deadline inside the period the
    cadre served; *received* those of them filed. "This week" is the last
    finished week (its report is due now): due if its deadline is still
    ahead, missing once passed.
    """
    p = Programme(start, end)
    ids = [s.id for s in secondments]
    n = current_settings().rules.secondment_report_working_days
    kind = current_settings().rules.secondment_assessment
    if not ids:
        return p
    filed = filed_reports(ids)
    done: dict[int, set[str]] = {}
    for sid, key, grade, on in db.session.execute(
        select(
            Assessment.secondment_id,
            Assessment.window_key,
            Assessment.grade,
            Assessment.assessed_on,
        ).where(Assessment.secondment_id.in_(ids))
    ):
        done.setdefault(sid, set()).add(key)
        if start <= on <= end:
            p.assessments_done += 1
            if grade == Grade.unfit:
                p.unfit += 1
    last_week = week_start(today) - timedelta(days=7)
    for s in secondments:
        if s.start_on <= end and s.end_on >= start:
            status = "ended" if s.actual_end_on is not None and s.actual_end_on <= end else "active"
            if status == "active":
                p.active += 1
                p.by_post_type[s.post_type.value] = p.by_post_type.get(s.post_type.value, 0) + 1
            else:
                p.ended += 1
        mine = filed.get(s.id, {})
        for monday in scheduled_weeks(s.start_on, s.end_on):
            due = report_due_on(monday, cal, n)
            if start <= due <= end and monday <= today:
                p.reports_scheduled += 1
                if monday in mine:
                    p.reports_received += 1
                    p.reports_on_time += int(mine[monday])
        served_last_week = s.start_on <= last_week + timedelta(days=6) and s.end_on >= last_week
        flags = p.flags.setdefault(s.id, set())
        if served_last_week and last_week not in mine:
            if today > report_due_on(last_week, cal, n):
                p.missing_this_week += 1
                flags.add("missing")
            else:
                p.due_this_week += 1
                flags.add("due")
        for key, _w_start, w_end in assessment_windows(kind, s.start_on, s.end_on):
            if w_end < today and key not in done.get(s.id, set()):
                p.assessments_due += 1
                flags.add("assessment")
        if s.outcome is not None and s.outcome_on is not None and start <= s.outcome_on <= end:
            p.outcomes[s.outcome.value] = p.outcomes.get(s.outcome.value, 0) + 1
    for group_name, present in db.session.execute(
        select(func.coalesce(WorkGroup.name, ""), Inspection.present)
        .outerjoin(WorkGroup, Inspection.group_id == WorkGroup.id)
        .where(Inspection.secondment_id.in_(ids), Inspection.day >= start, Inspection.day <= end)
    ):
        p.visits += 1
        p.visits_by_group[group_name] = p.visits_by_group.get(group_name, 0) + 1
        p.absent += int(not present)
    p.rectifications_overdue = (
        db.session.scalar(
            select(func.count(Inspection.id)).where(
                Inspection.secondment_id.in_(ids),
                Inspection.rectify_by < today,
                Inspection.rectified_on.is_(None),
            )
        )
        or 0
    )
    handled = total(handling(secondments, start, end, today, cal).values())
    p.handling_due, p.handling_met = handled.due, handled.met
    p.open_complaints = (
        db.session.scalar(
            select(func.count(Complaint.id)).where(
                Complaint.secondment_id.in_(ids), Complaint.status == ComplaintStatus.open
            )
        )
        or 0
    )
    for kind_value, count in db.session.execute(
        select(ResultItem.kind, func.count(ResultItem.id))
        .where(ResultItem.secondment_id.in_(ids), ResultItem.day >= start, ResultItem.day <= end)
        .group_by(ResultItem.kind)
    ):
        if kind_value == ResultKind.solved:
            p.solved = count
        elif kind_value == ResultKind.reported:
            p.reported = count
        else:
            p.suggestions = count
    return p
