"""JSON API of the halls' resident services (场所功能提升) under ``/api/v1``.

- ``GET  /hall-services?hall_id=`` — resident services of the halls in scope (one hall)
- ``POST /hall-services`` — register one in a hall
- ``GET  /hall-services/{id}`` — one, with its monthly figures
- ``POST /hall-services/{id}/months`` — type in (or correct) a month's figure
"""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from tracker.api import endpoint
from tracker.api.pagination import Page, PageQuery, paginate
from tracker.formatting import mask_phone
from tracker.halls import resident
from tracker.halls.models import ActivityUnit, ResidentKind, ResidentService, ServiceHall
from tracker.periods import Period, PeriodError
from tracker.scope import current_scope

TAGS = ["halls"]


class ResidentBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    hall_id: int
    kind: ResidentKind
    name: str = Field(min_length=1, max_length=64)
    provider: str = Field(min_length=1, max_length=100)
    since: date
    until: date | None = None
    unit: ActivityUnit
    opening_hours: str = Field("", max_length=100)
    contact_phone: str = Field("", max_length=20)
    note: str = Field("", max_length=500)


class MonthBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    month: str = Field(min_length=7, max_length=7, description="月份，如 2026-03")
    value: int = Field(ge=0, le=resident.MAX_VALUE)


class MonthOut(BaseModel):
    month: str
    value: int


class ResidentOut(BaseModel):
    id: int
    hall_id: int
    village_id: int
    kind: ResidentKind
    kind_label: str
    name: str
    provider: str
    since: date
    until: date | None
    unit: ActivityUnit
    unit_label: str
    opening_hours: str
    contact_phone_masked: str
    note: str
    months: list[MonthOut]


class ResidentList(Page[ResidentOut]):
    """One page of resident services with their monthly figures."""


class ResidentQuery(PageQuery):
    model_config = ConfigDict(extra="forbid")
    hall_id: int | None = None


def to_out(s: ResidentService) -> ResidentOut:
    return ResidentOut(
        id=s.id,
        hall_id=s.hall_id,
        village_id=s.region_id,
        kind=s.kind,
        kind_label=resident.KIND_LABELS[s.kind],
        name=s.name,
        provider=s.provider,
        since=s.since,
        until=s.until,
        unit=s.unit,
        unit_label=resident.UNIT_LABELS[s.unit],
        opening_hours=s.opening_hours,
        contact_phone_masked=mask_phone(s.contact_phone),
        note=s.note,
        months=[MonthOut(month=f"{m.month:%Y-%m}", value=m.value) for m in s.months],
    )


@endpoint(
    "/hall-services",
    summary="服务大厅的入驻服务（电商、金融、保险、邮政物流等）及月度业务量",
    tags=TAGS,
    query=ResidentQuery,
    response=ResidentList,
)
def list_residents(query: ResidentQuery) -> ResidentList:
    scope = current_scope()
    halls = scope.filter(select(ServiceHall.id), ServiceHall)
    if query.hall_id is not None:
        halls = halls.where(ServiceHall.id == scope.get_or_404(ServiceHall, query.hall_id).id)
    return paginate(ResidentList, resident.services_stmt(halls.scalar_subquery()), query, to_out)


@endpoint(
    "/hall-services",
    ["POST"],
    summary="登记一项入驻服务",
    tags=TAGS,
    body=ResidentBody,
    response=ResidentOut,
    status=201,
)
def create_resident(body: ResidentBody) -> tuple[ResidentOut, int]:
    hall = current_scope().get_for_write(ServiceHall, body.hall_id)
    current_scope().require_write(hall.region_id)
    service = resident.create_service(
        hall, resident.ResidentInput(**body.model_dump(exclude={"hall_id"}))
    )
    return to_out(service), 201


@endpoint(
    "/hall-services/<int:resident_service_id>",
    summary="一项入驻服务及其月度业务量",
    tags=TAGS,
    response=ResidentOut,
)
def get_resident(resident_service_id: int) -> ResidentOut:
    service = current_scope().get_or_404(ResidentService, resident_service_id)
    return to_out(resident.load_months(service))


@endpoint(
    "/hall-services/<int:resident_service_id>/months",
    ["POST"],
    summary="填报（或更正）某月业务量，月份如 2026-03",
    tags=TAGS,
    body=MonthBody,
    response=ResidentOut,
)
def put_month(resident_service_id: int, body: MonthBody) -> ResidentOut:
    service = current_scope().get_for_write(ResidentService, resident_service_id)
    try:
        period = Period.parse(body.month)
    except PeriodError as exc:
        raise resident.ResidentError("月份格式应为 2026-03", "month") from exc
    if period.kind != "month":
        raise resident.ResidentError("月份格式应为 2026-03", "month")
    resident.record_activity(service, period.start, body.value)
    return to_out(service)
