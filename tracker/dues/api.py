"""JSON API of 党费收缴 under ``/api/v1`` (in the OpenAPI document).

- ``GET  /dues/summary?village_id=&month=YYYY-MM`` — a branch's monthly collection
- ``GET  /dues/members?village_id=&month=`` — the members who owed that month (paginated)
- ``GET  /dues/payments?village_id=`` — a branch's payments, newest first (paginated)
- ``POST /dues/payments`` — record a payment; ``POST /dues/bases`` — set a base;
  ``POST /dues/excuses`` — record a reason for unpaid dues
- ``GET  /dues/members/{id}`` — one member's bases, payments and arrears
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from flask_login import current_user
from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from sqlalchemy import select

from tracker import clock
from tracker.api import endpoint
from tracker.api.pagination import Page, PageQuery, paginate
from tracker.dues import figures, rules
from tracker.dues.figures import MonthSummary
from tracker.dues.models import DuesBase, DuesPayment
from tracker.dues.rules import DuesCategory, PayMethod
from tracker.dues.services import (
    DuesError,
    PaymentInput,
    ledger_of,
    ledgers,
    record_excuse,
    record_payment,
    set_base,
)
from tracker.models import Branch, Member, Region
from tracker.scope import current_scope

TAGS = ["dues"]

Month = Annotated[str, StringConstraints(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")]


def _month(text: str | None, field: str = "month") -> date:
    if not text:
        return rules.month_of(clock.today())
    y, m = text.split("-")
    month = date(int(y), int(m), 1)
    if not 1900 <= month.year <= 2100:
        raise DuesError("月份超出范围", field)
    return month


class SummaryQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    village_id: int
    month: Month | None = Field(None, description="YYYY-MM；默认本月")


def _branch_month(village_id: int, month: str | None) -> tuple[Region, Branch, MonthSummary]:
    """The village asked for (in scope, with its branch: else 404) and the branch's
    collection in ``month`` (default: this month)."""
    region, branch = current_scope().get_village_branch(village_id)
    day = _month(month)
    return region, branch, figures.month_summaries([branch.id], day)[branch.id]


class SummaryOut(BaseModel):
    village_id: int
    branch_id: int
    month: str
    members: int = Field(description="当月在册党员（当月任一日在册）")
    no_base: int = Field(description="其中未核定基数")
    due_members: int
    due_fen: int = Field(description="应交金额（分）")
    paid_members: int
    paid_fen: int
    arrears_members: int
    arrears_fen: int
    collected_fen: int = Field(description="当月实收（按交纳日期，分）")
    flagged: int = Field(description="连续 6 个月以上未交且无原因（须谈话）")


@endpoint(
    "/dues/summary",
    summary="党支部党费收缴月汇总（应交、已交、欠交）",
    tags=TAGS,
    query=SummaryQuery,
)
def dues_summary(query: SummaryQuery) -> SummaryOut:
    region, branch, s = _branch_month(query.village_id, query.month)
    return SummaryOut(
        village_id=region.id,
        branch_id=branch.id,
        month=f"{s.month:%Y-%m}",
        members=s.members,
        no_base=s.no_base,
        due_members=s.due_members,
        due_fen=s.due_fen,
        paid_members=s.paid_members,
        paid_fen=s.paid_fen,
        arrears_members=s.arrears_members,
        arrears_fen=s.arrears_fen,
        collected_fen=s.collected_fen,
        flagged=s.flagged,
    )


class MemberDuesOut(BaseModel):
    member_id: int
    name: str
    category: DuesCategory | None
    monthly_fen: int | None = Field(description="当月应交（分）；未核定为 null")
    paid_fen: int | None = Field(description="当月已交（分）；未交为 null")
    arrears_months: list[str]
    arrears_fen: int
    unpaid_run: int = Field(description="截至上月连续未交月数")
    excused: bool
    flagged: bool


class MemberDuesPage(Page[MemberDuesOut]):
    """A page of a branch's members in a month."""


class MembersQuery(PageQuery):
    model_config = ConfigDict(extra="forbid")
    village_id: int
    month: Month | None = None


@endpoint(
    "/dues/members",
    summary="党支部当月在册党员的应交、已交与欠交",
    tags=TAGS,
    query=MembersQuery,
)
def dues_members(query: MembersQuery) -> MemberDuesPage:
    _region, branch, s = _branch_month(query.village_id, query.month)
    month = s.month
    as_of = min(clock.today(), rules.add_months(month, 1))
    by_id = {r.ledger.member.id: r for r in s.rows}
    history = {lg.member.id: lg for lg in ledgers([branch.id])[branch.id]}
    stmt = (
        select(Member)
        .where(Member.id.in_(list(by_id)))
        .order_by(Member.group_id, Member.name, Member.id)
    )

    def convert(m: Member) -> MemberDuesOut:
        row = by_id[m.id]
        a = figures.member_arrears(history[m.id], as_of)
        base = row.ledger.base_in(month)
        return MemberDuesOut(
            member_id=m.id,
            name=m.name,
            category=base.category if base else None,
            monthly_fen=row.due_fen,
            paid_fen=row.paid_fen,
            arrears_months=[f"{x:%Y-%m}" for x in a.months],
            arrears_fen=a.amount_fen,
            unpaid_run=a.run,
            excused=a.excused,
            flagged=a.flagged,
        )

    return paginate(MemberDuesPage, current_scope().filter(stmt, Member), query, convert)


