"""Operations of the service ledger: catalog, registration, the timeline, queries, measures.

Plain functions: they change objects and ``flush()``; the caller (view, API
decorator, job, CLI) owns the commit. A broken rule raises
:class:`~tracker.matters.rules.MatterError` (``.field`` names the form field).

The public functions other packages call:

* :func:`matter_measures` / :func:`overdue_stmt` — re-exported from
  :mod:`tracker.matters.figures`, where every figure of the ledger is defined once;
* :func:`due_soon_stmt` — scoped select of matters due soon;
* :func:`register_matter` / :func:`record_event` — what the views and API use
  (``record_event`` takes a :mod:`tracker.matters.commands` step);
* :class:`MatterFilter` / :func:`apply_filter` — search and filters of every list;
* :func:`clocks` — the 限时办结 clock in words for a page of matters;
* :func:`receipt_token` / :func:`matter_for_token` / :func:`public_progress` — the
  受理回执 QR link and what the applicant sees.
"""

from __future__ import annotations

import base64
import hmac
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask_babel import gettext
from sqlalchemy import ColumnElement, Select, and_, case, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from tracker import clock
from tracker.config import current_settings
from tracker.extensions import db
from tracker.formatting import excel_datetime, excel_formats, mask_id_number, mask_phone
from tracker.matters import commands, rules
from tracker.matters.figures import MatterMeasures, matter_measures, overdue_on, overdue_stmt
from tracker.matters.models import (
    Channel,
    EventKind,
    HandlingLevel,
    MatterEvent,
    MatterKind,
    MatterStatus,
    MatterType,
    RatingSource,
    ServiceMatter,
)
from tracker.matters.rules import MatterError
from tracker.models import Region, RegionLevel, Role, User, utcnow
from tracker.models.regions import in_subtree, subtree_ids
from tracker.scope import Scope
from tracker.security import hash_token
from tracker.workdays import WorkCalendar

__all__ = [
    "MatterError",
    "MatterFilter",
    "MatterMeasures",
    "apply_filter",
    "catalog_for",
    "clocks",
    "due_soon_stmt",
    "matter_for_token",
    "matter_measures",
    "overdue_stmt",
    "public_progress",
    "receipt_token",
    "record_event",
    "register_matter",
]

# Events may be entered a little ahead of the server clock (clock skew), not more.
FUTURE_TOLERANCE = timedelta(minutes=10)


# -- time helpers ----------------------------------------------------------------


# One answer for a user who does not exist, is inactive, or belongs to another
# county: an error must never tell an id elsewhere from a missing one.
RESPONDER_NOT_HERE = gettext("首问责任人应为本村或上级单位的工作人员")
REFERRAL_NOT_HERE = gettext("转办对象应为本村或上级单位的在岗人员")
MATTER_TYPE_NOT_HERE = gettext("该事项不在本村适用的事项清单中")


def callback_working_days() -> int:
    return int(current_settings().calendar.callback_working_days)


# -- catalog (事项清单) -------------------------------------------------------------


def catalog_for(village: Region, include_inactive: bool = False) -> list[MatterType]:
    """The catalog a village uses: entries of its county and of the city above it."""
    stmt = select(MatterType).where(MatterType.region_id.in_(village.ancestor_ids))
    if not include_inactive:
        stmt = stmt.where(MatterType.active.is_(True))
    return list(db.session.scalars(stmt.order_by(MatterType.category, MatterType.name)))


def catalog_visible(scope: Scope) -> Select[Any]:
    """Catalog entries a user may read: those above (their county's) and below their node."""
    node = db.session.get(Region, scope.region_id)
    ancestors = node.ancestor_ids if node else []
    return select(MatterType).where(
        or_(MatterType.region_id.in_(ancestors), MatterType.region_id.in_(scope.region_ids()))
    )


def save_matter_type(
    region: Region,
    *,
    name: str,
    kind: MatterKind,
    promised_days: int | None,
    statutory_days: int | None = None,
    category: str = "",
    materials: Sequence[str] = (),
    handling_level: HandlingLevel = HandlingLevel.village,
    active: bool = True,
    existing: MatterType | None = None,
) -> MatterType:
    """Add or change a catalog entry of a county (or city) catalog."""
    if region.level not in (RegionLevel.county, RegionLevel.city):
        raise MatterError(gettext("事项清单由县（区）或市级管理"), "region_id")
    errors = rules.catalog_errors(name, kind, promised_days, statutory_days)
    if errors:
        field, message = next(iter(errors.items()))
        raise MatterError(message, field)
    name = name.strip()
    clash = db.session.scalar(
        select(MatterType.id).where(MatterType.region_id == region.id, MatterType.name == name)
    )
    if clash is not None and (existing is None or clash != existing.id):
        raise MatterError(gettext("本级事项清单中已有同名事项"), "name")
    entry = existing or MatterType(region_id=region.id)
    entry.name = name
    entry.category = category.strip()[:50]
    entry.kind = kind
    entry.promised_days = 0 if kind == MatterKind.immediate else int(promised_days or 0)
    entry.statutory_days = statutory_days
    entry.materials = [m.strip() for m in materials if m.strip()]
    entry.handling_level = handling_level
    entry.active = active
    if existing is None:
        db.session.add(entry)
    db.session.flush()
    return entry


CATALOG_REQUIRED = ("事项名称", "办件类型")
CATALOG_MAX_ROWS = 2000
CATALOG_COLUMNS = [
    "事项名称",
    "事项类别",
    "办件类型",
    "承诺时限",
    "法定时限",
    "所需材料",
    "办理层级",
]
_KIND_BY_LABEL = {v: k for k, v in rules.KIND_LABELS.items()}
_LEVEL_BY_LABEL = {
    "村": HandlingLevel.village,
    "村级": HandlingLevel.village,
    "乡镇": HandlingLevel.township,
    "乡": HandlingLevel.township,
    "镇": HandlingLevel.township,
    "县": HandlingLevel.county,
    "县级": HandlingLevel.county,
}


@dataclass
class CatalogRow:
    """One parsed row of a catalog workbook, with its errors (empty = importable)."""

    line: int
    name: str
    category: str
    kind: MatterKind | None
    promised_days: int | None
    statutory_days: int | None
    materials: list[str]
    handling_level: HandlingLevel | None
    errors: list[str]


