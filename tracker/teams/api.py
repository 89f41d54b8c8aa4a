"""JSON API of the reserve-cadre register under ``/api/v1`` (in the OpenAPI document).

- ``GET  /reserve-cadres?village_id=`` — a village's reserve cadres and its "2+5" figures
- ``POST /reserve-cadres`` — enter one
- ``GET  /reserve-cadres/{id}``
- ``POST /reserve-cadres/{id}/assessments`` — record an assessment
- ``POST /reserve-cadres/{id}/status`` — appointed (已任用) or withdrawn (已退出)
- ``POST /cadre-assessments`` — a village cadre's yearly grade (不称职 opens a recall case)
- ``GET  /recall-cases/{id}``, ``POST /recall-steps/{id}`` — a recall case and its steps
"""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from tracker.api import endpoint
from tracker.calendar_service import load_calendar
from tracker.extensions import db
from tracker.models import VillageCadre
from tracker.scope import current_scope
from tracker.teams.models import (
    Grade,
    RecallCase,
    RecallOutcome,
    RecallStep,
    RecallStepKind,
    ReserveCadre,
    ReserveSource,
    ReserveStatus,
    ReserveTrack,
)
from tracker.teams.recall import assess_cadre, record_step
from tracker.teams.services import (
    ReserveInput,
    add_assessment,
    change_status,
    create_reserve,
    reserve_figures,
)

TAGS = ["teams"]


class ReserveBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    village_id: int
    name: str = Field("", max_length=32)
    member_id: int | None = None
    source: ReserveSource
    track: ReserveTrack
    entered_on: date
    mentor: str = Field("", max_length=64)
    plan: str = Field("", max_length=5000)


class AssessmentBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    assessed_on: date
    assessor: str = Field(min_length=1, max_length=64)
    result: str = Field(min_length=1, max_length=500)


class StatusBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: ReserveStatus
    status_on: date
    status_reason: str = Field(min_length=1, max_length=200)


class AssessmentOut(BaseModel):
    id: int
    assessed_on: date
    assessor: str
    result: str


class ReserveOut(BaseModel):
    id: int
    village_id: int
    member_id: int | None
    name: str
    source: ReserveSource
    source_label: str
    track: ReserveTrack
    track_label: str
    entered_on: date
    mentor: str
    plan: str
    status: ReserveStatus
    status_label: str
    status_on: date | None
    status_reason: str
    assessments: list[AssessmentOut]


class FiguresOut(BaseModel):
    secretary: int
    secretary_target: int
    committee: int
    committee_target: int
    short: int


class ReserveList(BaseModel):
    items: list[ReserveOut]
    figures: FiguresOut


class ListQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    village_id: int


def to_out(r: ReserveCadre) -> ReserveOut:
    return ReserveOut(
        id=r.id,
        village_id=r.region_id,
        member_id=r.member_id,
        name=r.name,
        source=r.source,
        source_label=r.source_label,
        track=r.track,
        track_label=r.track_label,
        entered_on=r.entered_on,
        mentor=r.mentor,
        plan=r.plan,
        status=r.status,
        status_label=r.status_label,
        status_on=r.status_on,
        status_reason=r.status_reason,
        assessments=[
            AssessmentOut(id=a.id, assessed_on=a.assessed_on, assessor=a.assessor, result=a.result)
            for a in r.assessments
        ],
    )


@endpoint(
    "/reserve-cadres",
    summary="一个村的后备干部及“2+5”目标完成情况",
    tags=TAGS,
    query=ListQuery,
    response=ReserveList,
)
def list_reserves(query: ListQuery) -> ReserveList:
    scope = current_scope()
    region, _branch = scope.get_village_branch(query.village_id)
    rows = db.session.scalars(
        scope.filter(select(ReserveCadre), ReserveCadre)
        .where(ReserveCadre.region_id == region.id)
        .order_by(ReserveCadre.entered_on, ReserveCadre.id)
    ).all()
    f = reserve_figures([region.id])[region.id]
    return ReserveList(
        items=[to_out(r) for r in rows],
        figures=FiguresOut(
            secretary=f.secretary,
            secretary_target=f.secretary_target,
            committee=f.committee,
            committee_target=f.committee_target,
            short=f.short,
        ),
    )


@endpoint(
    "/reserve-cadres",
    ["POST"],
    summary="后备干部入库（已任用的不能再次入库）",
    tags=TAGS,
    body=ReserveBody,
    response=ReserveOut,
    status=201,
)
def create_reserve_cadre(body: ReserveBody) -> tuple[ReserveOut, int]:
    scope = current_scope()
    region, _branch = scope.get_village_branch(body.village_id)
    scope.require_write(region.id)
    reserve = create_reserve(region, ReserveInput(**body.model_dump(exclude={"village_id"})))
    return to_out(reserve), 201


