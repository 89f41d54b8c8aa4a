"""Operations on meeting records: record, edit, delete, attach, plan, verify.

Plain functions that change objects and ``flush()`` — never ``commit()``;
the caller (view, API endpoint, CLI, job) owns the transaction. A broken rule
raises :class:`MeetingError` with a Chinese message and the form field it
belongs to; nothing is half-written because the caller rolls back.

Integrity
---------
Every write appends a :class:`MeetingVersion` holding a canonical snapshot of
the record (fields, attendance, attachments), the diff to the previous
version, and ``hash = sha256(canonical JSON + prev_hash)`` chained per branch.
:func:`verify_ledger` recomputes the chains and compares each record with its
last version, so a row changed with raw SQL is reported.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from flask import current_app, g, has_request_context
from flask_babel import gettext
from sqlalchemy import Select, func, select
from sqlalchemy.orm import joinedload, selectinload

from tracker import clock, uploads
from tracker.config import current_settings
from tracker.errors import DomainError
from tracker.extensions import db
from tracker.meetings import rules
from tracker.meetings.models import (
    Attendance,
    Meeting,
    MeetingAttachment,
    MeetingKind,
    MeetingPlan,
    MeetingRuleOverride,
    MeetingVersion,
)
from tracker.meetings.rules import BUILTIN_KINDS, Frequency, KindDef
from tracker.models import Branch, Member, PartyGroup, Region, RegionLevel, utcnow
from tracker.org import history as member_history
from tracker.workdays import WorkCalendar

SelectT = TypeVar("SelectT", bound=Select)

GENESIS = "0" * 64
# Allowed clock difference between a phone and the server for "not in the future".
CLOCK_SKEW = timedelta(minutes=10)


class MeetingError(DomainError):
    """A meeting rule was broken; the message is for the user, ``field`` names the input."""


# ---------------------------------------------------------------------------
# Settings and kinds


def kinds(include_inactive: bool = False) -> dict[str, KindDef]:
    """Built-in kinds, then the admin's configured kinds, by code (ordered).

    Cached for the rest of the request (templates name a kind on every row).
    """
    cache: dict[bool, dict[str, KindDef]] | None = (
        g.get("_meeting_kinds") if has_request_context() else None
    )
    if cache is not None and include_inactive in cache:
        return dict(cache[include_inactive])
    out = _load_kinds(include_inactive)
    if has_request_context():
        g.setdefault("_meeting_kinds", {})[include_inactive] = dict(out)
    return out


def _load_kinds(include_inactive: bool) -> dict[str, KindDef]:
    out = {k.code: k for k in BUILTIN_KINDS}
    stmt = select(MeetingKind).order_by(MeetingKind.id)
    for row in db.session.scalars(stmt):
        if row.active or include_inactive:
            out[row.code] = KindDef(
                row.code, row.name, needs_quorum=row.needs_quorum, builtin=False
            )
    return out


def kind_name(code: str, known: Mapping[str, KindDef] | None = None) -> str:
    known = known if known is not None else kinds(include_inactive=True)
    return gettext(known[code].name) if code in known else code


def default_rules(kind_defs: Iterable[KindDef] | None = None) -> dict[str, Frequency]:
    """``[rules]`` of config.toml plus the frequencies of configured kinds."""
    out = rules.rules_from_config(current_settings().rules.model_dump())
    for row in db.session.scalars(select(MeetingKind)):
        out[row.code] = Frequency.parse(row.frequency)
    return out


def county_id_of(region: Region) -> int | None:
    """The county above (or at) a region, from its materialized path (no query)."""
    ids = region.ancestor_ids
    return ids[1] if len(ids) > 1 else None


def rules_for_county(county_id: int | None) -> dict[str, Frequency]:
    """The rules a county's branches follow: config, then the county's overrides."""
    base = default_rules()
    if county_id is None:
        return base
    rows = db.session.scalars(
        select(MeetingRuleOverride).where(MeetingRuleOverride.region_id == county_id)
    ).all()
    return rules.merge_rules(base, {r.kind: r.frequency for r in rows})


def set_rule_override(
    county: Region, kind: str, frequency: str | None
) -> MeetingRuleOverride | None:
    """Set (or with ``None``/empty, remove) a county's frequency for one kind."""
    if county.level != RegionLevel.county:
        raise MeetingError(gettext("只能为县（区）设置本地规则"), "region_id")
    if kind not in kinds():
        raise MeetingError(gettext("没有这种会议类型"), "kind")
    row = db.session.scalar(
        select(MeetingRuleOverride).where(
            MeetingRuleOverride.region_id == county.id, MeetingRuleOverride.kind == kind
        )
    )
    if not frequency:
        if row is not None:
            db.session.delete(row)
            db.session.flush()
        return None
    try:
        freq = Frequency.parse(frequency)
    except rules.RuleError as exc:
        raise MeetingError(str(exc), "frequency") from exc
    if row is None:
        row = MeetingRuleOverride(region_id=county.id, kind=kind, frequency=freq.text)
        db.session.add(row)
    else:
        row.frequency = freq.text
        row.updated_at = utcnow()
    db.session.flush()
    return row