def _int_cell(value: Any, label: str, errors: list[str]) -> int | None:
    if value is None or str(value).strip() == "":
        return None
    try:
        number = float(str(value).strip())
    except ValueError:
        errors.append(gettext("%(label)s应为整数（工作日）", label=gettext(label)))
        return None
    if number != int(number):
        errors.append(gettext("%(label)s应为整数（工作日）", label=gettext(label)))
        return None
    return int(number)


def parse_catalog_workbook(data: bytes, region: Region) -> list[CatalogRow]:
    """Read an .xlsx catalog (first sheet, header row with :data:`CATALOG_COLUMNS`).

    Every row comes back with its Chinese errors; nothing is written. Raises
    :class:`MatterError` when the file itself is unreadable or lacks a column.
    """
    from tracker import xlsx

    try:
        return _parse_catalog(
            xlsx.read_sheet(data, required=CATALOG_REQUIRED, max_rows=CATALOG_MAX_ROWS), region
        )
    except xlsx.BadWorkbook as exc:
        raise MatterError(str(exc), "file") from exc


def _parse_catalog(sheet: Any, region: Region) -> list[CatalogRow]:
    def cell(row: dict[str, Any], name: str) -> Any:
        return row.get(name)

    existing = set(
        db.session.scalars(select(MatterType.name).where(MatterType.region_id == region.id))
    )
    seen: dict[str, int] = {}
    out: list[CatalogRow] = []
    for sheet_row in sheet.rows:
        line, row = sheet_row.number, sheet_row.cells
        errors: list[str] = [f"{c}：{m}" for c, m in sheet_row.errors.items()]
        name = str(cell(row, "事项名称") or "").strip()
        kind_label = str(cell(row, "办件类型") or "").strip()
        kind = _KIND_BY_LABEL.get(kind_label)
        if kind is None:
            errors.append(gettext("办件类型应为“即办件”或“承诺件”"))
        promised = _int_cell(cell(row, "承诺时限"), "承诺时限", errors)
        statutory = _int_cell(cell(row, "法定时限"), "法定时限", errors)
        level_label = str(cell(row, "办理层级") or "村").strip()
        level = _LEVEL_BY_LABEL.get(level_label)
        if level is None:
            errors.append(gettext("办理层级应为 村、乡镇 或 县"))
        if kind is not None:
            errors.extend(rules.catalog_errors(name, kind, promised, statutory).values())
        elif not name:
            errors.append(gettext("请填写事项名称"))
        if name and name in seen:
            errors.append(gettext("与第 %(n)s 行事项名称重复", n=seen[name]))
        seen.setdefault(name, line)
        raw_materials = str(cell(row, "所需材料") or "")
        materials = [
            m.strip()
            for m in raw_materials.replace("；", ";")
            .replace("、", ";")
            .replace("\n", ";")
            .split(";")
            if m.strip()
        ]
        out.append(
            CatalogRow(
                line=line,
                name=name,
                category=str(cell(row, "事项类别") or "").strip(),
                kind=kind,
                promised_days=promised,
                statutory_days=statutory,
                materials=materials,
                handling_level=level,
                errors=errors,
            )
        )
    for r in out:
        r.errors = list(dict.fromkeys(r.errors))
    _ = existing  # rows named like an existing entry update it (see import_catalog)
    return out


def import_catalog(region: Region, rows: Sequence[CatalogRow]) -> tuple[int, int]:
    """Write parsed rows, all or nothing: any row with errors refuses the whole file.

    Rows named like an existing entry of the same catalog update it. Returns
    ``(added, updated)``.
    """
    bad = [r for r in rows if r.errors]
    if bad:
        raise MatterError(
            gettext("有 %(n)s 行有错误，未导入任何事项；请改正后重新上传", n=len(bad)), "file"
        )
    if not rows:
        raise MatterError(gettext("表格中没有事项"), "file")
    by_name = {
        t.name: t
        for t in db.session.scalars(select(MatterType).where(MatterType.region_id == region.id))
    }
    added = updated = 0
    for r in rows:
        assert r.kind is not None and r.handling_level is not None
        existing = by_name.get(r.name)
        save_matter_type(
            region,
            name=r.name,
            kind=r.kind,
            promised_days=r.promised_days,
            statutory_days=r.statutory_days,
            category=r.category,
            materials=r.materials,
            handling_level=r.handling_level,
            existing=existing,
        )
        if existing:
            updated += 1
        else:
            added += 1
    return added, updated


# -- registration ------------------------------------------------------------------


def responders_for(village: Region) -> list[User]:
    """Active writers who may take a matter of this village (its own and its ancestors')."""
    return list(
        db.session.scalars(
            select(User)
            .where(
                User.region_id.in_(village.ancestor_ids),
                User.active.is_(True),
                User.role.in_([Role.admin, Role.editor]),
            )
            .order_by(User.display_name)
        )
    )


def _covers(user: User, village: Region) -> bool:
    return user.region_id in village.ancestor_ids


_VILLAGE_SUFFIXES = ("村民委员会", "居民委员会", "居委会", "社区", "嘎查", "村", "屯")
_TOWNSHIP_SUFFIXES = ("街道办事处", "街道", "苏木", "镇", "乡")


def _strip(name: str, suffixes: Sequence[str]) -> str:
    name = name.strip()
    for suffix in suffixes:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


def serial_prefix(village: Region) -> str:
    """The readable part of a 登记编号: the village's name without 村/社区, at most 4 characters."""
    return _strip(village.name, _VILLAGE_SUFFIXES)[:4]


def _county_of(village: Region) -> Region:
    county = db.session.scalar(
        select(Region).where(
            Region.id.in_(village.ancestor_ids), Region.level == RegionLevel.county
        )
    )
    return county or village


