"""JSON API of the secondment programme under ``/api/v1`` (in the OpenAPI document).

Selection (the organization department, an admin of the county):

- ``POST /secondment/batches`` — a batch of the user's county (or a county in scope)
- ``POST /secondment/batches/{id}/candidates`` — propose a cadre
- ``POST /secondment/candidates/{id}/checks`` · ``/veto`` · ``/select``
- ``POST /secondment/batches/{id}/complete`` — selection complete from a day
- ``POST /secondment/candidates/{id}/secondment`` — second a selected cadre

The secondment (anyone in scope who may write; the cadre from a phone):

- ``GET  /secondments`` (paginated) · ``GET /secondments/{id}``
- ``POST /secondments/{id}/log`` · ``/reports`` · ``/inspections`` · ``/assessments`` ·
  ``/complaints`` · ``/results`` — one factory, :func:`child_endpoint`
- ``POST /secondment/inspections/{id}/rectified`` — rectification done (date, note)
- ``GET  /secondment/programme?start=&end=`` — the programme view's figures
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import TypeVar

from flask_login import current_user
from pydantic import BaseModel, ConfigDict, Field

from tracker import clock
from tracker.api import endpoint
from tracker.api.pagination import Page, PageQuery, paginate
from tracker.calendar_service import load_calendar
from tracker.extensions import db
from tracker.models import Region
from tracker.scope import current_scope
from tracker.secondment import figures, services
from tracker.secondment.models import (
    Batch,
    Candidate,
    CandidateStatus,
    Grade,
    Inspection,
    PostType,
    ResultKind,
    Secondment,
    WorkGroup,
)
from tracker.secondment.rules import SecondmentError

TAGS = ["secondment"]
BodyT = TypeVar("BodyT", bound=BaseModel)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class BatchBody(Strict):
    region_id: int
    year: int = Field(ge=2000, le=2100)
    name: str = Field(min_length=1, max_length=100)
    purpose: str = Field("", max_length=5000)


class BatchOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    region_id: int
    year: int
    name: str
    selection_completed_on: date | None


class CandidateBody(Strict):
    name: str = Field(min_length=1, max_length=64)
    rank: str = Field("", max_length=32)
    sending_unit: str = Field(min_length=1, max_length=100)
    post_type: PostType


class CandidateOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    batch_id: int
    name: str
    rank: str
    sending_unit: str
    status: CandidateStatus
    veto_reason: str | None
    veto_source: str | None
    veto_on: date | None


class ChecksBody(Strict):
    discipline_checked_on: date | None = None
    discipline_checked_by: str = Field("", max_length=100)
    legal_checked_on: date | None = None
    legal_checked_by: str = Field("", max_length=100)


class VetoBody(Strict):
    veto_reason: str = Field(min_length=1, max_length=300)
    veto_source: str = Field(min_length=1, max_length=100)
    veto_on: date


class CompleteBody(Strict):
    selection_completed_on: date


class SecondmentBody(Strict):
    region_id: int
    receiving_unit: str = Field(min_length=1, max_length=100)
    post: str = Field(min_length=1, max_length=100)
    post_type: PostType
    start_on: date
    planned_end_on: date
    rank: str = Field("", max_length=32)
    joint_management: str = Field("", max_length=2000)
    guarantee_given: bool = False
    guarantee_on: date | None = None
    guarantee_note: str = Field("", max_length=300)
    user_id: int | None = None


class SecondmentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    batch_id: int
    region_id: int
    cadre_name: str
    rank: str
    sending_unit: str
    receiving_unit: str
    post: str
    post_type: PostType
    start_on: date
    planned_end_on: date
    actual_end_on: date | None
    guarantee_given: bool
    guarantee_on: date | None
    outcome: str | None
    outcome_on: date | None


class LogBody(Strict):
    day: date
    what: str = Field(min_length=1, max_length=2000)
    place: str = Field("", max_length=100)
    with_whom: str = Field("", max_length=200)
    outcome: str = Field("", max_length=2000)


class ReportBody(Strict):
    week_start: date
    work_done: str = Field(min_length=1, max_length=5000)
    problems: str = Field("", max_length=5000)
    next_plan: str = Field("", max_length=5000)
    public_fields: list[str] = Field(default_factory=list, max_length=3)


class InspectionBody(Strict):
    group_id: int | None = None
    day: date
    place: str = Field(min_length=1, max_length=100)
    present: bool
    findings: str = Field("", max_length=2000)
    rectification: str = Field("", max_length=2000)
    rectify_by: date | None = None


class AssessmentBody(Strict):
    window_key: str = Field(min_length=1, max_length=10)
    assessed_on: date
    grade: Grade
    assessors: str = Field(min_length=1, max_length=200)
    comment: str = Field("", max_length=2000)


class ComplaintBody(Strict):
    content: str = Field(min_length=1, max_length=5000)
    name: str = Field("", max_length=64)
    contact: str = Field("", max_length=64)


class ResultBody(Strict):
    kind: ResultKind
    day: date
    title: str = Field(min_length=1, max_length=200)
    detail: str = Field("", max_length=5000)


class RectifiedBody(Strict):
    rectified_on: date
    rectified_note: str = Field("", max_length=2000)


class Created(BaseModel):
    id: int


class ProgrammeQuery(Strict):
    start: date | None = None
    end: date | None = None


class ProgrammeOut(BaseModel):
    start: date
    end: date
    active: int
    ended: int
    by_post_type: dict[str, int]
    reports_scheduled: int
    reports_received: int
    reports_on_time: int
    due_this_week: int
    missing_this_week: int
    assessments_due: int
    assessments_done: int
    unfit: int
    visits: int
    visits_by_group: dict[str, int]
    absent: int
    rectifications_overdue: int
    open_complaints: int
    solved: int
    reported: int
    suggestions: int
    outcomes: dict[str, int]
    handling_due: int
    handling_met: int


def _batch(batch_id: int, write: bool = True) -> Batch:
    batch = current_scope().get_or_404(Batch, batch_id)
    if write:
        current_scope().require_admin(batch.region_id)
    return batch


def _candidate(candidate_id: int) -> Candidate:
    candidate = current_scope().get_or_404(Candidate, candidate_id)
    current_scope().require_admin(candidate.region_id)
    return candidate


def _batch_out(b: Batch) -> BatchOut:
    return BatchOut.model_validate(b)


def _candidate_out(c: Candidate) -> CandidateOut:
    return CandidateOut.model_validate(c)


def _out(s: Secondment) -> SecondmentOut:
    return SecondmentOut.model_validate(s)


@endpoint(
    "/secondment/batches",
    ["POST"],
    summary="建立挂职批次（县委组织部）",
    tags=TAGS,
    body=BatchBody,
    response=BatchOut,
    status=201,
)
def create_batch(body: BatchBody) -> tuple[BatchOut, int]:
    region = current_scope().get_or_404(Region, body.region_id)
    current_scope().require_admin(region.id)
    batch = services.create_batch(region, body.year, body.name, body.purpose)
    return _batch_out(batch), 201


@endpoint(
    "/secondment/batches/<int:batch_id>/candidates",
    ["POST"],
    summary="提名挂职人选（党管干部）",
    tags=TAGS,
    body=CandidateBody,
    response=CandidateOut,
    status=201,
)
def propose(batch_id: int, body: CandidateBody) -> tuple[CandidateOut, int]:
    batch = _batch(batch_id)
    c = services.propose_candidate(batch, body.name, body.rank, body.sending_unit, body.post_type)
    return _candidate_out(c), 201


@endpoint(
    "/secondment/candidates/<int:candidate_id>/checks",
    ["POST"],
    summary="登记纪检、法律审查",
    tags=TAGS,
    body=ChecksBody,
    response=CandidateOut,
)
def checks(candidate_id: int, body: ChecksBody) -> CandidateOut:
    c = _candidate(candidate_id)
    services.record_checks(
        c,
        body.discipline_checked_on,
        body.discipline_checked_by,
        body.legal_checked_on,
        body.legal_checked_by,
    )
    return _candidate_out(c)


@endpoint(
    "/secondment/candidates/<int:candidate_id>/veto",
    ["POST"],
    summary="一票否决（受党纪政务处分），记录来源和日期",
    tags=TAGS,
    body=VetoBody,
    response=CandidateOut,
)
def veto(candidate_id: int, body: VetoBody) -> CandidateOut:
    c = _candidate(candidate_id)
    services.veto(c, body.veto_reason, body.veto_source, body.veto_on)
    return _candidate_out(c)


@endpoint(
    "/secondment/candidates/<int:candidate_id>/select",
    ["POST"],
    summary="确定人选（审查通过）",
    tags=TAGS,
    response=CandidateOut,
)
def select_candidate(candidate_id: int) -> CandidateOut:
    c = _candidate(candidate_id)
    services.select_candidate(c)
    return _candidate_out(c)


@endpoint(
    "/secondment/batches/<int:batch_id>/complete",
    ["POST"],
    summary="选拔完成（此后方可开始挂职）",
    tags=TAGS,
    body=CompleteBody,
    response=BatchOut,
)
def complete(batch_id: int, body: CompleteBody) -> BatchOut:
    batch = _batch(batch_id)
    services.complete_selection(batch, body.selection_completed_on)
    return _batch_out(batch)


@endpoint(
    "/secondment/candidates/<int:candidate_id>/secondment",
    ["POST"],
    summary="派出挂职（不得早于选拔完成，不得与本人其他挂职重叠）",
    tags=TAGS,
    body=SecondmentBody,
    response=SecondmentOut,
    status=201,
)
def second(candidate_id: int, body: SecondmentBody) -> tuple[SecondmentOut, int]:
    c = _candidate(candidate_id)
    region = current_scope().get_or_404(Region, body.region_id)
    if body.user_id is not None:
        from tracker.models import User

        user = db.session.get(User, body.user_id)
        if user is None or user.region_id != region.id:
            raise SecondmentError("挂职干部的账号应属于接收单位", "user_id")
    data = services.SecondmentInput(**body.model_dump(exclude={"region_id"}))
    return _out(services.create_secondment(c, region, data)), 201


class SecondmentPage(Page[SecondmentOut]):
    """One page of the secondments in scope."""


@endpoint("/secondments", summary="范围内的挂职干部", tags=TAGS, query=PageQuery)
def list_secondments(query: PageQuery) -> SecondmentPage:
    stmt = current_scope().select(Secondment).order_by(Secondment.id)
    return paginate(SecondmentPage, stmt, query, _out)


@endpoint(
    "/secondments/<int:secondment_id>", summary="一名挂职干部", tags=TAGS, response=SecondmentOut
)
def get_secondment(secondment_id: int) -> SecondmentOut:
    return _out(current_scope().get_or_404(Secondment, secondment_id))


def _writable(secondment_id: int) -> Secondment:
    return current_scope().get_for_write(Secondment, secondment_id)


def child_endpoint(
    path: str,
    name: str,
    summary: str,
    body: type[BodyT],
    create: Callable[[Secondment, BodyT], tuple[int, int]],
) -> None:
    """``POST /secondments/{id}/<path>``: one record of the five systems for a cadre in scope.

    ``create(secondment, body)`` runs the service and returns ``(new id, status)``
    (201, or 200 when it edited an existing record, as a re-filed weekly report does).
    """

    def view(secondment_id: int, body: BodyT) -> tuple[Created, int]:
        new_id, status = create(_writable(secondment_id), body)
        return Created(id=new_id), status

    view.__name__ = name
    view.__doc__ = summary
    endpoint(
        f"/secondments/<int:secondment_id>/{path}",
        ["POST"],
        summary=summary,
        tags=TAGS,
        body=body,
        response=Created,
        status=201,
    )(view)


def _log(s: Secondment, body: LogBody) -> tuple[int, int]:
    return services.add_log(s, **body.model_dump()).id, 201


def _report(s: Secondment, body: ReportBody) -> tuple[int, int]:
    r, created = services.file_report(
        s,
        body.week_start,
        body.work_done,
        body.problems,
        body.next_plan,
        body.public_fields,
        load_calendar(),
    )
    return r.id, 201 if created else 200


def _inspection(s: Secondment, body: InspectionBody) -> tuple[int, int]:
    group = db.session.get(WorkGroup, body.group_id) if body.group_id else None
    if body.group_id and group is None:
        raise SecondmentError("督查组不存在", "group_id")
    v = services.record_inspection(
        s,
        group,
        body.day,
        body.place,
        body.present,
        body.findings,
        body.rectification,
        body.rectify_by,
        current_user._get_current_object(),
    )
    return v.id, 201


def _assessment(s: Secondment, body: AssessmentBody) -> tuple[int, int]:
    return services.record_assessment(s, **body.model_dump()).id, 201


def _complaint(s: Secondment, body: ComplaintBody) -> tuple[int, int]:
    c = services.file_complaint(
        s, body.content, body.name, body.contact, "staff", None, load_calendar()
    )
    return c.id, 201


def _result(s: Secondment, body: ResultBody) -> tuple[int, int]:
    return services.add_result(s, body.kind, body.day, body.title, body.detail).id, 201


child_endpoint("log", "add_log", "工作记实：记一条", LogBody, _log)
child_endpoint(
    "reports",
    "file_report",
    "周报：提交或修改某周周报（修改保留原文为一个版本）",
    ReportBody,
    _report,
)
child_endpoint(
    "inspections", "add_inspection", "现场督查：记录一次督查", InspectionBody, _inspection
)
child_endpoint(
    "assessments", "add_assessment", "定期考核：记录一个周期的考核等次", AssessmentBody, _assessment
)
child_endpoint(
    "complaints", "add_complaint", "监督举报：登记电话、来信或来访的举报", ComplaintBody, _complaint
)
child_endpoint(
    "results", "add_result", "工作成效：解决基层问题、向上反映问题或意见建议", ResultBody, _result
)


@endpoint(
    "/secondment/inspections/<int:inspection_id>/rectified",
    ["POST"],
    summary="督查整改：登记整改完成日期和情况（不得早于督查、不得晚于今天）",
    tags=TAGS,
    body=RectifiedBody,
    response=Created,
)
def rectified(inspection_id: int, body: RectifiedBody) -> Created:
    visit = current_scope().get_for_write(Inspection, inspection_id)
    services.record_rectification(visit, body.rectified_on, body.rectified_note)
    return Created(id=visit.id)


@endpoint(
    "/secondment/programme",
    summary="挂职工作总览：某期间的实时统计",
    tags=TAGS,
    query=ProgrammeQuery,
    response=ProgrammeOut,
)
def programme(query: ProgrammeQuery) -> ProgrammeOut:
    today = clock.today()
    start = query.start or date(today.year, 1, 1)
    end = query.end or today
    if end < start:
        raise SecondmentError("结束日期不能早于开始日期", "end")
    rows = list(db.session.scalars(current_scope().select(Secondment)))
    p = figures.programme(rows, start, end, today, load_calendar())
    return ProgrammeOut(**{k: v for k, v in vars(p).items() if k != "flags"})