def add_kind(
    code: str, name: str, frequency: str = "none", needs_quorum: bool = False
) -> MeetingKind:
    """Configure a new meeting kind (新增会议类型)."""
    code = code.strip()
    name = name.strip()
    if not code or not code.replace("_", "").isalnum() or not code.isascii():
        raise MeetingError(gettext("代码只能用英文字母、数字和下划线"), "code")
    if code in kinds(include_inactive=True):
        raise MeetingError(gettext("该代码已存在"), "code")
    if not name or len(name) > 32:
        raise MeetingError(gettext("名称应为 1–32 个字"), "name")
    try:
        freq = Frequency.parse(frequency)
    except rules.RuleError as exc:
        raise MeetingError(str(exc), "frequency") from exc
    row = MeetingKind(code=code, name=name, frequency=freq.text, needs_quorum=needs_quorum)
    db.session.add(row)
    db.session.flush()
    if has_request_context():
        g.pop("_meeting_kinds", None)
    return row


# ---------------------------------------------------------------------------
# Dates


def local_year_bounds(first_year: int, last_year: int) -> tuple[datetime, datetime]:
    """UTC instants of [1 Jan first_year, 1 Jan last_year+1) in local time."""
    start = datetime(first_year, 1, 1, tzinfo=clock.zone()).astimezone(UTC)
    end = datetime(last_year + 1, 1, 1, tzinfo=clock.zone()).astimezone(UTC)
    return start, end


def period_bounds(period: rules.Period) -> tuple[datetime, datetime]:
    """UTC instants of a local period: [first day 00:00, day after the last 00:00)."""
    lo = datetime(period.start.year, period.start.month, period.start.day, tzinfo=clock.zone())
    end = period.end + timedelta(days=1)
    hi = datetime(end.year, end.month, end.day, tzinfo=clock.zone())
    return lo.astimezone(UTC), hi.astimezone(UTC)


# ---------------------------------------------------------------------------
# Roster


def branch_roster(branch: Branch, day: date) -> list[Member]:
    """Members of the branch on the roster on ``day`` (from the dated facts)."""
    return member_history.members_on(branch.id, day)


def _roster_key(groups: Mapping[int, str]) -> Any:
    from tracker.formatting import natural_key

    def key(member: Member) -> tuple[Any, ...]:
        group = groups.get(member.group_id) if member.group_id else None
        return (group is None, natural_key(group or ""), natural_key(member.name), member.id)

    return key


def _group_names(members: Iterable[Member]) -> dict[int, str]:
    ids = {m.group_id for m in members if m.group_id}
    if not ids:
        return {}
    return dict(
        db.session.execute(
            select(PartyGroup.id, PartyGroup.name).where(PartyGroup.id.in_(ids))
        ).all()
    )


def roster_order(members: Iterable[Member]) -> list[Member]:
    """Members as the paper roster lists them: by party group in natural order (第一, 第二 …
    第十, 第十一; 2 before 10), members of no group last, then by name (one query)."""
    members = list(members)
    return sorted(members, key=_roster_key(_group_names(members)))


def attendance_in_roster_order(meeting: Meeting) -> list[Attendance]:
    """The meeting's attendance rows in :func:`roster_order` of their members."""
    rows = list(meeting.attendance)
    key = _roster_key(_group_names(a.member for a in rows))
    return sorted(rows, key=lambda a: key(a.member))


def show_attendance_in_roster_order(meeting: Meeting) -> None:
    """For a page: ``meeting.attendance`` as loaded, in roster order (no change recorded)."""
    from sqlalchemy.orm.attributes import set_committed_value

    set_committed_value(meeting, "attendance", attendance_in_roster_order(meeting))


def meeting_roster(branch: Branch, day: date, group_id: int | None = None) -> list[Member]:
    """Who is expected: the group's members for 党小组会, else the whole branch."""
    members = branch_roster(branch, day)
    if group_id is not None:
        return [m for m in members if m.group_id == group_id]
    return members