def village_serial_prefix(village: Region, county: Region | None = None) -> str:
    """The prefix of the village's 登记编号, different from every other village's in its county.

    The village's short name (:func:`serial_prefix`). When an older village of the
    county (a smaller id) already uses it — 平安村 in two townships, 平安村 and 平安社区 —
    the younger one is named with its township in front (城关平安), else numbered
    (平安2, 平安3 …). Villages are taken in id order, so adding a village never
    changes the prefix of one that already numbers its matters; a number read out
    on the phone names one village and one matter in the whole county.
    """
    county = county or _county_of(village)
    if county.id == village.id:
        return serial_prefix(village)
    base = serial_prefix(village)
    villages = db.session.execute(
        select(Region.id, Region.name, Region.parent_id)
        .where(
            in_subtree(county.path),
            Region.level == RegionLevel.village,
            Region.id <= village.id,
        )
        .order_by(Region.id)
    ).all()
    bases = {vid: _strip(name, _VILLAGE_SUFFIXES)[:4] for vid, name, _ in villages}
    if len(set(bases.values())) == len(bases):
        return base  # the common case: one query, no two villages share a short name
    towns = {
        r.id: _strip(r.name, _TOWNSHIP_SUFFIXES)[:2]
        for r in db.session.scalars(
            select(Region).where(Region.id.in_({p for _, _, p in villages if p is not None}))
        )
    }
    taken: set[str] = set()
    mine = base
    for vid, _name, parent in villages:
        own = bases[vid]
        candidates = [own, f"{towns.get(parent, '') if parent else ''}{own}"]
        candidates += [f"{own}{k}" for k in range(2, 1000)]
        mine = next(c for c in candidates if c and c not in taken)
        taken.add(mine)
    return mine


def _next_serial(village: Region, year: int) -> str:
    """The next 登记编号 ``平安-2026-0042``: readable, and unique across the county.

    The prefix is the village's own (:func:`village_serial_prefix`); the counter
    is the highest number under that prefix in the county, read numerically (0042
    < 10000), plus one. The database refuses a number taken twice in a county
    (``ix_service_matter_county_serial``) and :func:`_insert_numbered` retries.
    """
    county = _county_of(village)
    prefix = f"{village_serial_prefix(village, county)}-{year}-"
    last = db.session.scalar(
        select(ServiceMatter.serial_no)
        .where(
            ServiceMatter.region_id.in_(subtree_ids(county.path)),
            ServiceMatter.serial_no.startswith(prefix, autoescape=True),
        )
        .order_by(func.length(ServiceMatter.serial_no).desc(), ServiceMatter.serial_no.desc())
        .limit(1)
    )
    tail = last.rsplit("-", 1)[1] if last else ""
    n = int(tail) + 1 if tail.isdigit() else 1
    return f"{prefix}{n:04d}"


def _clean_list(items: Sequence[str] | None) -> list[str]:
    return [i.strip()[:100] for i in (items or []) if i and i.strip()]


def register_matter(
    *,
    village: Region,
    matter_type: MatterType,
    applicant_name: str,
    applicant_phone: str,
    channel: Channel,
    first_responder: User,
    actor: User,
    calendar: WorkCalendar,
    received_at: datetime | None = None,
    applicant_id_number: str | None = None,
    materials_received: Sequence[str] | None = None,
    materials_missing: Sequence[str] | None = None,
    one_time_notice: str | None = None,
    note: str | None = None,
    client_token: str | None = None,
) -> tuple[ServiceMatter, bool]:
    """Register a matter (服务事项登记) and its 受理 event; returns ``(matter, created)``.

    A repeated ``client_token`` (a double-clicked submit, a resent API call)
    returns the matter already registered with ``created=False``. Missing
    materials at the counter record the one-time notice and pause the clock.
    """
    if client_token:
        already = db.session.scalar(
            select(ServiceMatter).where(ServiceMatter.client_token == client_token)
        )
        if already is not None:
            return already, False
    if village.level != RegionLevel.village:
        raise MatterError(gettext("服务事项登记在村（社区）"), "village_id")
    if matter_type.region_id not in village.ancestor_ids or not matter_type.active:
        raise MatterError(MATTER_TYPE_NOT_HERE, "matter_type_id")
    name = (applicant_name or "").strip()
    if not name:
        raise MatterError(gettext("请填写申请人姓名"), "applicant_name")
    if len(name) > 32:
        raise MatterError(gettext("申请人姓名最多 32 个字"), "applicant_name")
    phone = rules.normalise_phone(applicant_phone)
    error = rules.phone_error(phone)
    if error:
        raise MatterError(error, "applicant_phone")
    id_number = (applicant_id_number or "").strip().upper() or None
    if id_number:
        error = rules.id_number_error(id_number)
        if error:
            raise MatterError(error, "applicant_id_number")
    if not first_responder.active or not _covers(first_responder, village):
        raise MatterError(RESPONDER_NOT_HERE, "first_responder_id")
    if first_responder.role not in (Role.admin, Role.editor):
        raise MatterError(gettext("首问责任人应有录入权限"), "first_responder_id")
    now = utcnow()
    received_at = received_at or now
    if received_at.tzinfo is None:
        raise MatterError(gettext("受理时间须带时区"), "received_at")
    if received_at > now + FUTURE_TOLERANCE:
        raise MatterError(gettext("受理时间不能晚于现在"), "received_at")
    if received_at < now - timedelta(days=3 * 366):
        raise MatterError(gettext("受理时间过早（超过三年），请核对"), "received_at")
    missing = _clean_list(materials_missing)
    notice = (one_time_notice or "").strip() or None
    if missing and not notice:
        raise MatterError(gettext("材料不齐时请记录一次性告知的内容"), "one_time_notice")
    received_on = clock.local_date(received_at)
    matter = ServiceMatter(
        region_id=village.id,
        county_id=_county_of(village).id,
        serial_no=_next_serial(village, received_on.year),
        matter_type_id=matter_type.id,
        applicant_name=name,
        applicant_phone=phone,
        applicant_id_number=id_number,
        channel=channel,
        received_at=received_at,
        received_on=received_on,
        first_responder_id=first_responder.id,
        handler_id=first_responder.id,
        materials_received=_clean_list(materials_received),
        materials_missing=[],
        one_time_notice=notice,
        note=(note or "").strip() or None,
        kind=matter_type.kind,
        promised_days=matter_type.promised_days,
        extension_days=0,
        status=MatterStatus.accepted,
        calendar_official=True,
        referred=False,
        rating_void=False,
        created_by_id=actor.id,
        client_token=client_token or None,
    )
    matter.matter_type = matter_type
    taken = _insert_numbered(matter, village, received_on.year)
    if taken is not None:
        return taken, False
    _add_event(matter, EventKind.accepted, actor, received_at)
    new_receipt_link(matter)
    if missing:
        _add_event(
            matter,
            EventKind.materials_missing,
            actor,
            received_at,
            note=notice,
            data={"missing": missing},
        )
        matter.materials_missing = missing
        matter.status = MatterStatus.paused
    _recompute(matter, calendar)
    db.session.flush()
    return matter, True


