"""Helpers of the recruitment tests: meeting records and cases taken to a stage."""

from __future__ import annotations

from datetime import date, time, timedelta
from decimal import Decimal
from typing import Any

from tracker import clock
from tracker.extensions import db
from tracker.meetings.models import Meeting
from tracker.models import Region
from tracker.recruitment.models import RecruitCase, StepKind
from tracker.recruitment.services import CaseInput, StepInput, open_case, record_step
from tracker.workdays import WorkCalendar

CAL = WorkCalendar()
APPLIED = date(2023, 1, 16)
ACTIVIST = date(2023, 3, 1)
CANDIDATE = date(2024, 3, 1)
ADMITTED = date(2024, 4, 25)  # Thursday, after the publicity 04-15 … 04-19
FULL = date(2025, 4, 25)


def meeting(
    world: Any,
    village: Region,
    day: date,
    kind: str = "branch_general_meeting",
    quorum: bool = True,
) -> Meeting:
    """A meeting record of the village's branch on ``day`` (quorum as given)."""
    members = world.members[village.id]
    start = clock.at_local(day, time(9))
    m = Meeting(
        branch_id=world.branch(village).id,
        region_id=village.id,
        kind=kind,
        started_at=start,
        ended_at=start + timedelta(hours=2),
        place="党员活动室",
        host_id=members[0].id,
        recorder="记录员",
        topics="讨论发展党员",
        full_members=5,
        full_present=4 if quorum else 2,
        quorum_met=quorum if kind == "branch_general_meeting" else None,
    )
    db.session.add(m)
    db.session.flush()
    return m


def step(case: RecruitCase, kind: StepKind, on: date, **kw: Any) -> None:
    record_step(case, StepInput(kind=kind, on=on, **kw), CAL)


def case_at(world: Any, village: Region, stage: str, name: str = "赵晨阳") -> RecruitCase:
    """A case of ``village`` taken through the steps up to ``stage``
    (talked, activist, candidate, ready, admitted, approved, full)."""
    case = open_case(world.branch(village), CaseInput(name=name, applied_on=APPLIED))
    order = ["talked", "activist", "candidate", "ready", "admitted", "approved", "full"]
    upto = order.index(stage)
    if upto >= 0:
        step(case, StepKind.talk, date(2023, 2, 1), person_a="书记")
    if upto >= 1:
        step(case, StepKind.activist, ACTIVIST, body="党支部委员会", person_a="甲", person_b="乙")
        step(case, StepKind.review, date(2023, 9, 1), body="培养联系人", result="表现良好")
    if upto >= 2:
        step(case, StepKind.candidate, CANDIDATE, body="党支部委员会")
    if upto >= 3:
        step(case, StepKind.political, date(2024, 3, 10), body="镇党委", passed=True)
        step(case, StepKind.training, date(2024, 3, 20), until=date(2024, 3, 22), hours=Decimal(24))
        step(case, StepKind.publicity, date(2024, 4, 15), until=date(2024, 4, 19))
    if upto >= 4:
        step(case, StepKind.admission, ADMITTED, meeting_id=meeting(world, village, ADMITTED).id)
    if upto >= 5:
        step(case, StepKind.approval, date(2024, 5, 20), body="镇党委")
    if upto >= 6:
        step(case, StepKind.full, FULL, meeting_id=meeting(world, village, FULL).id)
    return case
