"""JSON API of recruitment (发展党员) under ``/api/v1`` (in the OpenAPI document).

- ``GET  /recruitment/cases?village_id=&stage=&page=&per_page=`` — cases in scope (paginated)
- ``POST /recruitment/cases`` — an application (入党申请)
- ``GET  /recruitment/cases/{id}`` — a case with its steps and the steps it waits for
- ``POST /recruitment/cases/{id}/steps`` — record a step; a broken rule answers 422 with
  the rule's message beside the field
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from tracker import clock
from tracker.api import endpoint
from tracker.api.pagination import Page, PageQuery, paginate
from tracker.calendar_service import load_calendar
from tracker.models import Gender
from tracker.recruitment.models import RecruitCase, RecruitStep, Stage, StepKind
from tracker.recruitment.rules import Due, due_steps
from tracker.recruitment.services import (
    CaseFilter,
    CaseInput,
    StepInput,
    cases_stmt,
    load_steps,
    open_case,
    record_step,
    rules,
)
from tracker.scope import current_scope

TAGS = ["recruitment"]


class StepOut(BaseModel):
    id: int
    kind: StepKind
    label: str
    on: date
    until: date | None
    body: str | None
    meeting_id: int | None
    training_id: int | None
    person_a: str | None
    person_b: str | None
    hours: float | None
    passed: bool | None
    result: str | None


class DueOut(BaseModel):
    kind: StepKind
    label: str
    earliest: date | None
    latest: date | None
    overdue: str | None = Field(description="逾期事项代码（talk_overdue 等）；未逾期为 null")


class CaseOut(BaseModel):
    id: int
    village_id: int
    branch_id: int
    member_id: int | None
    name: str
    gender: Gender | None
    birth_date: date | None
    applied_on: date
    stage: Stage
    stage_label: str
    steps: list[StepOut]
    due: list[DueOut]


class CaseList(Page[CaseOut]):
    """One page of recruitment cases."""


class ListQuery(PageQuery):
    model_config = ConfigDict(extra="forbid")
    village_id: int | None = None
    stage: Stage | None = None


class CaseBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    village_id: int
    name: str = Field(min_length=1, max_length=32)
    applied_on: date
    gender: Gender | None = None
    birth_date: date | None = None
    phone: str | None = Field(None, max_length=20)
    occupation: str | None = Field(None, max_length=64)
    education: str | None = Field(None, max_length=16)
    note: str | None = Field(None, max_length=2000)


class StepBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: StepKind
    on: date
    until: date | None = None
    body: str | None = Field(None, max_length=64)
    meeting_id: int | None = Field(None, ge=1)
    training_id: int | None = Field(None, ge=1)
    person_a: str | None = Field(None, max_length=32)
    person_b: str | None = Field(None, max_length=32)
    hours: Decimal | None = Field(None, ge=0, le=999, decimal_places=1)
    passed: bool | None = None
    result: str | None = Field(None, max_length=500)


def _step_out(s: RecruitStep) -> StepOut:
    return StepOut(
        id=s.id,
        kind=s.kind,
        label=s.label,
        on=s.on,
        until=s.until,
        body=s.body,
        meeting_id=s.meeting_id,
        training_id=s.training_id,
        person_a=s.person_a,
        person_b=s.person_b,
        hours=float(s.hours) if s.hours is not None else None,
        passed=s.passed,
        result=s.result,
    )


def _due_out(d: Due) -> DueOut:
    return DueOut(
        kind=d.kind, label=d.label, earliest=d.earliest, latest=d.latest, overdue=d.obligation
    )


def to_out(case: RecruitCase) -> CaseOut:
    return CaseOut(
        id=case.id,
        village_id=case.region_id,
        branch_id=case.branch_id,
        member_id=case.member_id,
        name=case.name,
        gender=case.gender,
        birth_date=case.birth_date,
        applied_on=case.applied_on,
        stage=case.stage,
        stage_label=case.stage_label,
        steps=[_step_out(s) for s in case.steps],
        due=[_due_out(d) for d in due_steps(rules(), case.applied_on, case.steps, clock.today())],
    )


@endpoint(
    "/recruitment/cases",
    summary="发展党员：范围内的发展对象（分页，可按村、阶段筛选）",
    tags=TAGS,
    query=ListQuery,
)
def list_cases(query: ListQuery) -> CaseList:
    scope = current_scope()
    if query.village_id is not None:
        scope.get_village(query.village_id)
    stmt = cases_stmt(scope, CaseFilter(village_id=query.village_id, stage=query.stage))
    return paginate(CaseList, stmt, query, to_out)


@endpoint(
    "/recruitment/cases",
    ["POST"],
    summary="登记入党申请（建立发展党员档案）",
    tags=TAGS,
    body=CaseBody,
    status=201,
)
def create_case(body: CaseBody) -> tuple[CaseOut, int]:
    scope = current_scope()
    _region, branch = scope.get_village_branch(body.village_id)
    scope.require_write(branch.region_id)
    case = open_case(branch, CaseInput(**body.model_dump(exclude={"village_id"})))
    load_steps(case)
    return to_out(case), 201


@endpoint("/recruitment/cases/<int:recruit_case_id>", summary="一名发展对象及其各步骤", tags=TAGS)
def get_case(recruit_case_id: int) -> CaseOut:
    case = current_scope().get_or_404(RecruitCase, recruit_case_id)
    load_steps(case)
    return to_out(case)


@endpoint(
    "/recruitment/cases/<int:recruit_case_id>/steps",
    ["POST"],
    summary="记录发展党员的一个步骤（违反规定的日期间隔返回 422 并说明规定）",
    tags=TAGS,
    body=StepBody,
    status=201,
)
def add_step(recruit_case_id: int, body: StepBody) -> tuple[CaseOut, int]:
    case = current_scope().get_for_write(RecruitCase, recruit_case_id)
    record_step(case, StepInput(**body.model_dump()), load_calendar())
    return to_out(case), 201