def _insert_numbered(matter: ServiceMatter, village: Region, year: int) -> ServiceMatter | None:
    """Insert with the next free 登记编号, retrying when a concurrent registration took it.

    Returns the matter already registered under the same ``client_token`` when a
    concurrent duplicate submit won the race (nothing is inserted then).
    """
    for _ in range(5):
        try:
            with db.session.begin_nested():
                db.session.add(matter)
                db.session.flush()
            return None
        except IntegrityError:
            if matter.client_token:
                already = db.session.scalar(
                    select(ServiceMatter).where(ServiceMatter.client_token == matter.client_token)
                )
                if already is not None:
                    return already
            matter.serial_no = _next_serial(village, year)
    raise MatterError(gettext("登记编号冲突，请重试"), "client_token")


# -- the timeline ------------------------------------------------------------------


def _add_event(
    matter: ServiceMatter,
    kind: EventKind,
    actor: User | None,
    at: datetime,
    client_token: str | None = None,
    **fields: Any,
) -> MatterEvent:
    # Load the collection before the new row is pending (autoflush would load it twice).
    timeline = matter.events
    event = MatterEvent(
        region_id=matter.region_id,
        kind=kind,
        at=at,
        actor_id=actor.id if actor else None,
        client_token=client_token or None,
        **fields,
    )
    timeline.append(event)  # cascades into the session
    return event


def _pauses(
    matter: ServiceMatter, events: Sequence[MatterEvent] | None = None
) -> list[rules.Pause]:
    timeline = matter.events if events is None else events
    return rules.pauses_from(
        ((e.kind, clock.local_date(e.at)) for e in timeline), matter.received_on
    )


def clocks(
    matters: Sequence[ServiceMatter], today: date, calendar: WorkCalendar
) -> dict[int, rules.Clock]:
    """The clock of each matter (剩 N / 已逾期 N / 暂停计时 …) for a list: one query at most.

    Only paused matters need their timeline (days used so far); those timelines are
    read together, so a page of 50 matters costs one statement, not 50.
    """
    paused = [m.id for m in matters if m.status == MatterStatus.paused]
    timelines: dict[int, list[MatterEvent]] = {i: [] for i in paused}
    if paused:
        for e in db.session.scalars(
            select(MatterEvent)
            .where(MatterEvent.matter_id.in_(paused))
            .order_by(MatterEvent.at, MatterEvent.id)
        ):
            timelines[e.matter_id].append(e)
    out = {}
    for m in matters:
        used = 0
        if m.id in timelines:
            used = rules.working_days_taken(
                calendar, m.received_on, today, _pauses(m, timelines[m.id])
            )
        out[m.id] = rules.clock(
            m.status,
            m.due_on,
            today,
            calendar,
            used=used,
            total=m.promised_days + m.extension_days,
            on_time=m.on_time,
        )
    return out


def _recompute(matter: ServiceMatter, calendar: WorkCalendar) -> None:
    """Due date and calendar provenance from the timeline (pauses, extensions)."""
    due = rules.due_date(
        calendar,
        matter.received_on,
        matter.promised_days + matter.extension_days,
        _pauses(matter),
    )
    matter.due_on = due.due_on
    if due.due_on is not None:
        matter.calendar_official = due.official


def handler_ids(matter: ServiceMatter) -> frozenset[int]:
    """Everyone who handled the matter: current handler, referral targets, who completed it."""
    ids = {matter.first_responder_id}
    if matter.handler_id:
        ids.add(matter.handler_id)
    for e in matter.events:
        if e.kind == EventKind.referred and e.to_user_id:
            ids.add(e.to_user_id)
        if e.kind == EventKind.completed and e.actor_id:
            ids.add(e.actor_id)
    return frozenset(ids)


def state_of(matter: ServiceMatter) -> rules.MatterState:
    """The state-machine view of a matter."""
    appeals = sum(1 for e in matter.events if e.kind == EventKind.appealed)
    decided = sum(1 for e in matter.events if e.kind == EventKind.appeal_decided)
    return rules.MatterState(
        status=matter.status,
        first_responder_id=matter.first_responder_id,
        handler_ids=handler_ids(matter),
        rating=matter.rating,
        rating_void=matter.rating_void,
        called_back=matter.called_back_on is not None,
        appeal_open=appeals > decided,
        appeal_decided=decided > 0,
    )


def _required(value: str | None, message: str, field: str) -> str:
    value = (value or "").strip()
    if not value:
        raise MatterError(message, field)
    return value


def record_event(
    matter: ServiceMatter,
    command: commands.Step,
    actor: User | None,
    *,
    calendar: WorkCalendar,
) -> tuple[MatterEvent, bool]:
    """Append one step (a :mod:`~tracker.matters.commands` object) to the timeline.

    ``actor`` is ``None`` only for the applicant's own rating on the public page.
    Returns ``(event, created)``. Refuses illegal transitions
    (:class:`~tracker.matters.rules.TransitionError`) and missing details
    (:class:`MatterError`). A repeated ``client_token`` returns the event
    already recorded, with ``created=False``.
    """
    client_token = command.client_token
    if client_token:
        already = db.session.scalar(
            select(MatterEvent).where(MatterEvent.client_token == client_token)
        )
        if already is not None:
            if already.matter_id != matter.id:
                raise MatterError("重复的提交标识", "client_token")
            return already, False
    try:
        # One savepoint for the whole step: a concurrent duplicate (double-click) that wins
        # the race on client_token leaves this request with nothing half-applied.
        with db.session.begin_nested():
            return _record(matter, command, actor, calendar)
    except IntegrityError as exc:
        if client_token:
            already = db.session.scalar(
                select(MatterEvent).where(MatterEvent.client_token == client_token)
            )
            if already is not None and already.matter_id == matter.id:
                return already, False
        raise MatterError(gettext("提交冲突，请刷新页面后重试")) from exc


