"""JSON API of the service ledger: catalog, matters, their events, measures.

Personal data (phone, ID number) is masked unless the caller may write in the
matter's region — the same rule as the pages and the Excel export.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from datetime import date, datetime
from typing import Annotated, Any, ClassVar, Literal

from flask import Response, request
from flask_login import current_user
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, RootModel, field_validator
from sqlalchemy import select
from sqlalchemy.orm import aliased

from tracker import clock, pagecache
from tracker.api.core import ApiError, endpoint
from tracker.api.pagination import Page, PageQuery, paginate_rows
from tracker.calendar_service import load_calendar
from tracker.extensions import db
from tracker.matters import commands, rules, services
from tracker.matters.models import (
    Channel,
    EventKind,
    HandlingLevel,
    MatterKind,
    MatterStatus,
    MatterType,
    Rating,
    RatingSource,
    ServiceMatter,
)
from tracker.models import Region, RegionLevel, User
from tracker.rows import rows_by
from tracker.scope import current_scope

TAGS = ["服务事项 service matters"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# -- catalog ------------------------------------------------------------------------------


class CatalogEntry(BaseModel):
    """One entry of a 事项清单."""

    id: int
    region_id: int
    name: str
    category: str
    kind: MatterKind
    promised_days: int
    statutory_days: int | None
    materials: list[str]
    handling_level: HandlingLevel
    active: bool


class CatalogEntryIn(_Strict):
    region_id: int = Field(description="The county (or city) whose catalog gets the entry")
    name: str = Field(min_length=1, max_length=100)
    category: str = Field(default="", max_length=50)
    kind: MatterKind
    promised_days: int = Field(default=0, ge=0, le=365)
    statutory_days: int | None = Field(default=None, ge=0, le=3650)
    materials: list[str] = Field(default_factory=list, max_length=50)
    handling_level: HandlingLevel = HandlingLevel.village
    active: bool = True


class CatalogQuery(_Strict):
    village_id: int | None = Field(default=None, description="Only the catalog this village uses")


def _entry(t: MatterType) -> CatalogEntry:
    return CatalogEntry(
        id=t.id,
        region_id=t.region_id,
        name=t.name,
        category=t.category,
        kind=t.kind,
        promised_days=t.promised_days,
        statutory_days=t.statutory_days,
        materials=list(t.materials or []),
        handling_level=t.handling_level,
        active=t.active,
    )


@endpoint(
    "/matters/catalog",
    summary="事项清单 (catalog of service matters)",
    tags=TAGS,
    query=CatalogQuery,
    response=CatalogEntry,
)
def api_catalog(query: CatalogQuery) -> list[CatalogEntry]:
    scope = current_scope()
    if query.village_id is not None:
        village = scope.get_or_404(Region, query.village_id)
        return [_entry(t) for t in services.catalog_for(village)]
    stmt = services.catalog_visible(scope).order_by(MatterType.region_id, MatterType.name)
    return [_entry(t) for t in db.session.scalars(stmt)]


@endpoint(
    "/matters/catalog",
    ["POST"],
    summary="Add a catalog entry (admins)",
    tags=TAGS,
    body=CatalogEntryIn,
    response=CatalogEntry,
    status=201,
)
def api_catalog_add(body: CatalogEntryIn) -> CatalogEntry:
    scope = current_scope()
    scope.require_admin(body.region_id)
    region = scope.get_or_404(Region, body.region_id)
    entry = services.save_matter_type(
        region,
        name=body.name,
        kind=body.kind,
        promised_days=body.promised_days,
        statutory_days=body.statutory_days,
        category=body.category,
        materials=body.materials,
        handling_level=body.handling_level,
        active=body.active,
    )
    return _entry(entry)


# -- matters ---------------------------------------------------------------------------------


class Person(BaseModel):
    id: int
    name: str | None


class MatterOut(BaseModel):
    """A service matter. Phone and ID number are masked unless the caller may write here."""

    id: int
    serial_no: str
    region_id: int
    village: str
    matter_type_id: int
    matter_type: str
    kind: MatterKind
    promised_days: int
    extension_days: int
    applicant_name: str
    applicant_phone: str
    applicant_id_number: str | None
    personal_data_masked: bool
    channel: Channel
    received_at: datetime
    received_on: date
    due_on: date | None = Field(description="Null while the clock is paused (补正)")
    calendar_official: bool = Field(
        description="False when a day counted came from the Mon–Fri fallback (year not published)"
    )
    status: MatterStatus
    overdue: bool
    first_responder: Person = Field(description="首问责任人: stays the owner after referrals")
    handler: Person | None
    handler_unit: str | None
    referred: bool
    materials_received: list[str]
    materials_missing: list[str]
    one_time_notice: str | None
    completed_at: datetime | None
    result: str | None
    on_time: bool | None
    working_days_used: int | None
    rating: Rating | None
    rating_void: bool
    callback_due_on: date | None
    called_back_on: date | None
    callback_on_time: bool | None


class MatterPage(Page[MatterOut]):
    """One page of service matters."""


class MatterQuery(PageQuery, _Strict):
    view: Literal["mine", "all", "overdue", "due_soon", "callbacks"] = "all"
    q: str = Field(
        default="",
        max_length=50,
        description="Number, applicant, item or text; writers also phone / ID number ending",
    )
    status: MatterStatus | Literal["open"] | None = None
    village_id: int | None = None
    matter_type_id: int | None = None
    due: Literal["soon", "overdue"] | None = None
    start: date | None = Field(default=None, description="Received on or after (local date)")
    end: date | None = Field(default=None, description="Received on or before (local date)")


class MatterIn(_Strict):
    village_id: int
    matter_type_id: int
    applicant_name: str = Field(min_length=1, max_length=32)
    applicant_phone: str = Field(min_length=1, max_length=20)
    applicant_id_number: str | None = Field(default=None, max_length=18)
    channel: Channel = Channel.in_person
    received_at: AwareDatetime | None = Field(default=None, description="Default: now")
    first_responder_id: int | None = Field(default=None, description="Default: the caller")
    materials_received: list[str] = Field(default_factory=list, max_length=50)
    materials_missing: list[str] = Field(default_factory=list, max_length=50)
    one_time_notice: str | None = Field(default=None, max_length=2000)
    note: str | None = Field(default=None, max_length=2000)
    client_token: str | None = Field(
        default=None, max_length=64, description="Resending the same token registers once"
    )


class EventOut(BaseModel):
    id: int
    kind: EventKind
    label: str
    at: datetime
    recorded_at: datetime | None
    actor: str | None
    to_user: str | None
    to_unit: str | None
    approver: str | None
    days: int | None
    rating: Rating | None
    note: str | None
    data: dict[str, Any] | None


class _StepIn(_Strict):
    """What every step takes (mirrors :class:`tracker.matters.commands.Step`)."""

    at: AwareDatetime | None = Field(default=None, description="When it happened; default: now")
    client_token: str | None = Field(
        default=None, max_length=64, description="Resending the same token records once"
    )

    command: ClassVar[type[commands.Step]]

    def to_command(self) -> commands.Step:
        return self.command(**self.model_dump(exclude={"kind"}))


_Note = Field(default=None, max_length=4000)


class ReportMissingIn(_StepIn):
    """一次性告知补正: the clock stops until the materials arrive."""

    command = commands.ReportMissing
    kind: Literal["materials_missing"]
    missing: list[str] = Field(min_length=1, max_length=50, description="Materials still missing")
    notice: str = Field(min_length=1, max_length=2000, description="What the applicant was told")


class SupplyMaterialsIn(_StepIn):
    """材料补齐: the clock runs again."""

    command = commands.SupplyMaterials
    kind: Literal["materials_supplied"]
    note: str | None = _Note


class ReferIn(_StepIn):
    """转办 to a user and/or a unit; the first responder stays the owner."""

    command = commands.Refer
    kind: Literal["referred"]
    to_user_id: int | None = None
    to_unit: str | None = Field(default=None, max_length=100)
    to_level: HandlingLevel | None = None
    note: str | None = _Note


class ExtendIn(_StepIn):
    """延期: approver, reason (``note``), working days, how the applicant was told."""

    command = commands.Extend
    kind: Literal["extended"]
    days: int = Field(ge=1, le=rules.MAX_EXTENSION_DAYS)
    approver: str = Field(min_length=1, max_length=64)
    note: str = Field(min_length=1, max_length=4000, description="The reason")
    notice: str = Field(min_length=1, max_length=2000)


class CompleteIn(_StepIn):
    """办结 with its result (``note``)."""

    command = commands.Complete
    kind: Literal["completed"]
    note: str = Field(min_length=1, max_length=4000, description="The result")


class RateIn(_StepIn):
    """评价 (not by the first responder or a handler: no self-rating)."""

    command = commands.Rate
    kind: Literal["rated"]
    rating: Rating
    note: str | None = _Note
    source: RatingSource = Field(
        default=RatingSource.staff,
        description="staff: a colleague not involved; paper_slip: the applicant's slip, copied in "
        "by the counter (allowed for its own staff). The applicant's own rating is the QR page.",
    )

    @field_validator("source")
    @classmethod
    def _not_the_applicant(cls, value: RatingSource) -> RatingSource:
        if value == RatingSource.applicant:
            raise ValueError("申请人本人的评价只能通过受理回执二维码提交")
        return value


class CallBackIn(_StepIn):
    """差评回访."""

    command = commands.CallBack
    kind: Literal["called_back"]
    note: str = Field(min_length=1, max_length=4000)


class AppealIn(_StepIn):
    """评价申诉 with its reason."""

    command = commands.Appeal
    kind: Literal["appealed"]
    note: str = Field(min_length=1, max_length=4000)


class DecideAppealIn(_StepIn):
    """申诉处理 (admins)."""

    command = commands.DecideAppeal
    kind: Literal["appeal_decided"]
    upheld: bool
    note: str = Field(min_length=1, max_length=4000)


class ArchiveIn(_StepIn):
    """归档."""

    command = commands.Archive
    kind: Literal["archived"]
    note: str | None = _Note


StepIn = Annotated[
    ReportMissingIn
    | SupplyMaterialsIn
    | ReferIn
    | ExtendIn
    | CompleteIn
    | RateIn
    | CallBackIn
    | AppealIn
    | DecideAppealIn
    | ArchiveIn,
    Field(discriminator="kind"),
]


class EventIn(RootModel[StepIn]):
    """One step of the timeline, by ``kind`` (one schema per kind, as in ``commands``)."""


_responder = aliased(User)
_handler = aliased(User)
# A matter as the API shows it, as plain rows; the columns are labelled with the names
# of MatterOut, those after ``region_path`` are what its computed fields are made of.
MATTER_ROWS = (
    select(
        ServiceMatter.id,
        ServiceMatter.serial_no,
        ServiceMatter.region_id,
        Region.name.label("village"),
        ServiceMatter.matter_type_id,
        MatterType.name.label("matter_type"),
        ServiceMatter.kind,
        ServiceMatter.promised_days,
        ServiceMatter.extension_days,
        ServiceMatter.applicant_name,
        ServiceMatter.applicant_phone,
        ServiceMatter.applicant_id_number,
        ServiceMatter.channel,
        ServiceMatter.received_at,
        ServiceMatter.received_on,
        ServiceMatter.due_on,
        ServiceMatter.calendar_official,
        ServiceMatter.status,
        ServiceMatter.handler_unit,
        ServiceMatter.referred,
        ServiceMatter.materials_received,
        ServiceMatter.materials_missing,
        ServiceMatter.one_time_notice,
        ServiceMatter.completed_at,
        ServiceMatter.result,
        ServiceMatter.on_time,
        ServiceMatter.working_days_used,
        ServiceMatter.rating,
        ServiceMatter.rating_void,
        ServiceMatter.callback_due_on,
        ServiceMatter.called_back_on,
        ServiceMatter.callback_on_time,
        Region.path.label("region_path"),
        ServiceMatter.first_responder_id,
        _responder.display_name,
        ServiceMatter.handler_id,
        _handler.display_name,
    )
    .join(Region, Region.id == ServiceMatter.region_id)
    .join(MatterType, MatterType.id == ServiceMatter.matter_type_id)
    .join(_responder, _responder.id == ServiceMatter.first_responder_id)
    .outerjoin(_handler, _handler.id == ServiceMatter.handler_id)
)
_PLAIN_FIELDS = tuple(MATTER_ROWS.selected_columns.keys())[:-5]


def matter_items(ids: Sequence[int]) -> list[dict[str, Any]]:
    """:class:`MatterOut` of these matters, in this order, as plain dicts (one statement);
    personal data masked unless the caller may write in the matter's village."""
    scope = current_scope()
    today = clock.today()
    found = rows_by(MATTER_ROWS, ids)
    items = []
    for (row,) in (found[i] for i in ids):
        *plain, path, responder_id, responder, handler_id, handler = row
        item = dict(zip(_PLAIN_FIELDS, plain, strict=True))
        full = services.personal_shown_at(scope, path)
        item["applicant_phone"] = services.shown_phone(item["applicant_phone"], full)
        item["applicant_id_number"] = services.shown_id(item["applicant_id_number"], full)
        item["personal_data_masked"] = not full
        item["overdue"] = rules.is_overdue(item["status"], item["due_on"], today)
        item["first_responder"] = {"id": responder_id, "name": responder}
        item["handler"] = {"id": handler_id, "name": handler} if handler_id else None
        items.append(item)
    return items


