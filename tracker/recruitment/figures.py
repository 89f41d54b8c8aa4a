"""The figures of recruitment (发展党员), defined once (docs/figures.md).

- **在培人数 by stage**: open cases per stage (入党申请人、积极分子、发展对象、预备党员).
- **逾期事项** (obligations): a case with a step past its deadline on ``today`` —
  入党申请谈话逾期 (no talk a month after the application), 积极分子考察逾期 (no
  review for the configured months), 上级党委审批逾期 (no approval 3 months after the
  admission), 预备期满未转正 (probation over, no 转正 decided). Each case counts once
  per obligation.

:func:`village_figures` answers for any number of villages in two statements; the
list page, the home to-do, the dashboard and the API call it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from tracker.extensions import db
from tracker.models import Region
from tracker.models.regions import in_subtree
from tracker.recruitment.models import RecruitCase, Stage
from tracker.recruitment.rules import OBLIGATION_LABELS, Due, Rules, due_steps
from tracker.recruitment.services import rules

OPEN = (Stage.applicant, Stage.activist, Stage.candidate, Stage.probationary)


@dataclass
class RecruitFigures:
    """One village's open cases by stage and its overdue cases by obligation."""

    by_stage: dict[Stage, int] = field(default_factory=lambda: dict.fromkeys(OPEN, 0))
    overdue: dict[str, list[int]] = field(
        default_factory=lambda: {k: [] for k in OBLIGATION_LABELS}
    )

    @property
    def overdue_count(self) -> int:
        return sum(len(v) for v in self.overdue.values())


def overdue_of(case: RecruitCase, today: date, rule_set: Rules | None = None) -> list[Due]:
    """The case's steps that are past their deadline (``steps`` loaded)."""
    return [
        d
        for d in due_steps(rule_set or rules(), case.applied_on, case.steps, today)
        if d.obligation
    ]


def open_cases(*, within: Sequence[int] | str) -> list[RecruitCase]:
    """The open cases of the villages ``within`` — their ids, or a region's path for every
    village under it — with their steps (two statements; a subtree is joined, never sent
    as a list of ids). No default: a caller always names whose cases it means."""
    stmt = select(RecruitCase).where(RecruitCase.stage.in_(OPEN))
    if isinstance(within, str):
        stmt = stmt.join(Region, Region.id == RecruitCase.region_id).where(in_subtree(within))
    elif not within:
        return []
    else:
        stmt = stmt.where(RecruitCase.region_id.in_(list(within)))
    return list(
        db.session.scalars(stmt.options(selectinload(RecruitCase.steps)).order_by(RecruitCase.id))
    )


def village_figures(village_ids: Sequence[int], today: date) -> dict[int, RecruitFigures]:
    """``{village_id: RecruitFigures}`` on ``today``."""
    out = {v: RecruitFigures() for v in village_ids}
    rule_set = rules()
    for case in open_cases(within=village_ids):
        fig = out[case.region_id]
        fig.by_stage[case.stage] += 1
        for due in overdue_of(case, today, rule_set):
            assert due.obligation is not None
            fig.overdue[due.obligation].append(case.id)
    return out


def overdue_cases(village_ids: Sequence[int], today: date) -> list[tuple[RecruitCase, Due]]:
    """Every overdue (case, step) of the villages, oldest application first."""
    rule_set = rules()
    out = [
        (case, due)
        for case in open_cases(within=village_ids)
        for due in overdue_of(case, today, rule_set)
    ]
    return sorted(out, key=lambda pair: (pair[0].applied_on, pair[0].id))


@dataclass(frozen=True)
class RegionObligations:
    """The dashboard's panel: overdue cases by obligation and open cases by stage."""

    overdue: dict[str, int]
    by_stage: dict[Stage, int]

    @property
    def total(self) -> int:
        return sum(self.overdue.values())


def region_obligations(path: str, today: date) -> RegionObligations:
    """The recruitment obligations of every village under ``path`` (two statements,
    whatever the number of villages: the open cases are counted, not the villages)."""
    rule_set = rules()
    overdue = dict.fromkeys(OBLIGATION_LABELS, 0)
    by_stage = dict.fromkeys(OPEN, 0)
    for case in open_cases(within=path):
        by_stage[case.stage] += 1
        for due in overdue_of(case, today, rule_set):
            assert due.obligation is not None
            overdue[due.obligation] += 1
    return RegionObligations(overdue=overdue, by_stage=by_stage)
