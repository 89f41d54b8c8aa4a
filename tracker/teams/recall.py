"""Yearly assessment of village cadres and recall cases (不胜任村干部动态调整, 召回).

A 不称职 grade opens a recall case whose steps 召回谈话 → 教育培训 → 考核 →
返岗 or 调整/免职 are due in working days (``[teams] recall_*_working_days``).
Plain functions: validate, change objects, ``flush()``; the caller commits.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from tracker import clock
from tracker.config import current_settings
from tracker.extensions import db
from tracker.models import VillageCadre
from tracker.scope import Scope
from tracker.teams.models import (
    CadreAssessment,
    Grade,
    RecallCase,
    RecallOutcome,
    RecallStep,
    RecallStepKind,
)
from tracker.teams.services import TeamError, _check_day
from tracker.workdays import WorkCalendar

STEPS = (
    RecallStepKind.talk,
    RecallStepKind.training,
    RecallStepKind.review,
    RecallStepKind.outcome,
)


def step_days() -> dict[RecallStepKind, int]:
    s = current_settings().teams
    return {
        RecallStepKind.talk: s.recall_talk_working_days,
        RecallStepKind.training: s.recall_training_working_days,
        RecallStepKind.review: s.recall_review_working_days,
        RecallStepKind.outcome: s.recall_outcome_working_days,
    }


def assess_cadre(
    cadre: VillageCadre,
    year: int,
    grade: Grade,
    decided_by: str,
    decided_on: date,
    cal: WorkCalendar,
    note: str = "",
) -> CadreAssessment:
    """Record the yearly grade; 不称职 opens a recall case with its steps' deadlines."""
    if not 2000 <= year <= clock.today().year:
        raise TeamError("考核年度不合理", "year")
    _check_day(decided_on, "decided_on", "考核日期")
    if decided_on.year < year:
        raise TeamError("考核日期不能早于考核年度", "decided_on")
    if not (decided_by or "").strip():
        raise TeamError("请填写考核（决定）机关", "decided_by")
    if cadre.since and decided_on < cadre.since:
        raise TeamError("考核日期不能早于任职日期", "decided_on")
    taken = db.session.scalar(
        select(CadreAssessment.id).where(
            CadreAssessment.cadre_id == cadre.id, CadreAssessment.year == year
        )
    )
    if taken is not None:
        raise TeamError(f"{cadre.name}的{year}年度考核已录入", "year")
    assessment = CadreAssessment(
        region_id=cadre.region_id,
        cadre_id=cadre.id,
        year=year,
        grade=grade,
        decided_by=decided_by.strip()[:64],
        decided_on=decided_on,
        note=(note or "").strip()[:500],
    )
    db.session.add(assessment)
    db.session.flush()
    if grade == Grade.incompetent:
        open_case(assessment, cal)
    return assessment


def open_case(assessment: CadreAssessment, cal: WorkCalendar) -> RecallCase:
    case = RecallCase(
        region_id=assessment.region_id,
        assessment_id=assessment.id,
        opened_on=assessment.decided_on,
        decided_by=assessment.decided_by,
        reason=assessment.note or f"{assessment.year}年度考核不称职",
    )
    due = assessment.decided_on
    days = step_days()
    for position, kind in enumerate(STEPS):
        due, _official = cal.add_working_days(due, days[kind])
        case.steps.append(
            RecallStep(region_id=assessment.region_id, position=position, kind=kind, due_on=due)
        )
    db.session.add(case)
    db.session.flush()
    return case


def record_step(
    step: RecallStep, done_on: date, note: str = "", outcome: RecallOutcome | None = None
) -> None:
    """Mark a step done: in order, not before the assessment nor the step before, not later
    than today; the last step names the outcome and closes the case."""
    case = step.case
    if step.done_on is not None:
        raise TeamError(f"“{step.label}”已完成", "done_on")
    _check_day(done_on, "done_on", "完成日期")
    if done_on < case.assessment.decided_on:
        raise TeamError("召回步骤不能早于考核日期", "done_on")
    before = [s for s in case.steps if s.position < step.position]
    if any(s.done_on is None for s in before):
        raise TeamError("请按顺序完成召回步骤", "done_on")
    if before and done_on < max(s.done_on for s in before if s.done_on):
        raise TeamError("不能早于上一步骤的完成日期", "done_on")
    if step.kind == RecallStepKind.outcome:
        if outcome is None:
            raise TeamError("请选择处理结果：返岗、调整或免职", "outcome")
        case.outcome = outcome
        case.closed_on = done_on
    step.done_on = done_on
    step.note = (note or "").strip()[:500]
    db.session.flush()
    if step.kind == RecallStepKind.outcome and outcome in (
        RecallOutcome.adjusted,
        RecallOutcome.dismissed,
    ):
        from tracker.teams.posts import vacate_for_recall

        vacate_for_recall(case, done_on)  # the post falls vacant, to be filled in time


def overdue_steps(scope: Scope, today: date) -> list[RecallStep]:
    """The first open step of each open case in scope, where it is past due."""
    steps = db.session.scalars(
        scope.filter(select(RecallStep), RecallStep)
        .join(RecallCase, RecallStep.case_id == RecallCase.id)
        .where(
            RecallStep.done_on.is_(None),
            RecallCase.closed_on.is_(None),
        )
        .order_by(RecallStep.case_id, RecallStep.position)
    ).all()
    first: dict[int, RecallStep] = {}
    for s in steps:
        first.setdefault(s.case_id, s)
    return [s for s in first.values() if s.due_on < today]