# ---------------------------------------------------------------------------
# Recording


@dataclass
class MeetingInput:
    """What a user enters for a meeting (form, API or Excel row)."""

    kind: str
    started_at: datetime
    ended_at: datetime
    place: str
    host_id: int | None
    recorder: str
    topics: str
    content: str = ""
    resolutions: str = ""
    guests: str = ""
    lecturer: str | None = None
    group_id: int | None = None
    present_ids: set[int] = field(default_factory=set)
    absence_reasons: dict[int, str] = field(default_factory=dict)
    # Absent members who asked for leave (请假; a reason is required); the others are 缺席.
    excused_ids: set[int] = field(default_factory=set)
    # True: everyone on the meeting's roster was present (the form's default).
    all_present: bool = False


def _clean(text: str | None, limit: int, name: str, field_name: str, required: bool) -> str:
    value = (text or "").strip()
    if required and not value:
        raise MeetingError(gettext("请填写%(name)s", name=name), field_name)
    if len(value) > limit:
        raise MeetingError(
            gettext("%(name)s太长（最多 %(n)s 个字）", name=name, n=limit), field_name
        )
    return value


def _validate(
    branch: Branch, data: MeetingInput, now: datetime, known: Mapping[str, KindDef]
) -> tuple[KindDef, list[Member], dict[int, Member]]:
    """Check the input against the rules; return the kind, the meeting roster, the branch roster."""
    kind = known.get(data.kind)
    if kind is None:
        raise MeetingError(gettext("请选择会议类型"), "kind")
    for name in ("started_at", "ended_at"):
        value = getattr(data, name)
        if value is None:
            raise MeetingError(gettext("请填写时间"), name)
        if value.tzinfo is None:
            raise MeetingError(gettext("时间须带时区"), name)
    if data.started_at > now + CLOCK_SKEW:
        raise MeetingError(gettext("不能登记未来的会议：开始时间晚于现在"), "started_at")
    if data.ended_at <= data.started_at:
        raise MeetingError(gettext("结束时间应晚于开始时间"), "ended_at")
    if data.ended_at - data.started_at > timedelta(hours=24):
        raise MeetingError(gettext("会议时长不能超过 24 小时"), "ended_at")
    day = clock.local_date(data.started_at)
    if data.started_at.year < 2000:
        raise MeetingError(gettext("会议日期不合理"), "started_at")
    data.place = _clean(data.place, 100, gettext("会议地点"), "place", True)
    data.recorder = _clean(data.recorder, 32, gettext("记录人"), "recorder", True)
    data.topics = _clean(data.topics, 2000, gettext("议题"), "topics", True)
    data.content = _clean(data.content, 20000, gettext("会议内容"), "content", False)
    data.resolutions = _clean(data.resolutions, 5000, gettext("决议"), "resolutions", False)
    data.guests = _clean(data.guests, 500, gettext("列席人员"), "guests", False)
    data.lecturer = (
        _clean(data.lecturer, 64, gettext("授课人"), "lecturer", kind.needs_lecturer) or None
    )
    if kind.per_group:
        group = db.session.get(PartyGroup, data.group_id) if data.group_id else None
        if group is None or group.branch_id != branch.id:
            raise MeetingError(gettext("党小组会须选择本支部的党小组"), "group_id")
        if group.created_on and group.created_on > day:
            raise MeetingError(gettext("会议日期早于该党小组成立日期"), "group_id")
    else:
        data.group_id = None
    members = {m.id: m for m in branch_roster(branch, day)}
    if data.host_id is None or data.host_id not in members:
        raise MeetingError(gettext("主持人应为会议当日本支部名册中的党员"), "host_id")
    strangers = [i for i in set(data.present_ids) | set(data.absence_reasons) if i not in members]
    if strangers:
        raise MeetingError(gettext("参会人员不在会议当日本支部名册中"), "attendance")
    for member_id, reason in data.absence_reasons.items():
        if len(reason or "") > 100:
            raise MeetingError(
                gettext("%(name)s 的缺席原因太长（最多 100 字）", name=members[member_id].name),
                "attendance",
            )
    for member_id in sorted(set(data.excused_ids) - set(data.present_ids)):
        if member_id not in members:
            raise MeetingError(gettext("参会人员不在会议当日本支部名册中"), "attendance")
        if not (data.absence_reasons.get(member_id) or "").strip():
            raise MeetingError(
                gettext("请填写 %(name)s 的请假原因", name=members[member_id].name), "attendance"
            )
    roster = meeting_roster(branch, day, data.group_id)
    return kind, roster, members