def _out(matter: ServiceMatter) -> MatterOut:
    return MatterOut.model_validate(matter_items([matter.id])[0])


def _mine() -> Hashable:
    """The page cache's ``vary``: ``view=mine`` is the signed-in user's own list."""
    return pagecache.per_user() if request.args.get("view") == "mine" else None


@endpoint(
    "/matters",
    summary="Service matters in scope",
    tags=TAGS,
    query=MatterQuery,
    response=MatterPage,
)
@pagecache.cached(vary=_mine)
def api_matters(query: MatterQuery) -> Response:
    scope = current_scope()
    today = clock.today()
    if query.view == "overdue":
        stmt = services.overdue_stmt(scope, today)
    elif query.view == "due_soon":
        stmt = services.due_soon_stmt(scope, today, load_calendar())
    elif query.view == "callbacks":
        stmt = services.callbacks_due_stmt(scope)
    else:
        me = current_user._get_current_object() if query.view == "mine" else None
        stmt = services.matters_stmt(scope, mine=me)
    stmt = services.apply_filter(
        stmt,
        services.MatterFilter(
            q=query.q,
            status=query.status or "",
            village_id=query.village_id,
            matter_type_id=query.matter_type_id,
            start=query.start,
            end=query.end,
            due=query.due or "",
        ),
        personal=scope.can_write,
        today=today,
        calendar=load_calendar(),
    )
    page = stmt.with_only_columns(ServiceMatter.id)
    return paginate_rows(MatterPage, page, query, lambda rows: matter_items([r[0] for r in rows]))


