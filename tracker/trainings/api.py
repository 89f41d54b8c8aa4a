"""JSON API of the trainings register under ``/api/v1`` (in the OpenAPI document).

- ``GET  /trainings?village_id=&year=`` — a village's trainings
- ``POST /trainings`` — record one (``client_token`` makes a retry harmless)
- ``GET  /trainings/{id}``
- ``GET  /villages/{id}/trainings/figures?period=2026-Q1`` — windows met
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from flask_login import current_user
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from tracker import pagecache
from tracker.api import endpoint
from tracker.api.pagination import Page, PageQuery, paginate
from tracker.calendar_service import load_calendar
from tracker.formatting import mask_phone
from tracker.models import Member, Region
from tracker.periods import Period
from tracker.scope import current_scope
from tracker.trainings.concentrated import (
    ORG_LEVELS,
    ConcentratedInput,
    concentrated_figures,
    create_concentrated,
)
from tracker.trainings.farmers import (
    FarmerInput,
    TraineeInput,
    create_farmer_training,
    farmer_trainings,
    load_trainees,
)
from tracker.trainings.hours import member_hours
from tracker.trainings.models import FarmerTraining, Training, TrainingKind
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


def _session(t: Training | FarmerTraining) -> dict[str, Any]:
    """What a Party-member and a farmer training record show alike."""
    return {
        "id": t.id,
        "village_id": t.region_id,
        "title": t.title,
        "held_on": t.held_on,
        "hours": float(t.hours),
        "place": t.place,
        "organizer": t.organizer,
        "lecturer": t.lecturer,
        "deleted": t.deleted_at is not None,
    }


def to_out(t: Training) -> TrainingOut:
    return TrainingOut(
        **_session(t),
        kind=t.kind,
        kind_label=t.kind_label,
        content=t.content,
        attendee_ids=sorted(a.member_id for a in t.attendees),
        other_attendees=t.other_attendees,
        entered_at=t.entered_at,
        late=t.late,
        late_working_days=t.late_working_days,
    )


@endpoint(
    "/trainings", summary="一个村的培训记录", tags=TAGS, query=ListQuery, response=TrainingList
)
@pagecache.cached()
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


# ---------------------------------------------------------------- farmer training (农民教育培训)


class RowPage(Page[Any]):
    """A page of ORM rows, converted in bulk afterwards (figures for the whole page at once)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)


class TraineeBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=32)
    phone: str = Field("", max_length=20)


class FarmerBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    village_id: int
    topic: str = Field(min_length=1, max_length=32)
    title: str = Field(min_length=1, max_length=100)
    held_on: date
    hours: Decimal = Field(gt=0, le=200)
    place: str = Field(min_length=1, max_length=100)
    organizer: str = Field("", max_length=100)
    lecturer: str = Field("", max_length=64)
    trainee_count: int = Field(0, ge=0, le=10000)
    trainees: list[TraineeBody] = Field(default_factory=list, max_length=500)
    content: str = Field("", max_length=5000)


class TraineeOut(BaseModel):
    name: str
    phone_masked: str


class FarmerOut(BaseModel):
    id: int
    village_id: int
    topic: str
    title: str
    held_on: date
    hours: float
    place: str
    organizer: str
    lecturer: str
    trainee_count: int
    trainees: list[TraineeOut]
    total: int
    deleted: bool


class FarmerList(Page[FarmerOut]):
    """One page of a village's farmer trainings, oldest first (phones masked)."""


def farmer_out(t: FarmerTraining) -> FarmerOut:
    return FarmerOut(
        **_session(t),
        topic=t.topic,
        trainee_count=t.trainee_count,
        trainees=[TraineeOut(name=p.name, phone_masked=mask_phone(p.phone)) for p in t.trainees],
        total=t.total,
    )


@endpoint(
    "/farmer-trainings",
    summary="一个村的农民教育培训记录（学员电话遮挡）",
    tags=TAGS,
    query=ListQuery,
    response=FarmerList,
)
def list_farmer_trainings(query: ListQuery) -> FarmerList:
    region = current_scope().get_village_branch(query.village_id)[0]
    stmt = farmer_trainings([region.id], query.year or None)
    return paginate(
        FarmerList, stmt.order_by(FarmerTraining.held_on, FarmerTraining.id), query, farmer_out
    )


@endpoint(
    "/farmer-trainings",
    ["POST"],
    summary="录入农民教育培训（参训人数和/或逐一登记的村民学员）",
    tags=TAGS,
    body=FarmerBody,
    response=FarmerOut,
    status=201,
)
def create_farmer(body: FarmerBody) -> tuple[FarmerOut, int]:
    region = current_scope().get_village_branch(body.village_id)[0]
    current_scope().require_write(region.id)
    data = FarmerInput(
        **body.model_dump(exclude={"village_id", "trainees"}),
        trainees=[TraineeInput(t.name, t.phone) for t in body.trainees],
    )
    training = create_farmer_training(region, data, current_user._get_current_object())
    return farmer_out(training), 201


