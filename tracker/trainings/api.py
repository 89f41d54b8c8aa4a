"""JSON API of the trainings register under ``/api/v1`` (in the OpenAPI document).

- ``GET  /trainings?village_id=&year=`` — a village's trainings
- ``POST /trainings`` — record one (``client_token`` makes a retry harmless)
- ``GET  /trainings/{id}``
- ``GET  /villages/{id}/trainings/figures?period=2026-Q1`` — windows met
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from flask_login import current_user
from pydantic import BaseModel, ConfigDict, Field

from tracker.api import endpoint
from tracker.api.pagination import Page, PageQuery, paginate
from tracker.calendar_service import load_calendar
from tracker.periods import Period
from tracker.scope import current_scope
from tracker.trainings.models import Training, TrainingKind
from tracker.trainings.services import (
    TrainingInput,
    create_training,
    figures_for_branches,
    load_attendees,
    trainings_of_branch,
)

TAGS = ["trainings"]


class TrainingBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    village_id: int
    kind: TrainingKind
    title: str = Field(min_length=1, max_length=100)
    held_on: date
    hours: Decimal = Field(gt=0, le=200)
    place: str = Field(min_length=1, max_length=100)
    organizer: str = Field("", max_length=100)
    lecturer: str = Field("", max_length=64)
    content: str = Field("", max_length=5000)
    attendee_ids: list[int] = Field(default_factory=list, max_length=2000)
    other_attendees: int = Field(0, ge=0, le=10000)
    client_token: str | None = Field(None, min_length=8, max_length=64)


class TrainingOut(BaseModel):
    id: int
    village_id: int
    kind: TrainingKind
    kind_label: str
    title: str
    held_on: date
    hours: float
    place: str
    organizer: str
    lecturer: str
    content: str
    attendee_ids: list[int]
    other_attendees: int
    entered_at: datetime
    late: bool
    late_working_days: int
    deleted: bool


class TrainingList(Page[TrainingOut]):
    """One page of a village's trainings, oldest first."""


class ListQuery(PageQuery):
    model_config = ConfigDict(extra="forbid")
    village_id: int
    year: int | None = Field(None, ge=2000, le=2100)


class FiguresQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    period: str = Field(max_length=10)


class FiguresOut(BaseModel):
    village_id: int
    period: str
    count: int
    hours: float
    late: int
    windows_required: int
    windows_met: int
    missing_windows: list[str]
    rate: float | None


def to_out(t: Training) -> TrainingOut:
    return TrainingOut(
        id=t.id,
        village_id=t.region_id,
        kind=t.kind,
        kind_label=t.kind_label,
        title=t.title,
        held_on=t.held_on,
        hours=float(t.hours),
        place=t.place,
        organizer=t.organizer,
        lecturer=t.lecturer,
        content=t.content,
        attendee_ids=sorted(a.member_id for a in t.attendees),
        other_attendees=t.other_attendees,
        entered_at=t.entered_at,
        late=t.late,
        late_working_days=t.late_working_days,
        deleted=t.deleted_at is not None,
    )


@endpoint(
    "/trainings", summary="一个村的培训记录", tags=TAGS, query=ListQuery, response=TrainingList
)
def list_trainings(query: ListQuery) -> TrainingList:
    branch = current_scope().get_village_branch(query.village_id)[1]
    stmt = trainings_of_branch(branch.id, query.year or None)
    return paginate(TrainingList, stmt.order_by(Training.held_on, Training.id), query, to_out)


@endpoint(
    "/trainings",
    ["POST"],
    summary="录入培训记录（client_token 相同的重复提交只保存一次）",
    tags=TAGS,
    body=TrainingBody,
    response=TrainingOut,
    status=201,
)
def create(body: TrainingBody) -> tuple[TrainingOut, int]:
    branch = current_scope().get_village_branch(body.village_id)[1]
    current_scope().require_write(branch.region_id)
    data = TrainingInput(**body.model_dump(exclude={"village_id"}))
    training, created = create_training(
        branch, data, current_user._get_current_object(), load_calendar()
    )
    return to_out(training), 201 if created else 200


@endpoint("/trainings/<int:training_id>", summary="一条培训记录", tags=TAGS, response=TrainingOut)
def get_training(training_id: int) -> TrainingOut:
    return to_out(load_attendees(current_scope().get_or_404(Training, training_id)))


@endpoint(
    "/villages/<int:village_id>/trainings/figures",
    summary="一个村某期间的培训开展情况（应开展的周期与已开展的周期）",
    tags=TAGS,
    query=FiguresQuery,
    response=FiguresOut,
)
def figures(village_id: int, query: FiguresQuery) -> FiguresOut:
    branch = current_scope().get_village_branch(village_id)[1]
    period = Period.parse(query.period)
    fig = figures_for_branches([branch.id], period)[branch.id]
    return FiguresOut(
        village_id=village_id,
        period=period.key,
        count=fig.count,
        hours=float(fig.hours),
        late=fig.late,
        windows_required=fig.windows_required,
        windows_met=fig.windows_met,
        missing_windows=list(fig.missing_windows),
        rate=fig.rate,
    )