@endpoint(
    "/matters",
    ["POST"],
    summary="Register a service matter (服务事项登记)",
    tags=TAGS,
    body=MatterIn,
    response=MatterOut,
    status=201,
)
def api_register(body: MatterIn) -> Any:
    scope = current_scope()
    village = scope.get_for_write(Region, body.village_id)
    matter_type = db.session.get(MatterType, body.matter_type_id)
    if matter_type is None:
        message = services.MATTER_TYPE_NOT_HERE  # as for another county's catalog entry
        raise ApiError(422, message, fields={"matter_type_id": message})
    me: User = current_user._get_current_object()
    responder = me
    if body.first_responder_id is not None:
        found = db.session.get(User, body.first_responder_id)
        if found is None:
            message = services.RESPONDER_NOT_HERE  # as for a user of another county
            raise ApiError(422, message, fields={"first_responder_id": message})
        responder = found
    matter, created = services.register_matter(
        village=village,
        matter_type=matter_type,
        applicant_name=body.applicant_name,
        applicant_phone=body.applicant_phone,
        applicant_id_number=body.applicant_id_number,
        channel=body.channel,
        received_at=body.received_at,
        first_responder=responder,
        actor=me,
        calendar=load_calendar(),
        materials_received=body.materials_received,
        materials_missing=body.materials_missing,
        one_time_notice=body.one_time_notice,
        note=body.note,
        client_token=body.client_token,
    )
    if matter.region_id != village.id:
        raise ApiError(409, "该提交标识已用于其他村的事项", code="conflict")
    return _out(matter), 201 if created else 200