@endpoint(
    "/farmer-trainings/<int:farmer_training_id>",
    summary="一条农民教育培训记录",
    tags=TAGS,
    response=FarmerOut,
)
def get_farmer_training(farmer_training_id: int) -> FarmerOut:
    return farmer_out(load_trainees(current_scope().get_or_404(FarmerTraining, farmer_training_id)))


# ---------------------------------------------------------------- concentrated training (集中培训)


class ConcentratedBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    region_id: int
    title: str = Field(min_length=1, max_length=100)
    held_on: date
    hours: Decimal = Field(gt=0, le=200)
    place: str = Field(min_length=1, max_length=100)
    organizer: str = Field("", max_length=100)
    participants: int = Field(ge=1, le=100000)
    content: str = Field("", max_length=5000)


class ConcentratedOut(BaseModel):
    id: int
    region_id: int
    title: str
    held_on: date
    hours: float
    place: str
    organizer: str
    participants: int


class WindowOut(BaseModel):
    key: str
    hours: float
    status: str


class OrgObligationOut(BaseModel):
    region_id: int
    name: str
    level: str
    hours: float
    required_hours: float
    windows: list[WindowOut]


class OrgObligationList(Page[OrgObligationOut]):
    """Township and village organizations in scope with their concentrated-training windows."""


class ObligationQuery(PageQuery):
    model_config = ConfigDict(extra="forbid")
    year: int = Field(ge=2000, le=2100)


@endpoint(
    "/concentrated-trainings",
    summary="乡镇、村党组织每年集中培训完成情况（每期应达学时）",
    tags=TAGS,
    query=ObligationQuery,
    response=OrgObligationList,
)
def list_concentrated(query: ObligationQuery) -> OrgObligationList:
    stmt = current_scope().select(Region).where(Region.level.in_(ORG_LEVELS)).order_by(Region.path)
    page = paginate(RowPage, stmt, query, lambda r: r)
    figs = concentrated_figures([r.id for r in page.items], Period.of_year(query.year))
    items = [
        OrgObligationOut(
            region_id=r.id,
            name=r.name,
            level=r.level.value,
            hours=float(figs[r.id].hours),
            required_hours=float(figs[r.id].required_hours),
            windows=[
                WindowOut(key=w.key, hours=float(w.hours), status=w.status)
                for w in figs[r.id].windows
            ],
        )
        for r in page.items
    ]
    return OrgObligationList(
        items=items, total=page.total, page=page.page, per_page=page.per_page, next=page.next
    )


@endpoint(
    "/concentrated-trainings",
    ["POST"],
    summary="记录一次乡镇或村党组织的集中培训",
    tags=TAGS,
    body=ConcentratedBody,
    response=ConcentratedOut,
    status=201,
)
def create_concentrated_training(body: ConcentratedBody) -> tuple[ConcentratedOut, int]:
    org = current_scope().get_or_404(Region, body.region_id)
    current_scope().require_write(org.id)
    row = create_concentrated(
        org,
        ConcentratedInput(**body.model_dump(exclude={"region_id"})),
        current_user._get_current_object(),
    )
    out = ConcentratedOut(
        id=row.id,
        region_id=row.region_id,
        title=row.title,
        held_on=row.held_on,
        hours=float(row.hours),
        place=row.place,
        organizer=row.organizer,
        participants=row.participants,
    )
    return out, 201


# ---------------------------------------------------------------- per-person hours


class PersonHoursOut(BaseModel):
    member_id: int
    name: str
    sessions: int
    hours: float


class PersonHoursList(Page[PersonHoursOut]):
    """One page of a village branch's members with their training sessions and hours."""


class HoursQuery(PageQuery):
    model_config = ConfigDict(extra="forbid")
    village_id: int
    year: int = Field(ge=2000, le=2100)


@endpoint(
    "/training-hours",
    summary="一个村党员某年的参训次数与学时",
    tags=TAGS,
    query=HoursQuery,
    response=PersonHoursList,
)
def list_person_hours(query: HoursQuery) -> PersonHoursList:
    branch = current_scope().get_village_branch(query.village_id)[1]
    stmt = select(Member).where(Member.branch_id == branch.id).order_by(Member.name, Member.id)
    page = paginate(RowPage, stmt, query, lambda m: m)
    hours = member_hours([m.id for m in page.items], query.year)
    items = [
        PersonHoursOut(
            member_id=m.id,
            name=m.name,
            sessions=hours[m.id].sessions,
            hours=float(hours[m.id].hours),
        )
        for m in page.items
    ]
    return PersonHoursList(
        items=items, total=page.total, page=page.page, per_page=page.per_page, next=page.next
    )