class PaymentOut(BaseModel):
    id: int
    member_id: int
    village_id: int
    first_month: str
    last_month: str
    months: int
    amount_fen: int
    paid_on: date
    method: PayMethod
    method_label: str
    collector: str
    note: str

    @classmethod
    def of(cls, p: DuesPayment) -> PaymentOut:
        return cls(
            id=p.id,
            member_id=p.member_id,
            village_id=p.region_id,
            first_month=f"{p.first_month:%Y-%m}",
            last_month=f"{p.last_month:%Y-%m}",
            months=p.months,
            amount_fen=p.amount_fen,
            paid_on=p.paid_on,
            method=p.method,
            method_label=p.method_label,
            collector=p.collector,
            note=p.note,
        )


class PaymentPage(Page[PaymentOut]):
    """A page of payments."""


class PaymentsQuery(PageQuery):
    model_config = ConfigDict(extra="forbid")
    village_id: int


@endpoint(
    "/dues/payments", summary="党支部的党费交纳记录（新的在前）", tags=TAGS, query=PaymentsQuery
)
def dues_payments(query: PaymentsQuery) -> PaymentPage:
    scope = current_scope()
    region, _branch = scope.get_village_branch(query.village_id)
    stmt = scope.filter(
        select(DuesPayment).where(DuesPayment.region_id == region.id), DuesPayment
    ).order_by(DuesPayment.paid_on.desc(), DuesPayment.id.desc())
    return paginate(PaymentPage, stmt, query, PaymentOut.of)


class PaymentBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    member_id: int
    first_month: Month
    last_month: Month | None = None
    amount_fen: int = Field(gt=0, le=100_000_000, description="金额（分）")
    paid_on: date
    method: PayMethod
    collector: str = Field(min_length=1, max_length=32)
    note: str = Field("", max_length=200)


@endpoint(
    "/dues/payments",
    ["POST"],
    summary="登记党费交纳（所交月份须在册、已核定基数、未交过；金额不少于应交）",
    tags=TAGS,
    body=PaymentBody,
    status=201,
)
def create_dues_payment(body: PaymentBody) -> tuple[PaymentOut, int]:
    member = current_scope().get_for_write(Member, body.member_id)
    payment = record_payment(
        member,
        PaymentInput(
            first_month=_month(body.first_month, "first_month"),
            last_month=_month(body.last_month, "last_month") if body.last_month else None,
            amount_fen=body.amount_fen,
            paid_on=body.paid_on,
            method=body.method,
            collector=body.collector,
            note=body.note,
        ),
        current_user.id,
    )
    return PaymentOut.of(payment), 201


class BaseBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    member_id: int
    effective_month: Month
    category: DuesCategory
    income_fen: int | None = Field(None, ge=0, le=100_000_000, description="税后月收入（分）")
    note: str = Field("", max_length=200)


class BaseOut(BaseModel):
    id: int
    member_id: int
    effective_month: str
    category: DuesCategory
    income_fen: int | None
    rate_bp: int | None = Field(description="比例（万分之一）；定额为 null")
    monthly_fen: int

    @classmethod
    def of(cls, b: DuesBase) -> BaseOut:
        return cls(
            id=b.id,
            member_id=b.member_id,
            effective_month=f"{b.effective_month:%Y-%m}",
            category=b.category,
            income_fen=b.income_fen,
            rate_bp=b.rate_bp,
            monthly_fen=b.monthly_fen,
        )


@endpoint(
    "/dues/bases",
    ["POST"],
    summary="核定党员党费基数（自起用月份起；之前的月份不变）",
    tags=TAGS,
    body=BaseBody,
    status=201,
)
def create_dues_base(body: BaseBody) -> tuple[BaseOut, int]:
    member = current_scope().get_for_write(Member, body.member_id)
    base = set_base(
        member,
        _month(body.effective_month, "effective_month"),
        body.category,
        body.income_fen,
        body.note,
        current_user.id,
    )
    return BaseOut.of(base), 201


class ExcuseBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    member_id: int
    from_month: Month
    until_month: Month | None = None
    reason: str = Field(min_length=1, max_length=200)


class ExcuseOut(BaseModel):
    id: int
    member_id: int
    from_month: str
    until_month: str | None
    reason: str


@endpoint(
    "/dues/excuses",
    ["POST"],
    summary="登记未交党费的原因或谈话情况",
    tags=TAGS,
    body=ExcuseBody,
    status=201,
)
def create_dues_excuse(body: ExcuseBody) -> tuple[ExcuseOut, int]:
    member = current_scope().get_for_write(Member, body.member_id)
    e = record_excuse(
        member,
        _month(body.from_month, "from_month"),
        _month(body.until_month, "until_month") if body.until_month else None,
        body.reason,
        current_user.id,
    )
    return (
        ExcuseOut(
            id=e.id,
            member_id=e.member_id,
            from_month=f"{e.from_month:%Y-%m}",
            until_month=f"{e.until_month:%Y-%m}" if e.until_month else None,
            reason=e.reason,
        ),
        201,
    )


class MemberLedgerOut(BaseModel):
    member_id: int
    name: str
    bases: list[BaseOut]
    payments: list[PaymentOut]
    arrears_months: list[str]
    arrears_fen: int
    unpaid_run: int
    excused: bool
    flagged: bool


@endpoint("/dues/members/<int:member_id>", summary="一名党员的党费基数、交纳与欠交", tags=TAGS)
def dues_member(member_id: int) -> MemberLedgerOut:
    member = current_scope().get_or_404(Member, member_id)
    lg = ledger_of(member)
    a = figures.member_arrears(lg, clock.today())
    return MemberLedgerOut(
        member_id=member.id,
        name=member.name,
        bases=[BaseOut.of(b) for b in lg.bases],
        payments=[PaymentOut.of(p) for p in lg.payments],
        arrears_months=[f"{x:%Y-%m}" for x in a.months],
        arrears_fen=a.amount_fen,
        unpaid_run=a.run,
        excused=a.excused,
        flagged=a.flagged,
    )