@endpoint("/matters/<int:matter_id>", summary="One service matter", tags=TAGS, response=MatterOut)
def api_matter(matter_id: int) -> MatterOut:
    return _out(current_scope().get_or_404(ServiceMatter, matter_id))


@endpoint(
    "/matters/<int:matter_id>/events", summary="A matter's timeline", tags=TAGS, response=EventOut
)
def api_events(matter_id: int) -> list[EventOut]:
    matter = current_scope().get_or_404(ServiceMatter, matter_id)
    return [EventOut.model_validate(services.event_dict(e)) for e in matter.events]


@endpoint(
    "/matters/<int:matter_id>/events",
    ["POST"],
    tags=TAGS,
    body=EventIn,
    response=EventOut,
    status=201,
    summary="Record a step (补正, 转办, 延期, 办结, 评价, 回访, 申诉, 归档); 409 if not allowed",
)
def api_add_event(matter_id: int, body: EventIn) -> Any:
    scope = current_scope()
    matter = scope.get_for_write(ServiceMatter, matter_id)
    event, created = services.record_event(
        matter,
        body.root.to_command(),
        current_user._get_current_object(),
        calendar=load_calendar(),
    )
    return EventOut.model_validate(services.event_dict(event)), 201 if created else 200


# -- measures --------------------------------------------------------------------------------