def _record(
    matter: ServiceMatter, command: commands.Step, actor: User | None, calendar: WorkCalendar
) -> tuple[MatterEvent, bool]:
    """The body of :func:`record_event` (inside its savepoint)."""
    now = utcnow()
    at = command.at or now
    if at.tzinfo is None:
        raise MatterError(gettext("时间须带时区"), "at")
    if at > now + FUTURE_TOLERANCE:
        raise MatterError(gettext("时间不能晚于现在"), "at")
    last = max((e.at for e in matter.events), default=matter.received_at)
    if at < last:
        at_text = last.astimezone(clock.zone()).strftime("%Y-%m-%d %H:%M")
        raise MatterError(gettext("时间不能早于上一环节（%(at)s）", at=at_text), "at")
    kind = command.kind
    if actor is None and not (
        isinstance(command, commands.Rate) and command.source == RatingSource.applicant
    ):
        raise MatterError(gettext("请先登录"))
    rules.check_event(state_of(matter), kind, _rule_actor_id(command, actor))
    handler = _HANDLERS[type(command)]
    fields = handler(_Step(matter, command, actor, calendar, at))
    event = _add_event(matter, kind, actor, at, client_token=command.client_token, **fields)
    _recompute(matter, calendar)
    if kind == EventKind.completed:
        day = clock.local_date(at)
        matter.on_time = matter.due_on is not None and day <= matter.due_on
        matter.working_days_used = rules.working_days_taken(
            calendar, matter.received_on, day, _pauses(matter)
        )
    db.session.flush()
    return event, True


def _rule_actor_id(command: commands.Step, actor: User | None) -> int | None:
    """Whose hand the state machine judges: nobody's for the applicant's own rating.

    A paper slip is the applicant's rating copied in by the counter, so the
    no-self-rating rule (which is about staff rating their own work) does not apply;
    an applicant's rating on the QR page has no staff hand at all.
    """
    if isinstance(command, commands.Rate) and command.source != RatingSource.staff:
        return None
    return actor.id if actor else None


@dataclass(frozen=True)
class _Step:
    """What a step handler works on."""

    matter: ServiceMatter
    command: Any  # the handler's own command class
    actor: User | None
    calendar: WorkCalendar
    at: datetime

    @property
    def day(self) -> date:
        return clock.local_date(self.at)


def _optional(value: str | None) -> str | None:
    return (value or "").strip() or None


def _report_missing(s: _Step) -> dict[str, Any]:
    c: commands.ReportMissing = s.command
    m = s.matter
    items = _clean_list(c.missing)
    if not items:
        raise MatterError(gettext("请列出缺少的材料"), "missing")
    text = _required(c.notice, gettext("请记录一次性告知的内容"), "notice")
    m.materials_missing = items
    m.one_time_notice = f"{m.one_time_notice}\n{text}" if m.one_time_notice else text
    m.status = MatterStatus.paused
    return {"note": text, "data": {"missing": items}}


def _supply_materials(s: _Step) -> dict[str, Any]:
    c: commands.SupplyMaterials = s.command
    m = s.matter
    fields = {"note": _optional(c.note), "data": {"supplied": m.materials_missing}}
    m.materials_received = [*m.materials_received, *m.materials_missing]
    m.materials_missing = []
    m.status = MatterStatus.accepted
    return fields


def _refer(s: _Step) -> dict[str, Any]:
    c: commands.Refer = s.command
    m = s.matter
    unit = (c.to_unit or "").strip()[:100] or None
    to_user = db.session.get(User, c.to_user_id) if c.to_user_id else None
    if c.to_user_id and to_user is None:
        raise MatterError(REFERRAL_NOT_HERE, "to_user_id")  # as for a user of another county
    if to_user is None and unit is None:
        raise MatterError(gettext("请选择转办给谁，或填写转办单位"), "to_user_id")
    if to_user is not None:
        village = db.session.get(Region, m.region_id)
        if village is None or not to_user.active or not _covers(to_user, village):
            raise MatterError(REFERRAL_NOT_HERE, "to_user_id")
        if to_user.role not in (Role.admin, Role.editor):
            raise MatterError(gettext("转办对象应有录入权限"), "to_user_id")
        if to_user.id == m.handler_id and unit in (None, m.handler_unit):
            raise MatterError(gettext("事项已在该经办人手中"), "to_user_id")
    # 首问负责: the first responder stays the owner; only the handler changes.
    m.handler_id = to_user.id if to_user else None
    m.handler_unit = unit
    m.referred = True
    return {
        "to_user_id": to_user.id if to_user else None,
        "to_unit": unit,
        "note": _optional(c.note),
        "data": {"level": c.to_level.value} if c.to_level else None,
    }


def _extend(s: _Step) -> dict[str, Any]:
    c: commands.Extend = s.command
    approver = _required(c.approver, gettext("延期须写明审批人"), "approver")[:64]
    reason = _required(c.note, gettext("延期须写明理由"), "note")
    told = _required(c.notice, gettext("请记录如何告知申请人延期"), "notice")
    if c.days is None or not 1 <= c.days <= rules.MAX_EXTENSION_DAYS:
        raise MatterError(
            gettext("延期天数应为 1–%(n)s 个工作日", n=rules.MAX_EXTENSION_DAYS), "days"
        )
    s.matter.extension_days += c.days
    return {"approver": approver, "days": c.days, "note": reason, "data": {"notice": told}}


def _complete(s: _Step) -> dict[str, Any]:
    c: commands.Complete = s.command
    m = s.matter
    result = _required(c.note, gettext("请填写办理结果"), "note")
    m.result = result
    m.completed_at = s.at
    m.completed_on = s.day
    m.status = MatterStatus.completed
    return {"note": result}