@endpoint(
    "/reserve-cadres/<int:reserve_id>", summary="一名后备干部", tags=TAGS, response=ReserveOut
)
def get_reserve(reserve_id: int) -> ReserveOut:
    return to_out(current_scope().get_or_404(ReserveCadre, reserve_id))


@endpoint(
    "/reserve-cadres/<int:reserve_id>/assessments",
    ["POST"],
    summary="记录一次考察（不得早于入库日期）",
    tags=TAGS,
    body=AssessmentBody,
    response=ReserveOut,
    status=201,
)
def assess_reserve_cadre(reserve_id: int, body: AssessmentBody) -> tuple[ReserveOut, int]:
    reserve = current_scope().get_for_write(ReserveCadre, reserve_id)
    add_assessment(reserve, body.assessed_on, body.assessor, body.result)
    return to_out(reserve), 201


@endpoint(
    "/reserve-cadres/<int:reserve_id>/status",
    ["POST"],
    summary="变更状态：已任用或已退出（注明日期与原因）",
    tags=TAGS,
    body=StatusBody,
    response=ReserveOut,
)
def set_reserve_status(reserve_id: int, body: StatusBody) -> ReserveOut:
    reserve = current_scope().get_for_write(ReserveCadre, reserve_id)
    change_status(reserve, body.status, body.status_on, body.status_reason)
    return to_out(reserve)


class CadreAssessmentBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    cadre_id: int
    year: int = Field(ge=2000, le=2100)
    grade: Grade
    decided_by: str = Field(min_length=1, max_length=64)
    decided_on: date
    note: str = Field("", max_length=500)


class RecallStepOut(BaseModel):
    id: int
    kind: RecallStepKind
    label: str
    due_on: date
    done_on: date | None
    note: str


class CadreAssessmentOut(BaseModel):
    id: int
    cadre_id: int
    village_id: int
    year: int
    grade: Grade
    grade_label: str
    decided_by: str
    decided_on: date
    recall_case_id: int | None


class RecallCaseOut(BaseModel):
    id: int
    assessment_id: int
    village_id: int
    opened_on: date
    decided_by: str
    reason: str
    outcome: RecallOutcome | None
    closed_on: date | None
    steps: list[RecallStepOut]


class RecallStepBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    done_on: date
    note: str = Field("", max_length=500)
    outcome: RecallOutcome | None = None


def case_out(c: RecallCase) -> RecallCaseOut:
    return RecallCaseOut(
        id=c.id,
        assessment_id=c.assessment_id,
        village_id=c.region_id,
        opened_on=c.opened_on,
        decided_by=c.decided_by,
        reason=c.reason,
        outcome=c.outcome,
        closed_on=c.closed_on,
        steps=[
            RecallStepOut(
                id=s.id, kind=s.kind, label=s.label, due_on=s.due_on, done_on=s.done_on, note=s.note
            )
            for s in c.steps
        ],
    )


@endpoint(
    "/cadre-assessments",
    ["POST"],
    summary="录入村干部年度考核（不称职的自动启动召回）",
    tags=TAGS,
    body=CadreAssessmentBody,
    response=CadreAssessmentOut,
    status=201,
)
def create_cadre_assessment(body: CadreAssessmentBody) -> tuple[CadreAssessmentOut, int]:
    cadre = current_scope().get_for_write(VillageCadre, body.cadre_id)
    a = assess_cadre(
        cadre, body.year, body.grade, body.decided_by, body.decided_on, load_calendar(), body.note
    )
    case_id = db.session.scalar(select(RecallCase.id).where(RecallCase.assessment_id == a.id))
    out = CadreAssessmentOut(
        id=a.id,
        cadre_id=a.cadre_id,
        village_id=a.region_id,
        year=a.year,
        grade=a.grade,
        grade_label=a.grade_label,
        decided_by=a.decided_by,
        decided_on=a.decided_on,
        recall_case_id=case_id,
    )
    return out, 201


@endpoint(
    "/recall-cases/<int:case_id>", summary="一个召回案件及其步骤", tags=TAGS, response=RecallCaseOut
)
def get_recall_case(case_id: int) -> RecallCaseOut:
    return case_out(current_scope().get_or_404(RecallCase, case_id))


@endpoint(
    "/recall-steps/<int:step_id>",
    ["POST"],
    summary="记录召回步骤完成（按顺序，不得早于考核日期）",
    tags=TAGS,
    body=RecallStepBody,
    response=RecallCaseOut,
)
def complete_recall_step(step_id: int, body: RecallStepBody) -> RecallCaseOut:
    step = current_scope().get_for_write(RecallStep, step_id)
    record_step(step, body.done_on, body.note, body.outcome)
    return case_out(step.case)