class MeasuresQuery(_Strict):
    level: RegionLevel = RegionLevel.village
    start: date
    end: date


class MeasuresOut(BaseModel):
    """The figures of :mod:`tracker.matters.figures` (``docs/figures.md``)."""

    region_id: int
    received: int
    completed: int
    judged: int = Field(description="应办结：本期到期已有结果的事项，加上期初仍未办结的逾期事项")
    on_time: int = Field(description="按时办结")
    completed_late: int = Field(description="超时办结（本期办结）")
    overdue_open: int = Field(description="逾期未办结（截至本期截止日或今天）")
    on_time_rate: float | None
    avg_working_days: float | None
    referral_rate: float | None
    satisfaction_rate: float | None
    bad: int = Field(description="本期应回访的差评")
    bad_called_back_on_time: int
    bad_callback_overdue: int
    callback_on_time_rate: float | None


@endpoint(
    "/matters/measures",
    summary="限时办结/好差评 measures per region node and period",
    tags=TAGS,
    query=MeasuresQuery,
    response=MeasuresOut,
)
def api_measures(query: MeasuresQuery) -> list[MeasuresOut]:
    scope = current_scope()
    if query.end < query.start:
        raise ApiError(422, "结束日期不能早于开始日期", fields={"end": "不能早于开始日期"})
    node = scope.get_or_404(Region, scope.region_id)
    result = services.matter_measures(
        query.level, query.start, query.end, today=clock.today(), under=node
    )
    return [MeasuresOut.model_validate(m.as_dict()) for m in result.values()]