def warnings_for(branch: Branch, data: MeetingInput) -> list[str]:
    """Why this meeting, as entered, will not count (empty = it will); nothing is saved.

    The record may still be saved as held: the clerk is warned first. Domain
    errors of the input itself are raised as :func:`record_meeting` would.
    """
    kind, roster, members = _validate(branch, data, clock.now(), kinds(include_inactive=True))
    present = {m.id for m in roster} if data.all_present else set(data.present_ids)
    day = clock.local_date(data.started_at)
    voters = member_history.full_members_on([branch.id], day)[branch.id]
    full = [m for m in roster if m.id in voters]
    return rules.meeting_warnings(
        needs_quorum=kind.needs_quorum,
        full_members=len(full),
        full_present=sum(1 for m in full if m.id in present),
        host_present=data.host_id in present,
        recorder_absent=any(m.name == data.recorder and m.id not in present for m in roster),
    )


def _fill_attendance(
    meeting: Meeting, data: MeetingInput, roster: list[Member], members: Mapping[int, Member]
) -> None:
    """Attendance rows for the meeting's roster plus anyone else marked present.

    Who could vote (``voting``: a full member, not probationary) is a fact of the
    meeting day: it is taken from the member's dated facts of that day
    (``tracker.org.history``) when the row is first recorded and kept on every
    later edit, so a 转正 after the meeting — entered before or after the
    meeting is recorded — never turns a past 支部党员大会 quorate.
    """
    day = clock.local_date(data.started_at)
    voters = member_history.full_members_on([meeting.branch_id], day)[meeting.branch_id]
    present = {m.id for m in roster} if data.all_present else set(data.present_ids)
    expected = [m.id for m in roster] + sorted(present - {m.id for m in roster})
    old = {a.member_id: a for a in meeting.attendance}
    rows = []
    for member_id in expected:
        row = old.pop(member_id, None)
        if row is None:
            row = Attendance(
                member_id=member_id,
                region_id=meeting.region_id,
                voting=member_id in voters,
            )
        row.present = member_id in present
        row.absence_reason = (
            "" if row.present else (data.absence_reasons.get(member_id) or "").strip()
        )
        row.excused = not row.present and member_id in data.excused_ids
        rows.append(row)
    meeting.attendance = rows


def _apply(meeting: Meeting, data: MeetingInput, kind: KindDef) -> None:
    meeting.kind = data.kind
    meeting.group_id = data.group_id
    meeting.started_at = data.started_at
    meeting.ended_at = data.ended_at
    meeting.place = data.place
    meeting.host_id = data.host_id  # type: ignore[assignment]  # validated not None
    meeting.recorder = data.recorder
    meeting.lecturer = data.lecturer
    meeting.topics = data.topics
    meeting.content = data.content
    meeting.resolutions = data.resolutions
    meeting.guests = data.guests
    full = [a for a in meeting.attendance if a.voting]
    meeting.full_members = len(full)
    meeting.full_present = sum(1 for a in full if a.present)
    meeting.quorum_met = (
        rules.quorum_met(meeting.full_members, meeting.full_present) if kind.needs_quorum else None
    )


def _lateness(meeting: Meeting, cal: WorkCalendar, allowed: int) -> None:
    days = rules.working_days_after(
        clock.local_date(meeting.started_at), clock.local_date(meeting.entered_at), cal
    )
    meeting.late_working_days = days
    meeting.late = days > allowed


def _refuse_duplicate(
    branch: Branch, data: MeetingInput, kind: KindDef, exclude: int | None = None
) -> None:
    """The same kind (and group) at the same start in one branch is a duplicate submit."""
    stmt = select(Meeting.id).where(
        Meeting.branch_id == branch.id,
        Meeting.kind == data.kind,
        Meeting.started_at == data.started_at,
        Meeting.deleted_at.is_(None),
    )
    if data.group_id is not None:
        stmt = stmt.where(Meeting.group_id == data.group_id)
    if exclude is not None:
        stmt = stmt.where(Meeting.id != exclude)
    if db.session.scalar(stmt.limit(1)) is not None:
        raise MeetingError(
            gettext("已有同一开始时间的%(kind)s记录（可能是重复提交）", kind=gettext(kind.name)),
            "started_at",
            409,
        )


