"""JSON API of village posts and recall cases under ``/api/v1`` (in the OpenAPI document).

- ``GET  /post-vacancies?village_id=&open=`` — vacancies in scope (one village), paginated
- ``POST /post-vacancies`` — a serving cadre leaves the post (辞职, 调离 …)
- ``GET  /post-vacancies/{id}``, ``POST /post-vacancies/{id}/fill`` — fill it (from a reserve)
- ``GET  /villages/{id}/post-history`` — who held each post when
- ``GET  /recall-cases?village_id=`` — recall cases in scope, paginated
"""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from tracker import clock
from tracker.api import endpoint
from tracker.api.pagination import Page, PageQuery, paginate
from tracker.calendar_service import load_calendar
from tracker.extensions import db
from tracker.models import VillageCadre
from tracker.scope import current_scope
from tracker.teams.api import RecallCaseOut, case_out
from tracker.teams.models import (
    CadreAssessment,
    PostVacancy,
    RecallCase,
    ReserveCadre,
    VacancyCause,
)
from tracker.teams.posts import (
    fill_vacancy,
    filled_late,
    is_overdue,
    post_history,
    vacancies_stmt,
    vacate_post,
)
from tracker.teams.services import TeamError

TAGS = ["teams"]


class VacancyOut(BaseModel):
    id: int
    village_id: int
    post: str
    previous_cadre_id: int | None
    previous_name: str
    cause: VacancyCause
    cause_label: str
    reason: str
    recall_case_id: int | None
    vacated_on: date
    due_on: date
    filled_on: date | None
    new_cadre_id: int | None
    new_name: str
    reserve_id: int | None
    fill_note: str
    overdue: bool
    filled_late: bool


class VacancyList(Page[VacancyOut]):
    """One page of vacant (or refilled) village posts, by deadline."""


class VacancyQuery(PageQuery):
    model_config = ConfigDict(extra="forbid")
    village_id: int | None = None
    open: bool = False


class VacateBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    cadre_id: int
    vacated_on: date
    cause: VacancyCause
    reason: str = Field("", max_length=200)


class FillBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    filled_on: date
    reserve_id: int | None = None
    name: str = Field("", max_length=32)
    member_id: int | None = None
    fill_note: str = Field("", max_length=200)


class TenureOut(BaseModel):
    name: str
    since: date | None
    until: date | None
    cadre_id: int | None
    vacancy_id: int | None


class PostOut(BaseModel):
    post: str
    tenures: list[TenureOut]


class PostHistoryOut(BaseModel):
    village_id: int
    posts: list[PostOut]


class RecallList(Page[RecallCaseOut]):
    """One page of recall cases (召回), oldest first."""


class RecallQuery(PageQuery):
    model_config = ConfigDict(extra="forbid")
    village_id: int | None = None


def vacancy_out(v: PostVacancy) -> VacancyOut:
    return VacancyOut(
        id=v.id,
        village_id=v.region_id,
        post=v.post,
        previous_cadre_id=v.previous_cadre_id,
        previous_name=v.previous_cadre.name if v.previous_cadre else "",
        cause=v.cause,
        cause_label=v.cause_label,
        reason=v.reason,
        recall_case_id=v.recall_case_id,
        vacated_on=v.vacated_on,
        due_on=v.due_on,
        filled_on=v.filled_on,
        new_cadre_id=v.new_cadre_id,
        new_name=v.new_cadre.name if v.new_cadre else "",
        reserve_id=v.reserve_id,
        fill_note=v.fill_note,
        overdue=is_overdue(v, clock.today()),
        filled_late=filled_late(v),
    )


@endpoint(
    "/post-vacancies",
    summary="村干部岗位空缺（补缺期限按工作日计）",
    tags=TAGS,
    query=VacancyQuery,
    response=VacancyList,
)
def list_vacancies(query: VacancyQuery) -> VacancyList:
    scope = current_scope()
    ids = scope.region_ids()
    if query.village_id is not None:
        ids = [scope.get_village(query.village_id).id]
    stmt = vacancies_stmt(ids, open_only=query.open).order_by(PostVacancy.due_on, PostVacancy.id)
    return paginate(VacancyList, stmt, query, vacancy_out)


@endpoint(
    "/post-vacancies",
    ["POST"],
    summary="登记岗位空缺：在任村干部离任（辞职、调离等）",
    tags=TAGS,
    body=VacateBody,
    response=VacancyOut,
    status=201,
)
def create_vacancy(body: VacateBody) -> tuple[VacancyOut, int]:
    cadre = current_scope().get_for_write(VillageCadre, body.cadre_id)
    if body.cause == VacancyCause.recall:
        raise TeamError("召回后调整/免职的空缺在召回结案时自动登记", "cause")
    vac = vacate_post(cadre, body.vacated_on, body.cause, body.reason, load_calendar())
    return vacancy_out(vac), 201


@endpoint(
    "/post-vacancies/<int:post_vacancy_id>",
    summary="一个岗位空缺",
    tags=TAGS,
    response=VacancyOut,
)
def get_vacancy(post_vacancy_id: int) -> VacancyOut:
    return vacancy_out(current_scope().get_or_404(PostVacancy, post_vacancy_id))


@endpoint(
    "/post-vacancies/<int:post_vacancy_id>/fill",
    ["POST"],
    summary="补齐岗位（优先从后备干部中任用，任用后其状态为已任用）",
    tags=TAGS,
    body=FillBody,
    response=VacancyOut,
)
def fill(post_vacancy_id: int, body: FillBody) -> VacancyOut:
    vac = current_scope().get_for_write(PostVacancy, post_vacancy_id)
    reserve = None
    if body.reserve_id is not None:
        reserve = db.session.get(ReserveCadre, body.reserve_id)
        if reserve is None or reserve.region_id != vac.region_id:
            raise TeamError("所选后备干部不在本村后备干部库中", "reserve_id")
    fill_vacancy(
        vac,
        body.filled_on,
        reserve=reserve,
        name=body.name,
        member_id=body.member_id,
        note=body.fill_note,
    )
    return vacancy_out(vac)


@endpoint(
    "/villages/<int:village_id>/post-history",
    summary="一个村各岗位的任职历史（谁在何时任职、空缺期间）",
    tags=TAGS,
    response=PostHistoryOut,
)
def history(village_id: int) -> PostHistoryOut:
    village = current_scope().get_village(village_id)
    return PostHistoryOut(
        village_id=village.id,
        posts=[
            PostOut(
                post=post,
                tenures=[
                    TenureOut(
                        name=t.name,
                        since=t.since,
                        until=t.until,
                        cadre_id=t.cadre_id,
                        vacancy_id=t.vacancy.id if t.vacancy else None,
                    )
                    for t in rows
                ],
            )
            for post, rows in post_history(village).items()
        ],
    )


@endpoint(
    "/recall-cases",
    summary="召回案件列表",
    tags=TAGS,
    query=RecallQuery,
    response=RecallList,
)
def list_recalls(query: RecallQuery) -> RecallList:
    scope = current_scope()
    stmt = (
        scope.filter(select(RecallCase), RecallCase)
        .options(
            selectinload(RecallCase.steps),
            selectinload(RecallCase.assessment).selectinload(CadreAssessment.cadre),
        )
        .order_by(RecallCase.opened_on, RecallCase.id)
    )
    if query.village_id is not None:
        stmt = stmt.where(RecallCase.region_id == scope.get_village(query.village_id).id)
    return paginate(RecallList, stmt, query, case_out)
