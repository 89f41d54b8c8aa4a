"""The hall's resident services (场所功能提升): for each village one-stop hall, the
services resident in it — 农村电商服务点, bank and insurance service points, postal and
logistics — who provides them, since when, their opening hours, and a monthly activity
figure (transactions or visits) typed in by the township.

Plain functions: validate, change objects, ``flush()``; the caller commits.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import set_committed_value

from tracker import clock
from tracker.errors import DomainError
from tracker.extensions import db
from tracker.halls.models import (
    ActivityUnit,
    ResidentActivity,
    ResidentKind,
    ResidentService,
    ServiceHall,
)
from tracker.models import utcnow

KIND_LABELS = {
    ResidentKind.ecommerce: "农村电商服务点",
    ResidentKind.bank: "银行（金融）服务点",
    ResidentKind.insurance: "保险服务点",
    ResidentKind.postal: "邮政快递/物流服务点",
    ResidentKind.other: "其他便民服务",
}
UNIT_LABELS = {ActivityUnit.transactions: "业务笔数", ActivityUnit.visits: "服务人次"}
UNIT_SHORT = {ActivityUnit.transactions: "笔", ActivityUnit.visits: "人次"}
PHONE_RE = re.compile(r"^[0-9][0-9 -]{5,19}$")
MAX_VALUE = 10_000_000


class ResidentError(DomainError):
    """A broken rule of the resident-service register; ``field`` names the form field."""


@dataclass
class ResidentInput:
    kind: ResidentKind
    name: str
    provider: str
    since: date
    unit: ActivityUnit
    opening_hours: str = ""
    contact_phone: str = ""
    until: date | None = None
    note: str = ""


def _validate(data: ResidentInput) -> None:
    name = (data.name or "").strip()
    if not name or len(name) > 64:
        raise ResidentError("请填写服务名称（最多 64 字）", "name")
    provider = (data.provider or "").strip()
    if not provider or len(provider) > 100:
        raise ResidentError("请填写提供单位（最多 100 字）", "provider")
    if data.since > clock.today():
        raise ResidentError("入驻日期不能晚于今天", "since")
    if data.since < date(1990, 1, 1):
        raise ResidentError("入驻日期不合理（早于 1990 年）", "since")
    if data.until is not None and data.until < data.since:
        raise ResidentError("撤出日期不能早于入驻日期", "until")
    if data.until is not None and data.until > clock.today():
        raise ResidentError("撤出日期不能晚于今天", "until")
    if len((data.opening_hours or "").strip()) > 100:
        raise ResidentError("服务时间最多 100 字", "opening_hours")
    phone = (data.contact_phone or "").strip()
    if phone and not PHONE_RE.match(phone):
        raise ResidentError("电话号码应为 6–20 位数字", "contact_phone")
    if len((data.note or "").strip()) > 500:
        raise ResidentError("备注最多 500 字", "note")


def _apply(service: ResidentService, data: ResidentInput) -> None:
    service.kind = data.kind
    service.name = data.name.strip()
    service.provider = data.provider.strip()
    service.since = data.since
    service.until = data.until
    service.unit = data.unit
    service.opening_hours = (data.opening_hours or "").strip()
    service.contact_phone = (data.contact_phone or "").strip()
    service.note = (data.note or "").strip()


def create_service(hall: ServiceHall, data: ResidentInput) -> ResidentService:
    _validate(data)
    service = ResidentService(hall_id=hall.id, region_id=hall.region_id, created_at=utcnow())
    _apply(service, data)
    db.session.add(service)
    db.session.flush()
    set_committed_value(service, "months", [])
    return service


def update_service(service: ResidentService, data: ResidentInput) -> None:
    _validate(data)
    load_months(service)
    first = min((m.month for m in service.months), default=None)
    if first is not None and first < data.since.replace(day=1):
        raise ResidentError("已有早于该入驻日期的月度数据，入驻日期不能改晚", "since")
    _apply(service, data)
    service.updated_at = utcnow()
    db.session.flush()


def record_activity(service: ResidentService, month: date, value: int) -> ResidentActivity:
    """Type in (or correct) one month's figure: not before the service moved in, not after
    it left, not for a month that has not begun."""
    first = month.replace(day=1)
    today = clock.today()
    if first > today.replace(day=1):
        raise ResidentError("不能填报尚未开始的月份", "month")
    if first < service.since.replace(day=1):
        raise ResidentError("月份不能早于入驻日期", "month")
    if service.until is not None and first > service.until.replace(day=1):
        raise ResidentError("月份不能晚于撤出日期", "month")
    if not 0 <= value <= MAX_VALUE:
        raise ResidentError(f"月度数量应在 0–{MAX_VALUE} 之间", "value")
    load_months(service)
    row = next((m for m in service.months if m.month == first), None)
    if row is None:
        row = ResidentActivity(region_id=service.region_id, month=first, value=value)
        service.months.append(row)
    else:
        row.value = value
        row.entered_at = utcnow()
    db.session.flush()
    return row


def services_stmt(hall_ids: Iterable[int] | Any) -> Select[Any]:
    """Resident services of these halls with their months (one more statement) and hall."""
    return (
        select(ResidentService)
        .where(ResidentService.hall_id.in_(hall_ids))
        .options(selectinload(ResidentService.months), selectinload(ResidentService.hall))
        .order_by(ResidentService.hall_id, ResidentService.kind, ResidentService.id)
    )


def load_months(service: ResidentService) -> ResidentService:
    if service.id is not None and "months" in sa_inspect(service).unloaded:
        rows = db.session.scalars(
            select(ResidentActivity)
            .where(ResidentActivity.service_id == service.id)
            .order_by(ResidentActivity.month)
        ).all()
        set_committed_value(service, "months", list(rows))
    return service


def month_value(service: ResidentService, month: date) -> int | None:
    first = month.replace(day=1)
    return next((m.value for m in service.months if m.month == first), None)


def last_months(today: date, n: int = 12) -> list[date]:
    """The first days of the ``n`` months up to ``today``'s, oldest first."""
    out = []
    year, month = today.year, today.month
    for _ in range(n):
        out.append(date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return out[::-1]


def active_on(services: Sequence[ResidentService], day: date) -> list[ResidentService]:
    return [s for s in services if s.since <= day and (s.until is None or s.until >= day)]