def find_by_client_uuid(client_uuid: str | None) -> Meeting | None:
    """The meeting an earlier submit with this key created (a retried submit)."""
    if not client_uuid:
        return None
    return db.session.scalar(select(Meeting).where(Meeting.client_uuid == client_uuid))


def record_meeting(
    branch: Branch,
    data: MeetingInput,
    actor_id: int | None,
    cal: WorkCalendar,
    client_uuid: str | None = None,
    now: datetime | None = None,
    imported: bool = False,
) -> Meeting:
    """Record a meeting (a new page of the 记录簿) with its attendance and first version.

    ``entered_at`` is the server's time — never the user's — so lateness (补录)
    cannot be hidden; imported records get the import time.
    """
    now = now or utcnow()
    if client_uuid is not None:
        client_uuid = client_uuid.strip()[:64] or None
    known = kinds()
    kind, roster, members = _validate(branch, data, now, known)
    _refuse_duplicate(branch, data, kind)
    meeting = Meeting(
        branch_id=branch.id,
        region_id=branch.region_id,
        entered_at=now,
        entered_by_id=actor_id,
        imported=imported,
        imported_at=now if imported else None,
        version=1,
        updated_at=now,
        client_uuid=client_uuid,
    )
    meeting.attendance = []
    _fill_attendance(meeting, data, roster, members)
    _apply(meeting, data, kind)
    _lateness(meeting, cal, current_settings().calendar.late_entry_working_days)
    db.session.add(meeting)
    db.session.flush()
    _append_version(meeting, "import" if imported else "create", actor_id, "", None, now)
    return meeting


def check_editable(
    meeting: Meeting, is_admin: bool, reason: str, today: date | None = None
) -> None:
    """Refuse changes to deleted records, and to old records unless admin with a reason."""
    if meeting.deleted_at is not None:
        raise MeetingError(gettext("该记录已删除，不能修改"), None, 409)
    lock = current_settings().rules.edit_lock_days
    if rules.edit_locked(
        clock.local_date(meeting.started_at), today or clock.local_date(utcnow()), lock
    ):
        if not is_admin:
            raise MeetingError(gettext("超过 %(n)s 天的记录只能由管理员修改", n=lock), None, 403)
        if not reason.strip():
            raise MeetingError(gettext("超过 %(n)s 天的记录须填写修改原因", n=lock), "reason")


def update_meeting(
    meeting: Meeting,
    data: MeetingInput,
    actor_id: int | None,
    cal: WorkCalendar,
    expected_version: int | None,
    is_admin: bool = False,
    reason: str = "",
    now: datetime | None = None,
) -> Meeting:
    """Edit a record: a new version with the diff; ``entered_at`` (and so lateness) stays."""
    now = now or utcnow()
    reason = (reason or "").strip()[:200]
    if expected_version is not None and expected_version != meeting.version:
        raise MeetingError(gettext("该记录已被他人修改，请刷新后再改"), "version", 409)
    check_editable(meeting, is_admin, reason, clock.local_date(now))
    before = snapshot(meeting)
    branch = db.session.get(Branch, meeting.branch_id)
    assert branch is not None
    known = kinds(include_inactive=True)
    kind, roster, members = _validate(branch, data, now, known)
    _refuse_duplicate(branch, data, kind, exclude=meeting.id)
    _fill_attendance(meeting, data, roster, members)
    _apply(meeting, data, kind)
    _lateness(meeting, cal, current_settings().calendar.late_entry_working_days)
    db.session.flush()
    if snapshot(meeting) == before:
        return meeting  # nothing changed: no new version
    meeting.version += 1
    meeting.updated_at = now
    db.session.flush()
    _append_version(meeting, "update", actor_id, reason, before, now)
    return meeting


def delete_meeting(
    meeting: Meeting,
    actor_id: int | None,
    reason: str,
    is_admin: bool = False,
    now: datetime | None = None,
) -> Meeting:
    """Soft delete with a reason: the record stays, marked, and the history shows it."""
    reason = (reason or "").strip()
    if not reason:
        raise MeetingError(gettext("请填写删除原因"), "reason")
    if len(reason) > 200:
        raise MeetingError(gettext("删除原因太长（最多 200 字）"), "reason")
    now = now or utcnow()
    check_editable(meeting, is_admin, reason, clock.local_date(now))
    before = snapshot(meeting)
    meeting.deleted_at = now
    meeting.deleted_reason = reason
    meeting.version += 1
    meeting.updated_at = now
    db.session.flush()
    _append_version(meeting, "delete", actor_id, reason, before, now)
    return meeting


