"""Operations of the service ledger: catalog, registration, the timeline, queries, measures.

Plain functions: they change objects and ``flush()``; the caller (view, API
decorator, job, CLI) owns the commit. A broken rule raises
:class:`~tracker.matters.rules.MatterError` (``.field`` names the form field).

The public functions other packages call:

* :func:`matter_measures` / :func:`overdue_stmt` — re-exported from
  :mod:`tracker.matters.figures`, where every figure of the ledger is defined once;
* :func:`due_soon_stmt` — scoped select of matters due soon;
* :func:`register_matter` / :func:`record_event` — what the views and API use.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.exc import IntegrityError

from tracker import clock
from tracker.config import current_settings
from tracker.extensions import db
from tracker.formatting import excel_datetime, excel_formats, mask_id_number, mask_phone
from tracker.matters import rules
from tracker.matters.figures import MatterMeasures, matter_measures, overdue_stmt
from tracker.matters.models import (
    Channel,
    EventKind,
    HandlingLevel,
    MatterEvent,
    MatterKind,
    MatterStatus,
    MatterType,
    Rating,
    ServiceMatter,
)
from tracker.matters.rules import MatterError
from tracker.models import Region, RegionLevel, Role, User, utcnow
from tracker.scope import Scope
from tracker.workdays import WorkCalendar

__all__ = [
    "MatterError",
    "MatterMeasures",
    "catalog_for",
    "due_soon_stmt",
    "matter_measures",
    "overdue_stmt",
    "record_event",
    "register_matter",
]

# Events may be entered a little ahead of the server clock (clock skew), not more.
FUTURE_TOLERANCE = timedelta(minutes=10)


# -- time helpers ----------------------------------------------------------------


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
        raise MatterError("事项清单由县（区）或市级管理", "region_id")
    errors = rules.catalog_errors(name, kind, promised_days, statutory_days)
    if errors:
        field, message = next(iter(errors.items()))
        raise MatterError(message, field)
    name = name.strip()
    clash = db.session.scalar(
        select(MatterType.id).where(MatterType.region_id == region.id, MatterType.name == name)
    )
    if clash is not None and (existing is None or clash != existing.id):
        raise MatterError("本级事项清单中已有同名事项", "name")
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
        errors.append(f"{label}应为整数（工作日）")
        return None
    if number != int(number):
        errors.append(f"{label}应为整数（工作日）")
        return None
    return int(number)


def parse_catalog_workbook(data: bytes, region: Region) -> list[CatalogRow]:
    """Read an .xlsx catalog (first sheet, header row with :data:`CATALOG_COLUMNS`).

    Every row comes back with its Chinese errors; nothing is written. Raises
    :class:`MatterError` when the file itself is unreadable or lacks a column.
    """
    from openpyxl import load_workbook

    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # zip/xml errors of a broken upload
        raise MatterError("无法读取该文件，请上传 .xlsx 格式的 Excel 表格", "file") from exc
    sheet = wb.worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    if not rows:
        raise MatterError("表格是空的", "file")
    header = [str(c).strip() if c is not None else "" for c in rows[0]]
    missing = [c for c in ("事项名称", "办件类型") if c not in header]
    if missing:
        raise MatterError(
            f"表头缺少列：{'、'.join(missing)}（应为：{'、'.join(CATALOG_COLUMNS)}）", "file"
        )
    col = {name: header.index(name) for name in CATALOG_COLUMNS if name in header}

    def cell(row: tuple[Any, ...], name: str) -> Any:
        i = col.get(name)
        return row[i] if i is not None and i < len(row) else None

    existing = set(
        db.session.scalars(select(MatterType.name).where(MatterType.region_id == region.id))
    )
    seen: dict[str, int] = {}
    out: list[CatalogRow] = []
    for line, row in enumerate(rows[1:], start=2):
        if all(v is None or str(v).strip() == "" for v in row):
            continue
        errors: list[str] = []
        name = str(cell(row, "事项名称") or "").strip()
        kind_label = str(cell(row, "办件类型") or "").strip()
        kind = _KIND_BY_LABEL.get(kind_label)
        if kind is None:
            errors.append("办件类型应为“即办件”或“承诺件”")
        promised = _int_cell(cell(row, "承诺时限"), "承诺时限", errors)
        statutory = _int_cell(cell(row, "法定时限"), "法定时限", errors)
        level_label = str(cell(row, "办理层级") or "村").strip()
        level = _LEVEL_BY_LABEL.get(level_label)
        if level is None:
            errors.append("办理层级应为 村、乡镇 或 县")
        if kind is not None:
            errors.extend(rules.catalog_errors(name, kind, promised, statutory).values())
        elif not name:
            errors.append("请填写事项名称")
        if name and name in seen:
            errors.append(f"与第 {seen[name]} 行事项名称重复")
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
        raise MatterError(f"有 {len(bad)} 行有错误，未导入任何事项；请改正后重新上传", "file")
    if not rows:
        raise MatterError("表格中没有事项", "file")
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


def _next_serial(village_id: int, year: int) -> str:
    prefix = f"{year}-"
    last = db.session.scalar(
        select(func.max(ServiceMatter.serial_no)).where(
            ServiceMatter.region_id == village_id, ServiceMatter.serial_no.like(prefix + "%")
        )
    )
    n = int(last.split("-")[1]) + 1 if last else 1
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
        raise MatterError("服务事项登记在村（社区）", "village_id")
    if matter_type.region_id not in village.ancestor_ids or not matter_type.active:
        raise MatterError("该事项不在本村适用的事项清单中", "matter_type_id")
    name = (applicant_name or "").strip()
    if not name:
        raise MatterError("请填写申请人姓名", "applicant_name")
    if len(name) > 32:
        raise MatterError("申请人姓名最多 32 个字", "applicant_name")
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
        raise MatterError("首问责任人应为本村或上级单位的工作人员", "first_responder_id")
    if first_responder.role not in (Role.admin, Role.editor):
        raise MatterError("首问责任人应有录入权限", "first_responder_id")
    now = utcnow()
    received_at = received_at or now
    if received_at.tzinfo is None:
        raise MatterError("受理时间须带时区", "received_at")
    if received_at > now + FUTURE_TOLERANCE:
        raise MatterError("受理时间不能晚于现在", "received_at")
    if received_at < now - timedelta(days=3 * 366):
        raise MatterError("受理时间过早（超过三年），请核对", "received_at")
    missing = _clean_list(materials_missing)
    notice = (one_time_notice or "").strip() or None
    if missing and not notice:
        raise MatterError("材料不齐时请记录一次性告知的内容", "one_time_notice")
    received_on = clock.local_date(received_at)
    matter = ServiceMatter(
        region_id=village.id,
        serial_no=_next_serial(village.id, received_on.year),
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
    taken = _insert_numbered(matter, received_on.year)
    if taken is not None:
        return taken, False
    _add_event(matter, EventKind.accepted, actor, received_at)
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


def _insert_numbered(matter: ServiceMatter, year: int) -> ServiceMatter | None:
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
            matter.serial_no = _next_serial(matter.region_id, year)
    raise MatterError("登记编号冲突，请重试", "client_token")


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


def _pauses(matter: ServiceMatter) -> list[rules.Pause]:
    return rules.pauses_from(
        ((e.kind, clock.local_date(e.at)) for e in matter.events), matter.received_on
    )


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
    kind: EventKind,
    actor: User,
    *,
    calendar: WorkCalendar,
    at: datetime | None = None,
    note: str | None = None,
    to_user: User | None = None,
    to_unit: str | None = None,
    to_level: HandlingLevel | None = None,
    approver: str | None = None,
    days: int | None = None,
    rating: Rating | None = None,
    missing: Sequence[str] | None = None,
    notice: str | None = None,
    upheld: bool | None = None,
    client_token: str | None = None,
) -> tuple[MatterEvent, bool]:
    """Append one event to the timeline and update the matter; returns ``(event, created)``.

    Refuses illegal transitions (:class:`~tracker.matters.rules.TransitionError`)
    and missing details (:class:`MatterError`). A repeated ``client_token``
    returns the event already recorded, with ``created=False``.
    """
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
            return _record(
                matter,
                kind,
                actor,
                calendar,
                at,
                note,
                to_user,
                to_unit,
                to_level,
                approver,
                days,
                rating,
                missing,
                notice,
                upheld,
                client_token,
            )
    except IntegrityError as exc:
        if client_token:
            already = db.session.scalar(
                select(MatterEvent).where(MatterEvent.client_token == client_token)
            )
            if already is not None and already.matter_id == matter.id:
                return already, False
        raise MatterError("提交冲突，请刷新页面后重试") from exc


def _record(
    matter: ServiceMatter,
    kind: EventKind,
    actor: User,
    calendar: WorkCalendar,
    at: datetime | None,
    note: str | None,
    to_user: User | None,
    to_unit: str | None,
    to_level: HandlingLevel | None,
    approver: str | None,
    days: int | None,
    rating: Rating | None,
    missing: Sequence[str] | None,
    notice: str | None,
    upheld: bool | None,
    client_token: str | None,
) -> tuple[MatterEvent, bool]:
    """The body of :func:`record_event` (inside its savepoint)."""
    now = utcnow()
    at = at or now
    if at.tzinfo is None:
        raise MatterError("时间须带时区", "at")
    if at > now + FUTURE_TOLERANCE:
        raise MatterError("时间不能晚于现在", "at")
    last = max((e.at for e in matter.events), default=matter.received_at)
    if at < last:
        at_text = last.astimezone(clock.zone()).strftime("%Y-%m-%d %H:%M")
        raise MatterError(f"时间不能早于上一环节（{at_text}）", "at")
    rules.check_event(state_of(matter), kind, actor.id)
    day = clock.local_date(at)
    fields: dict[str, Any] = {}
    if kind == EventKind.materials_missing:
        items = _clean_list(missing)
        if not items:
            raise MatterError("请列出缺少的材料", "missing")
        text = _required(notice or note, "请记录一次性告知的内容", "notice")
        fields = {"note": text, "data": {"missing": items}}
        matter.materials_missing = items
        matter.one_time_notice = (
            f"{matter.one_time_notice}\n{text}" if matter.one_time_notice else text
        )
        matter.status = MatterStatus.paused
    elif kind == EventKind.materials_supplied:
        fields = {
            "note": (note or "").strip() or None,
            "data": {"supplied": matter.materials_missing},
        }
        matter.materials_received = [*matter.materials_received, *matter.materials_missing]
        matter.materials_missing = []
        matter.status = MatterStatus.accepted
    elif kind == EventKind.referred:
        unit = (to_unit or "").strip()[:100] or None
        if to_user is None and unit is None:
            raise MatterError("请选择转办给谁，或填写转办单位", "to_user_id")
        if to_user is not None:
            village = db.session.get(Region, matter.region_id)
            if village is None or not to_user.active or not _covers(to_user, village):
                raise MatterError("转办对象应为本村或上级单位的在岗人员", "to_user_id")
            if to_user.role not in (Role.admin, Role.editor):
                raise MatterError("转办对象应有录入权限", "to_user_id")
            if to_user.id == matter.handler_id and unit in (None, matter.handler_unit):
                raise MatterError("事项已在该经办人手中", "to_user_id")
        fields = {
            "to_user_id": to_user.id if to_user else None,
            "to_unit": unit,
            "note": (note or "").strip() or None,
            "data": {"level": to_level.value} if to_level else None,
        }
        # 首问负责: the first responder stays the owner; only the handler changes.
        matter.handler_id = to_user.id if to_user else None
        matter.handler_unit = unit
        matter.referred = True
    elif kind == EventKind.extended:
        approver_name = _required(approver, "延期须写明审批人", "approver")[:64]
        reason = _required(note, "延期须写明理由", "note")
        told = _required(notice, "请记录如何告知申请人延期", "notice")
        if days is None or not 1 <= days <= rules.MAX_EXTENSION_DAYS:
            raise MatterError(f"延期天数应为 1–{rules.MAX_EXTENSION_DAYS} 个工作日", "days")
        fields = {"approver": approver_name, "days": days, "note": reason, "data": {"notice": told}}
        matter.extension_days += days
    elif kind == EventKind.completed:
        result = _required(note, "请填写办理结果", "note")
        matter.result = result
        matter.completed_at = at
        matter.completed_on = day
        matter.status = MatterStatus.completed
        fields = {"note": result}
    elif kind == EventKind.rated:
        if rating is None:
            raise MatterError("请选择评价等级", "rating")
        fields = {"rating": rating, "note": (note or "").strip() or None}
        matter.rating = rating
        matter.rated_on = day
        if rating in rules.BAD_RATINGS:
            matter.callback_due_on = rules.callback_due(
                calendar, day, callback_working_days()
            ).due_on
    elif kind == EventKind.called_back:
        text = _required(note, "请记录回访情况", "note")
        fields = {"note": text}
        matter.called_back_on = day
        matter.callback_on_time = (
            matter.callback_due_on is not None and day <= matter.callback_due_on
        )
    elif kind == EventKind.appealed:
        fields = {"note": _required(note, "请写明申诉理由", "note")}
    elif kind == EventKind.appeal_decided:
        if actor.role != Role.admin:
            raise MatterError("评价申诉由管理员处理", "upheld")
        appellant = next(
            (e.actor_id for e in reversed(matter.events) if e.kind == EventKind.appealed), None
        )
        if appellant == actor.id:
            raise MatterError("申诉人不能处理自己的申诉", "upheld")
        if upheld is None:
            raise MatterError("请选择申诉是否成立", "upheld")
        fields = {"note": _required(note, "请写明处理意见", "note"), "data": {"upheld": upheld}}
        if upheld:
            matter.rating_void = True
    elif kind == EventKind.archived:
        matter.archived_at = at
        matter.status = MatterStatus.archived
        fields = {"note": (note or "").strip() or None}
    event = _add_event(matter, kind, actor, at, client_token=client_token, **fields)
    _recompute(matter, calendar)
    if kind == EventKind.completed:
        matter.on_time = matter.due_on is not None and day <= matter.due_on
        matter.working_days_used = rules.working_days_taken(
            calendar, matter.received_on, day, _pauses(matter)
        )
    db.session.flush()
    return event, True


# -- presentation helpers ----------------------------------------------------------


def can_see_personal(scope: Scope, matter: ServiceMatter) -> bool:
    """Full phone and ID number only for writers (editors, admins) whose scope holds the matter."""
    return scope.can_write and scope.contains_region_id(matter.region_id)


def shown_phone(matter: ServiceMatter, full: bool) -> str:
    return matter.applicant_phone if full else mask_phone(matter.applicant_phone)


def shown_id(matter: ServiceMatter, full: bool) -> str | None:
    if not matter.applicant_id_number:
        return None
    return matter.applicant_id_number if full else mask_id_number(matter.applicant_id_number)


def user_name(user: User | None) -> str | None:
    return user.display_name if user else None


def matter_dict(matter: ServiceMatter, full: bool, today: date) -> dict[str, Any]:
    """The JSON shape of a matter (personal data masked unless ``full``)."""
    return {
        "id": matter.id,
        "serial_no": matter.serial_no,
        "region_id": matter.region_id,
        "village": matter.region.name,
        "matter_type_id": matter.matter_type_id,
        "matter_type": matter.matter_type.name,
        "kind": matter.kind.value,
        "promised_days": matter.promised_days,
        "extension_days": matter.extension_days,
        "applicant_name": matter.applicant_name,
        "applicant_phone": shown_phone(matter, full),
        "applicant_id_number": shown_id(matter, full),
        "personal_data_masked": not full,
        "channel": matter.channel.value,
        "received_at": matter.received_at.isoformat(),
        "received_on": matter.received_on.isoformat(),
        "due_on": matter.due_on.isoformat() if matter.due_on else None,
        "calendar_official": matter.calendar_official,
        "status": matter.status.value,
        "overdue": rules.is_overdue(matter.status, matter.due_on, today),
        "first_responder": {
            "id": matter.first_responder_id,
            "name": matter.first_responder.display_name,
        },
        "handler": (
            {"id": matter.handler_id, "name": user_name(matter.handler)}
            if matter.handler_id
            else None
        ),
        "handler_unit": matter.handler_unit,
        "referred": matter.referred,
        "materials_received": matter.materials_received,
        "materials_missing": matter.materials_missing,
        "one_time_notice": matter.one_time_notice,
        "completed_at": matter.completed_at.isoformat() if matter.completed_at else None,
        "result": matter.result,
        "on_time": matter.on_time,
        "working_days_used": matter.working_days_used,
        "rating": matter.rating.value if matter.rating else None,
        "rating_void": matter.rating_void,
        "callback_due_on": matter.callback_due_on.isoformat() if matter.callback_due_on else None,
        "called_back_on": matter.called_back_on.isoformat() if matter.called_back_on else None,
        "callback_on_time": matter.callback_on_time,
    }


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
    stmt = scope.select(ServiceMatter)
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


def due_soon_stmt(scope: Scope, today: date, calendar: WorkCalendar) -> Select[Any]:
    """Scoped select of open matters due today or on the next working day."""
    horizon, _ = calendar.add_working_days(today, 1)
    return (
        scope.select(ServiceMatter)
        .where(
            ServiceMatter.status.in_(list(rules.OPEN_STATUSES)),
            ServiceMatter.due_on >= today,
            ServiceMatter.due_on <= horizon,
        )
        .order_by(ServiceMatter.due_on, ServiceMatter.id)
    )


def callbacks_due_stmt(scope: Scope) -> Select[Any]:
    """Scoped select of bad ratings still waiting for their call-back."""
    return (
        scope.select(ServiceMatter)
        .where(
            ServiceMatter.rating.in_(list(rules.BAD_RATINGS)),
            ServiceMatter.rating_void.is_(False),
            ServiceMatter.called_back_on.is_(None),
        )
        .order_by(ServiceMatter.callback_due_on, ServiceMatter.id)
    )


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
        due: Any = m.due_on if m.due_on else "暂停计时"
        if m.due_on and not m.calendar_official:
            due = f"{m.due_on.isoformat()}（非官方日历）"
        callback = ""
        if m.called_back_on:
            callback = f"{m.called_back_on.isoformat()} 已回访"
        elif m.callback_due_on and not m.rating_void:
            callback = f"应于 {m.callback_due_on.isoformat()} 前回访"
        on_time = "" if m.on_time is None else ("是" if m.on_time else "否（逾期）")
        if m.on_time is None and rules.is_overdue(m.status, m.due_on, today):
            on_time = "已逾期"
        rating = rules.RATING_LABELS[m.rating] if m.rating else ""
        if m.rating and m.rating_void:
            rating += "（申诉成立，不计）"
        rows.append(
            [
                m.serial_no,
                excel_datetime(m.received_at),
                m.applicant_name,
                shown_phone(m, full),
                shown_id(m, full) or "",
                m.matter_type.name,
                rules.KIND_LABELS[m.kind]
                + (f" {m.promised_days + m.extension_days}日" if m.promised_days else ""),
                rules.CHANNEL_LABELS[m.channel],
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
                rules.STATUS_LABELS[m.status],
            ]
        )
    return rows


def register_workbook(title: str, rows: list[list[Any]]) -> bytes:
    """The 登记簿 as an .xlsx file, in the paper register's columns."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "服务事项登记簿"
    ws.append([title])
    ws["A1"].font = Font(bold=True, size=14)
    ws.append(REGISTER_COLUMNS)
    for cell in ws[2]:
        cell.font = Font(bold=True)
    for row in rows:
        ws.append(row)
    widths = [11, 17, 10, 14, 21, 20, 10, 8, 10, 24, 24, 14, 18, 17, 24, 10, 10, 20, 8]
    for i, width in enumerate(widths, start=1):
        ws.column_dimensions[ws.cell(row=2, column=i).column_letter].width = width
    for row_cells in ws.iter_rows(min_row=3):
        for cell in row_cells:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    excel_formats(ws.iter_rows(min_row=3))
    ws.freeze_panes = "A3"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


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