def _rate(s: _Step) -> dict[str, Any]:
    c: commands.Rate = s.command
    m = s.matter
    if c.rating is None:
        raise MatterError(gettext("请选择评价等级"), "rating")
    m.rating = c.rating
    m.rated_on = s.day
    if c.source == RatingSource.applicant and s.actor is not None:
        raise MatterError(gettext("只有申请人本人可以扫码评价"), "source")
    if c.source == RatingSource.applicant and m.receipt_token_hash is None:
        raise MatterError(gettext("该事项没有受理回执二维码"), "source")
    if c.rating in rules.BAD_RATINGS:
        m.callback_due_on = rules.callback_due(s.calendar, s.day, callback_working_days()).due_on
    return {"rating": c.rating, "note": _optional(c.note), "data": {"source": c.source.value}}


def _call_back(s: _Step) -> dict[str, Any]:
    c: commands.CallBack = s.command
    m = s.matter
    text = _required(c.note, gettext("请记录回访情况"), "note")
    m.called_back_on = s.day
    m.callback_on_time = m.callback_due_on is not None and s.day <= m.callback_due_on
    return {"note": text}


def _appeal(s: _Step) -> dict[str, Any]:
    c: commands.Appeal = s.command
    return {"note": _required(c.note, gettext("请写明申诉理由"), "note")}


def _decide_appeal(s: _Step) -> dict[str, Any]:
    c: commands.DecideAppeal = s.command
    assert s.actor is not None
    if s.actor.role != Role.admin:
        raise MatterError(gettext("评价申诉由管理员处理"), "upheld")
    appellant = next(
        (e.actor_id for e in reversed(s.matter.events) if e.kind == EventKind.appealed), None
    )
    if appellant == s.actor.id:
        raise MatterError(gettext("申诉人不能处理自己的申诉"), "upheld")
    if c.upheld is None:
        raise MatterError(gettext("请选择申诉是否成立"), "upheld")
    fields = {
        "note": _required(c.note, gettext("请写明处理意见"), "note"),
        "data": {"upheld": c.upheld},
    }
    if c.upheld:
        s.matter.rating_void = True
    return fields


def _archive(s: _Step) -> dict[str, Any]:
    c: commands.Archive = s.command
    s.matter.archived_at = s.at
    s.matter.status = MatterStatus.archived
    return {"note": _optional(c.note)}


# The dispatch table: each command's handler checks its details, updates the matter's
# summary columns and returns the columns of its timeline row.
_HANDLERS: dict[type[commands.Step], Callable[[_Step], dict[str, Any]]] = {
    commands.ReportMissing: _report_missing,
    commands.SupplyMaterials: _supply_materials,
    commands.Refer: _refer,
    commands.Extend: _extend,
    commands.Complete: _complete,
    commands.Rate: _rate,
    commands.CallBack: _call_back,
    commands.Appeal: _appeal,
    commands.DecideAppeal: _decide_appeal,
    commands.Archive: _archive,
}
assert set(_HANDLERS) == set(commands.COMMANDS.values()), "every command needs a handler"


# -- the receipt (受理回执) and the applicant's public page --------------------------------


def _receipt_secret(matter: ServiceMatter) -> str:
    """The link secret: an HMAC of the matter and its nonce under the app's SECRET_KEY.

    Derived rather than stored, so a reprinted receipt shows the same QR code while
    the database holds only its SHA-256 (a leaked table opens no applicant's page).
    """
    assert matter.receipt_nonce is not None
    from flask import current_app

    key = str(current_app.config["SECRET_KEY"]).encode()
    digest = hmac.new(key, f"receipt:{matter.id}:{matter.receipt_nonce}".encode(), "sha256")
    return base64.urlsafe_b64encode(digest.digest()[:24]).decode()


def new_receipt_link(matter: ServiceMatter) -> str:
    """Give the matter a (new) public link secret; the previous printed link stops working."""
    if matter.id is None:
        db.session.flush()
    matter.receipt_nonce = secrets.token_hex(16)
    token = _receipt_secret(matter)
    matter.receipt_token_hash = hash_token(token)
    return token


def receipt_token(matter: ServiceMatter) -> str | None:
    """The secret of the matter's QR link; ``None`` for a matter registered before receipts
    (the receipt page then offers to create one)."""
    return _receipt_secret(matter) if matter.receipt_nonce is not None else None


def matter_for_token(token: str) -> ServiceMatter | None:
    """The matter a public link opens, or ``None`` (unknown, voided or malformed)."""
    if not token or len(token) > 64:
        return None
    matter = db.session.scalar(
        select(ServiceMatter).where(ServiceMatter.receipt_token_hash == hash_token(token))
    )
    if matter is None or not hmac.compare_digest(_receipt_secret(matter), token):
        return None
    return matter


def receipt_link_open(matter: ServiceMatter, today: date) -> bool:
    """Open matters keep their link; a completed one for ``[matters] receipt_link_days``."""
    if matter.completed_on is None:
        return matter.status in rules.OPEN_STATUSES
    days = current_settings().matters.receipt_link_days
    return today <= matter.completed_on + timedelta(days=days)


@dataclass(frozen=True)
class PublicStep:
    """One line of the applicant's progress view: what, when, which office — never a person."""

    label: str
    day: date
    office: str
    detail: str = ""


def _office(matter: ServiceMatter, event: MatterEvent) -> str:
    if event.kind == EventKind.referred:
        if event.to_unit:
            return event.to_unit
        if event.to_user is not None:
            return event.to_user.region.name
    if event.actor is not None:
        return event.actor.region.name
    return matter.region.name


PUBLIC_KINDS = {
    EventKind.accepted: "受理",
    EventKind.materials_missing: "一次性告知补正",
    EventKind.materials_supplied: "材料补齐",
    EventKind.referred: "转办",
    EventKind.extended: "延期",
    EventKind.completed: "办结",
    EventKind.rated: "已评价",
}


def public_progress(matter: ServiceMatter) -> list[PublicStep]:
    """The timeline as the applicant may see it: steps, dates and offices only."""
    out = []
    for e in matter.events:
        label = PUBLIC_KINDS.get(e.kind)
        if label is None:
            continue  # call-backs, appeals, archiving: internal
        detail = ""
        if e.kind == EventKind.materials_missing and e.data:
            detail = gettext("请补齐：%(missing)s", missing="、".join(e.data.get("missing", [])))
        elif e.kind == EventKind.extended:
            detail = gettext("延期 %(n)s 个工作日", n=e.days)
        elif e.kind == EventKind.rated and e.rating:
            detail = gettext(rules.RATING_LABELS[e.rating])
        out.append(PublicStep(gettext(label), clock.local_date(e.at), _office(matter, e), detail))
    return out