def add_attachment(
    meeting: Meeting, filename: str, data: bytes, actor_id: int | None, max_bytes: int | None = None
) -> MeetingAttachment:
    """Store a photo/scan under its SHA-256 outside the database and add it to the record."""
    if meeting.deleted_at is not None:
        raise MeetingError(gettext("该记录已删除，不能添加附件"), "attachments", 409)
    limit = max_bytes or current_settings().tracker.max_upload_mb * 1024 * 1024
    if not data:
        raise MeetingError(gettext("附件是空文件"), "attachments")
    if len(data) > limit:
        raise MeetingError(
            gettext("附件过大（最大 %(n)s MB）", n=limit // (1024 * 1024)), "attachments", 413
        )
    content_type = uploads.sniff(data)  # the whole file, not only its first bytes
    if content_type is None:
        raise MeetingError(
            gettext("附件只能是完整的照片（JPG、PNG）或 PDF 扫描件（文件已损坏或含有其他内容）"),
            "attachments",
            415,
        )
    sha = hashlib.sha256(data).hexdigest()
    path = attachment_path(sha)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp" + str(os.getpid()))
        tmp.write_bytes(data)
        tmp.replace(path)
        uploads.written(db.session(), path)  # removed again if this transaction rolls back
    name = Path(filename or "附件").name[:200] or "附件"
    before = snapshot(meeting)
    att = MeetingAttachment(
        region_id=meeting.region_id,
        filename=name,
        content_type=content_type,
        size=len(data),
        sha256=sha,
        uploaded_by_id=actor_id,
    )
    meeting.attachments.append(att)
    meeting.version += 1
    meeting.updated_at = utcnow()
    db.session.flush()
    _append_version(meeting, "update", actor_id, f"添加附件 {name}", before, meeting.updated_at)
    return att


def attachment_path(sha256: str) -> Path:
    """Where an attachment's bytes live: ``UPLOAD_DIR/meetings/ab/abcdef…``."""
    return Path(current_app.config["UPLOAD_DIR"]) / "meetings" / sha256[:2] / sha256


# ---------------------------------------------------------------------------
# Versions and the hash chain


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def snapshot(meeting: Meeting) -> dict[str, Any]:
    """The canonical content of a record (what the version chain protects)."""
    return {
        "id": meeting.id,
        "branch_id": meeting.branch_id,
        "region_id": meeting.region_id,
        "kind": meeting.kind,
        "group_id": meeting.group_id,
        "started_at": _iso(meeting.started_at),
        "ended_at": _iso(meeting.ended_at),
        "place": meeting.place,
        "host_id": meeting.host_id,
        "recorder": meeting.recorder,
        "lecturer": meeting.lecturer,
        "topics": meeting.topics,
        "content": meeting.content,
        "resolutions": meeting.resolutions,
        "guests": meeting.guests,
        "full_members": meeting.full_members,
        "full_present": meeting.full_present,
        "quorum_met": meeting.quorum_met,
        "entered_at": _iso(meeting.entered_at),
        "entered_by_id": meeting.entered_by_id,
        "late": meeting.late,
        "late_working_days": meeting.late_working_days,
        "imported": meeting.imported,
        "imported_at": _iso(meeting.imported_at),
        "deleted_at": _iso(meeting.deleted_at),
        "deleted_reason": meeting.deleted_reason,
        "attendance": sorted(
            [
                a.member_id,
                bool(a.present),
                a.absence_reason or "",
                bool(a.voting),
                bool(a.excused),
            ]
            for a in meeting.attendance
        ),
        "attachments": sorted([a.sha256, a.filename] for a in meeting.attachments),
    }


def canonical(value: Any) -> bytes:
    """Canonical JSON bytes: sorted keys, no spaces, UTF-8."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def version_hash(v: MeetingVersion) -> str:
    """SHA-256 over the version's canonical JSON and the previous hash."""
    body = {
        "branch_id": v.branch_id,
        "meeting_id": v.meeting_id,
        "seq": v.seq,
        "version": v.version,
        "action": v.action,
        "at": _iso(v.at),
        "actor_id": v.actor_id,
        "reason": v.reason,
        "snapshot": v.snapshot,
        "diff": v.diff,
        "prev_hash": v.prev_hash,
    }
    return hashlib.sha256(canonical(body)).hexdigest()


def _append_version(
    meeting: Meeting,
    action: str,
    actor_id: int | None,
    reason: str,
    before: dict[str, Any] | None,
    at: datetime,
) -> MeetingVersion:
    # Serialise writers of one branch's chain (PostgreSQL row lock; SQLite writes are serial).
    db.session.execute(select(Branch.id).where(Branch.id == meeting.branch_id).with_for_update())
    last = db.session.execute(
        select(MeetingVersion.seq, MeetingVersion.hash)
        .where(MeetingVersion.branch_id == meeting.branch_id)
        .order_by(MeetingVersion.seq.desc())
        .limit(1)
    ).first()
    after = json.loads(canonical(snapshot(meeting)))
    version = MeetingVersion(
        branch_id=meeting.branch_id,
        region_id=meeting.region_id,
        meeting_id=meeting.id,
        seq=(last[0] + 1) if last else 1,
        version=meeting.version,
        action=action,
        at=at,
        actor_id=actor_id,
        reason=reason,
        snapshot=after,
        diff=json.loads(canonical(rules.diff_snapshots(before, after))) if before else {},
        prev_hash=last[1] if last else GENESIS,
    )
    version.hash = version_hash(version)
    db.session.add(version)
    db.session.flush()
    return version


def history(meeting: Meeting) -> list[MeetingVersion]:
    """The versions of one record, newest first."""
    return list(
        db.session.scalars(
            select(MeetingVersion)
            .where(MeetingVersion.meeting_id == meeting.id)
            .order_by(MeetingVersion.version.desc(), MeetingVersion.seq.desc())
        )
    )


@dataclass(frozen=True)
class LedgerProblem:
    """One finding of :func:`verify_ledger`."""

    branch_id: int
    meeting_id: int | None
    seq: int | None
    message: str


def verify_ledger(branch_ids: Iterable[int] | None = None) -> tuple[int, list[LedgerProblem]]:
    """Recompute every hash chain and compare each record with its last version.

    Returns ``(versions checked, problems)``; reads one branch at a time.
    """
    if branch_ids is None:
        branch_ids = db.session.scalars(
            select(MeetingVersion.branch_id).distinct().order_by(MeetingVersion.branch_id)
        ).all()
    checked = 0
    problems: list[LedgerProblem] = []
    for branch_id in branch_ids:
        versions = db.session.scalars(
            select(MeetingVersion)
            .where(MeetingVersion.branch_id == branch_id)
            .order_by(MeetingVersion.seq)
        ).all()
        prev = GENESIS
        last_of: dict[int, MeetingVersion] = {}
        for expected_seq, v in enumerate(versions, start=1):
            checked += 1
            if v.seq != expected_seq:
                problems.append(
                    LedgerProblem(
                        branch_id, v.meeting_id, v.seq, f"链条断开：缺少第 {expected_seq} 条版本"
                    )
                )
            if v.prev_hash != prev:
                problems.append(
                    LedgerProblem(branch_id, v.meeting_id, v.seq, "前一哈希不符：版本被删除或插入")
                )
            if version_hash(v) != v.hash:
                problems.append(
                    LedgerProblem(branch_id, v.meeting_id, v.seq, "版本内容与哈希不符：版本被篡改")
                )
            prev = v.hash
            last_of[v.meeting_id] = v
        meetings = db.session.scalars(select(Meeting).where(Meeting.branch_id == branch_id)).all()
        for m in meetings:
            last = last_of.get(m.id)
            if last is None:
                problems.append(
                    LedgerProblem(branch_id, m.id, None, "记录没有任何版本：绕过系统写入")
                )
                continue
            if last.version != m.version:
                problems.append(LedgerProblem(branch_id, m.id, last.seq, "记录版本号与历史不符"))
            current = json.loads(canonical(snapshot(m)))
            if current != last.snapshot:
                changed = sorted(k for k in current if current.get(k) != last.snapshot.get(k))
                problems.append(
                    LedgerProblem(
                        branch_id,
                        m.id,
                        last.seq,
                        "记录与最后版本不符，被直接改动的字段：" + "、".join(changed),
                    )
                )
    return checked, problems


# ---------------------------------------------------------------------------
# Queries


def meetings_of_branch(
    branch_id: int, year: int | None = None, kind: str | None = None, include_deleted: bool = True
) -> list[Meeting]:
    """A branch's records, newest first, optionally for one year and kind."""
    return list(db.session.scalars(meetings_stmt(branch_id, year, kind, include_deleted)))


def meetings_stmt(
    branch_id: int, year: int | None = None, kind: str | None = None, include_deleted: bool = True
) -> Select[Any]:
    """Select of :func:`meetings_of_branch`: with each record's host, attendance (and
    its members) and attachments loaded in three more statements whatever the number
    of records (the list, the API and the Excel export read them)."""
    stmt = select(Meeting).options(
        joinedload(Meeting.host),
        selectinload(Meeting.attendance).joinedload(Attendance.member),
        selectinload(Meeting.attachments),
    )
    return filter_meetings(stmt, branch_id, year, kind, include_deleted)


def filter_meetings(
    stmt: SelectT,
    branch_id: int,
    year: int | None = None,
    kind: str | None = None,
    include_deleted: bool = True,
) -> SelectT:
    """``stmt`` (of meetings, or of their columns) narrowed to a branch's records,
    optionally of one year and kind, newest first."""
    stmt = stmt.where(Meeting.branch_id == branch_id)
    if year is not None:
        start, end = local_year_bounds(year, year)
        stmt = stmt.where(Meeting.started_at >= start, Meeting.started_at < end)
    if kind:
        stmt = stmt.where(Meeting.kind == kind)
    if not include_deleted:
        stmt = stmt.where(Meeting.deleted_at.is_(None))
    return stmt.order_by(Meeting.started_at.desc(), Meeting.id.desc())


# ---------------------------------------------------------------------------
# Plans (计划报备)


def file_plan(
    branch: Branch,
    year: int,
    quarter: int,
    kind: str,
    planned_on: date | None,
    topic: str,
    actor_id: int | None,
    group_id: int | None = None,
) -> MeetingPlan:
    """Add one planned meeting to a branch's quarter plan."""
    known = kinds()
    if kind not in known:
        raise MeetingError(gettext("请选择会议类型"), "kind")
    if quarter not in (1, 2, 3, 4):
        raise MeetingError(gettext("季度应为 1–4"), "quarter")
    if planned_on is None:
        raise MeetingError(gettext("请填写计划日期"), "planned_on")
    if not rules.Period.quarter(year, quarter).contains(planned_on):
        raise MeetingError(gettext("计划日期不在该季度内"), "planned_on")
    if known[kind].per_group:
        group = db.session.get(PartyGroup, group_id) if group_id else None
        if group is None or group.branch_id != branch.id:
            raise MeetingError(gettext("党小组会须选择本支部的党小组"), "group_id")
    else:
        group_id = None
    topic = (topic or "").strip()
    if len(topic) > 200:
        raise MeetingError(gettext("议题太长（最多 200 字）"), "topic")
    plan = MeetingPlan(
        branch_id=branch.id,
        region_id=branch.region_id,
        year=year,
        quarter=quarter,
        kind=kind,
        group_id=group_id,
        planned_on=planned_on,
        topic=topic,
        filed_by_id=actor_id,
    )
    db.session.add(plan)
    db.session.flush()
    return plan


@dataclass(frozen=True)
class PlanLine:
    """A planned meeting and the record that carried it out (if any)."""

    plan: MeetingPlan
    held: Meeting | None


def plan_vs_held(branch: Branch, year: int, quarter: int) -> tuple[list[PlanLine], list[Meeting]]:
    """Planned meetings matched with held ones (same kind/group, nearest date); unplanned held."""
    plans = db.session.scalars(
        select(MeetingPlan)
        .where(
            MeetingPlan.branch_id == branch.id,
            MeetingPlan.year == year,
            MeetingPlan.quarter == quarter,
        )
        .order_by(MeetingPlan.planned_on, MeetingPlan.id)
    ).all()
    period = rules.Period.quarter(year, quarter)
    held = [
        m
        for m in meetings_of_branch(branch.id, year, include_deleted=False)
        if period.contains(clock.local_date(m.started_at))
    ]
    free = sorted(held, key=lambda m: m.started_at)
    lines = []
    for plan in plans:
        candidates = [m for m in free if m.kind == plan.kind and m.group_id == plan.group_id]
        match = min(
            candidates,
            key=lambda m: abs((clock.local_date(m.started_at) - plan.planned_on).days),
            default=None,
        )
        if match is not None:
            free.remove(match)
        lines.append(PlanLine(plan, match))
    return lines, free


def delete_plan(plan: MeetingPlan) -> None:
    db.session.delete(plan)
    db.session.flush()


def count_versions(meeting_id: int) -> int:
    return int(
        db.session.scalar(
            select(func.count(MeetingVersion.id)).where(MeetingVersion.meeting_id == meeting_id)
        )
        or 0
    )