# -- presentation helpers ----------------------------------------------------------


def can_see_personal(scope: Scope, matter: ServiceMatter) -> bool:
    """Full phone and ID number only for writers (editors, admins) whose scope holds the matter."""
    return personal_shown_at(scope, matter.region.path)


def personal_shown_at(scope: Scope, region_path: str) -> bool:
    """:func:`can_see_personal` for a matter of the village at ``region_path``."""
    return scope.can_write and scope.contains_path(region_path)


def shown_phone(phone: str, full: bool) -> str:
    return phone if full else mask_phone(phone)


def shown_id(id_number: str | None, full: bool) -> str | None:
    if not id_number:
        return None
    return id_number if full else mask_id_number(id_number)


def user_name(user: User | None) -> str | None:
    return user.display_name if user else None


def event_dict(event: MatterEvent) -> dict[str, Any]:
    """The JSON shape of a timeline event."""
    return {
        "id": event.id,
        "kind": event.kind.value,
        "label": rules.EVENT_LABELS[event.kind],
        "at": event.at.isoformat(),
        "recorded_at": event.recorded_at.isoformat() if event.recorded_at else None,
        "actor": user_name(event.actor),
        "to_user": user_name(event.to_user),
        "to_unit": event.to_unit,
        "approver": event.approver,
        "days": event.days,
        "rating": event.rating.value if event.rating else None,
        "note": event.note,
        "data": event.data,
    }


# -- queries ----------------------------------------------------------------------


def listed(scope: Scope) -> Select[Any]:
    """Scoped select of matters for a list: each row's village, catalog entry, first
    responder and handler (and the timeline the register prints) come in one statement
    each, whatever the number of rows — never one query per matter. A count over it
    (``select_from(stmt.subquery())``) ignores these loaders."""
    return scope.select(ServiceMatter).options(
        selectinload(ServiceMatter.region),
        selectinload(ServiceMatter.matter_type),
        selectinload(ServiceMatter.first_responder),
        selectinload(ServiceMatter.handler),
    )


def count_of(stmt: Select[Any]) -> int:
    """Rows of a list query, counted without its ORDER BY (a sort the count never needs,
    and that made SQLite sort every matter of a county before counting them)."""
    sub = stmt.order_by(None).subquery()
    return db.session.scalar(select(func.count()).select_from(sub)) or 0


def matters_stmt(
    scope: Scope,
    *,
    mine: User | None = None,
    status: MatterStatus | None = None,
    village_id: int | None = None,
    start: date | None = None,
    end: date | None = None,
) -> Select[Any]:
    """Scoped select of matters, newest first, with optional filters.

    ``mine`` keeps the matters a user owns as first responder or holds as
    handler (a referred matter stays in its first responder's list).
    """
    stmt = listed(scope)
    if mine is not None:
        stmt = stmt.where(
            or_(ServiceMatter.first_responder_id == mine.id, ServiceMatter.handler_id == mine.id)
        )
    if status is not None:
        stmt = stmt.where(ServiceMatter.status == status)
    if village_id is not None:
        stmt = stmt.where(ServiceMatter.region_id == village_id)
    if start is not None:
        stmt = stmt.where(ServiceMatter.received_on >= start)
    if end is not None:
        stmt = stmt.where(ServiceMatter.received_on <= end)
    return stmt.order_by(ServiceMatter.received_at.desc(), ServiceMatter.id.desc())


@dataclass(frozen=True)
class MatterFilter:
    """What a list is narrowed to (search box and filters of the lists and the API).

    * ``q`` — number, applicant name, item or text (notes, result, one-time notice) contain
      it; for users who may see personal data also the phone or ID number *ending* in it;
    * ``status`` — a :class:`MatterStatus` value, ``"open"`` (办理中 + 待补正) or ``""`` (any);
    * ``due`` — ``"soon"`` (due today or the next working day), ``"overdue"`` or ``""``.
    """

    q: str = ""
    status: str = ""
    village_id: int | None = None
    matter_type_id: int | None = None
    start: date | None = None
    end: date | None = None
    due: str = ""

    def args(self) -> dict[str, Any]:
        """The non-empty values (what the list is narrowed to)."""
        return {k: v for k, v in self.__dict__.items() if v not in (None, "")}


STATUS_FILTERS = {"open": list(rules.OPEN_STATUSES)} | {s.value: [s] for s in MatterStatus}


def apply_filter(
    stmt: Select[Any],
    f: MatterFilter,
    *,
    personal: bool,
    today: date,
    calendar: WorkCalendar,
) -> Select[Any]:
    """Narrow a select of matters by ``f``; ``personal`` allows phone / ID digit search."""
    sm = ServiceMatter
    q = f.q.strip()[:50]
    if q:
        conds = [
            sm.serial_no.contains(q, autoescape=True),
            sm.applicant_name.contains(q, autoescape=True),
            sm.note.contains(q, autoescape=True),
            sm.result.contains(q, autoescape=True),
            sm.one_time_notice.contains(q, autoescape=True),
            sm.matter_type_id.in_(
                select(MatterType.id).where(MatterType.name.contains(q, autoescape=True))
            ),
        ]
        digits = q.upper()
        if personal and len(digits) >= 4 and digits.rstrip("X").isdigit():
            conds.append(sm.applicant_id_number.endswith(digits, autoescape=True))
            if digits.isdigit():
                conds.append(sm.applicant_phone.endswith(digits, autoescape=True))
        stmt = stmt.where(or_(*conds))
    if f.status in STATUS_FILTERS:
        stmt = stmt.where(sm.status.in_(STATUS_FILTERS[f.status]))
    if f.village_id is not None:
        stmt = stmt.where(sm.region_id == f.village_id)
    if f.matter_type_id is not None:
        stmt = stmt.where(sm.matter_type_id == f.matter_type_id)
    if f.start is not None:
        stmt = stmt.where(sm.received_on >= f.start)
    if f.end is not None:
        stmt = stmt.where(sm.received_on <= f.end)
    if f.due == "overdue":
        stmt = stmt.where(overdue_on(today))  # the one definition (figures)
    elif f.due == "soon":
        horizon, _ = calendar.add_working_days(today, 1)
        stmt = stmt.where(
            sm.status.in_(list(rules.OPEN_STATUSES)), sm.due_on >= today, sm.due_on <= horizon
        )
    return stmt


def due_soon_on(today: date, calendar: WorkCalendar) -> ColumnElement[bool]:
    """Open and due today or on the next working day (即将到期)."""
    horizon, _ = calendar.add_working_days(today, 1)
    return and_(
        ServiceMatter.status.in_(list(rules.OPEN_STATUSES)),
        ServiceMatter.due_on >= today,
        ServiceMatter.due_on <= horizon,
    )


def callback_waiting() -> ColumnElement[bool]:
    """A bad rating still waiting for its call-back (待回访差评)."""
    return and_(
        ServiceMatter.rating.in_(list(rules.BAD_RATINGS)),
        ServiceMatter.rating_void.is_(False),
        ServiceMatter.called_back_on.is_(None),
    )


def due_soon_stmt(scope: Scope, today: date, calendar: WorkCalendar) -> Select[Any]:
    """Scoped select of open matters due today or on the next working day."""
    return (
        listed(scope)
        .where(due_soon_on(today, calendar))
        .order_by(ServiceMatter.due_on, ServiceMatter.id)
    )


def callbacks_due_stmt(scope: Scope) -> Select[Any]:
    """Scoped select of bad ratings still waiting for their call-back."""
    return (
        listed(scope)
        .where(callback_waiting())
        .order_by(ServiceMatter.callback_due_on, ServiceMatter.id)
    )


@dataclass(frozen=True)
class TabCounts:
    """How many matters of a scope each list tab holds (the counts beside the tabs)."""

    overdue: int
    due_soon: int
    callbacks: int


def tab_counts(scope: Scope, today: date, calendar: WorkCalendar) -> TabCounts:
    """The rows of :func:`overdue_stmt`, :func:`due_soon_stmt` and
    :func:`callbacks_due_stmt` counted in one pass over the scope's matters (one
    statement, the lists' own conditions)."""
    conditions = (overdue_on(today), due_soon_on(today, calendar), callback_waiting())
    row = db.session.execute(
        scope.filter(select(*(func.sum(case((c, 1), else_=0)) for c in conditions)), ServiceMatter)
    ).one()
    return TabCounts(*(int(n or 0) for n in row))


# -- the paper register (登记簿) ---------------------------------------------------

REGISTER_COLUMNS = [
    "登记编号",
    "受理时间",
    "申请人",
    "联系电话",
    "身份证号",
    "事项名称",
    "办件类型",
    "受理渠道",
    "首问责任人",
    "已收材料",
    "一次性告知",
    "承诺办结日期",
    "转办情况",
    "办结时间",
    "办理结果",
    "按时办结",
    "评价",
    "回访情况",
    "状态",
]


def register_rows(matters: Sequence[ServiceMatter], full: bool, today: date) -> list[list[Any]]:
    """The rows of the paper 登记簿 (print view and Excel export share them).

    Times are local wall times (real Excel date cells in the export; the print
    view shows them with the ``cell`` filter); dates are dates.
    """
    rows = []
    for m in matters:
        referral = "；".join(
            "→".join(x for x in (user_name(e.to_user), e.to_unit) if x)
            for e in m.events
            if e.kind == EventKind.referred
        )
        due: Any = m.due_on if m.due_on else gettext("暂停计时")
        if m.due_on and not m.calendar_official:
            due = gettext("%(day)s（非官方日历）", day=m.due_on.isoformat())
        callback = ""
        if m.called_back_on:
            callback = gettext("%(day)s 已回访", day=m.called_back_on.isoformat())
        elif m.callback_due_on and not m.rating_void:
            callback = gettext("应于 %(day)s 前回访", day=m.callback_due_on.isoformat())
        on_time = (
            "" if m.on_time is None else (gettext("是") if m.on_time else gettext("否（逾期）"))
        )
        if m.on_time is None and rules.is_overdue(m.status, m.due_on, today):
            on_time = gettext("已逾期")
        rating = gettext(rules.RATING_LABELS[m.rating]) if m.rating else ""
        if m.rating and m.rating_void:
            rating += gettext("（申诉成立，不计）")
        rows.append(
            [
                m.serial_no,
                excel_datetime(m.received_at),
                m.applicant_name,
                shown_phone(m.applicant_phone, full),
                shown_id(m.applicant_id_number, full) or "",
                m.matter_type.name,
                gettext(rules.KIND_LABELS[m.kind])
                + (
                    gettext(" %(n)s日", n=m.promised_days + m.extension_days)
                    if m.promised_days
                    else ""
                ),
                gettext(rules.CHANNEL_LABELS[m.channel]),
                m.first_responder.display_name,
                "、".join(m.materials_received),
                m.one_time_notice or "",
                due,
                referral,
                excel_datetime(m.completed_at) or "",
                m.result or "",
                on_time,
                rating,
                callback,
                gettext(rules.STATUS_LABELS[m.status]),
            ]
        )
    return rows


def register_workbook(title: str, rows: list[list[Any]]) -> bytes:
    """The 登记簿 as an .xlsx file, in the paper register's columns."""
    from tracker import xlsx

    wb, ws = xlsx.new_workbook("服务事项登记簿")
    xlsx.title(ws, title)
    xlsx.header(ws, REGISTER_COLUMNS, fill=None)
    for row in rows:
        xlsx.append(ws, row)
    xlsx.widths(ws, [11, 17, 10, 14, 21, 20, 10, 8, 10, 24, 24, 14, 18, 17, 24, 10, 10, 20, 8])
    xlsx.wrap(ws, min_row=3)
    excel_formats(ws.iter_rows(min_row=3))
    ws.freeze_panes = "A3"
    return xlsx.to_bytes(wb)


def parse_local_datetime(value: str | None) -> datetime | None:
    """``2026-10-09T14:30`` (an ``<input type=datetime-local>``) as an aware local time."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise MatterError("时间格式应为 YYYY-MM-DD HH:MM", "received_at") from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=clock.zone())
    return parsed.astimezone(UTC)
