"""JSON API of the meeting ledgers under ``/api/v1`` (in the OpenAPI document).

- ``GET  /meetings?village_id=&year=&kind=`` — a village's records
- ``POST /meetings`` — record a meeting (``Idempotency-Key`` header or
  ``client_uuid``: a retried request returns the first answer, 200)
- ``GET  /meetings/{id}``, ``PUT /meetings/{id}`` (with the ``version`` read),
  ``DELETE /meetings/{id}?reason=`` (soft delete)
- ``GET  /meetings/{id}/versions`` — the hash-chained history
- ``GET  /villages/{id}/obligations?period=2026-03|2026-Q1|2026``
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, Literal

from flask import Response, request
from flask_login import current_user
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from tracker import clock, pagecache
from tracker.api import ApiError, endpoint
from tracker.api.pagination import Page, PageQuery, paginate_rows
from tracker.calendar_service import load_calendar
from tracker.extensions import db
from tracker.meetings import rules, services
from tracker.meetings.models import Attendance, Meeting, MeetingAttachment
from tracker.meetings.obligations import branch_obligations
from tracker.meetings.services import MeetingInput
from tracker.models import Branch, Member, utcnow
from tracker.rows import AnyRow, rows_by
from tracker.scope import current_scope

TAGS = ["meetings"]


class AttendanceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    member_id: int
    present: bool
    absence_reason: str = Field("", max_length=100)
    excused: bool = Field(
        False, description="absent with leave (请假; a reason is required); false = 缺席"
    )


class MeetingBody(BaseModel):
    """A meeting as entered. ``attendance`` omitted = everyone on the roster present."""

    model_config = ConfigDict(extra="forbid")
    kind: str = Field(min_length=1, max_length=32)
    group_id: int | None = None
    started_at: AwareDatetime
    ended_at: AwareDatetime
    place: str = Field(min_length=1, max_length=100)
    host_id: int
    recorder: str = Field(min_length=1, max_length=32)
    lecturer: str | None = Field(None, max_length=64)
    topics: str = Field(min_length=1, max_length=2000)
    content: str = Field("", max_length=20000)
    resolutions: str = Field("", max_length=5000)
    guests: str = Field("", max_length=500)
    attendance: list[AttendanceIn] | None = Field(None, max_length=1000)


class MeetingCreate(MeetingBody):
    village_id: int
    client_uuid: str | None = Field(None, max_length=64)


class MeetingUpdate(MeetingBody):
    version: int = Field(description="the version this change was made on (409 if stale)")
    reason: str = Field("", max_length=200)


class AttendanceOut(BaseModel):
    member_id: int
    name: str
    present: bool
    absence_reason: str
    excused: bool = Field(description="absent with leave (请假, with its reason); false = 缺席")
    attendance: Literal["present", "excused", "absent"] = Field(description="出席 / 请假 / 缺席")
    voting: bool


class AttachmentOut(BaseModel):
    id: int
    filename: str
    content_type: str
    size: int
    sha256: str


class MeetingOut(BaseModel):
    id: int
    village_id: int
    branch_id: int
    kind: str
    kind_name: str
    group_id: int | None
    started_at: datetime
    ended_at: datetime
    held_on: date
    place: str
    host_id: int
    host_name: str
    recorder: str
    lecturer: str | None
    topics: str
    content: str
    resolutions: str
    guests: str
    attendance: list[AttendanceOut]
    full_members: int
    full_present: int
    quorum_met: bool | None
    entered_at: datetime
    late: bool
    late_working_days: int
    imported: bool
    imported_at: datetime | None
    version: int
    deleted: bool
    deleted_reason: str | None
    attachments: list[AttachmentOut]


class MeetingList(Page[MeetingOut]):
    """One page of a village's records, newest first."""


class VersionOut(BaseModel):
    version: int
    seq: int
    action: str
    at: datetime
    actor_id: int | None
    reason: str
    diff: dict[str, list[object]]
    hash: str
    prev_hash: str


class VersionList(BaseModel):
    meeting_id: int
    items: list[VersionOut]


class ListQuery(PageQuery):
    village_id: int
    year: int | None = Field(None, ge=2000, le=2100)
    kind: str | None = None


class DeleteQuery(BaseModel):
    reason: str = Field(min_length=1, max_length=200)


class PeriodQuery(BaseModel):
    period: str = Field(description="2026-03, 2026-Q1 or 2026", max_length=10)


class RecordRef(BaseModel):
    id: int
    held_on: date
    late: bool


class ObligationOut(BaseModel):
    kind: str
    kind_name: str
    group_id: int | None
    group_name: str
    window: str
    window_start: date
    window_end: date
    status: Literal["met", "met_late", "missing", "due"]
    due_soon: bool
    records: list[RecordRef]


class ObligationList(BaseModel):
    village_id: int
    period: str
    start: date
    end: date
    items: list[ObligationOut]
    summary: dict[str, int]


# A record as the API shows it, as plain rows (a page holds hundreds of attendances):
# the columns are labelled with the names of MeetingOut.
RECORD_ROWS = select(
    Meeting.id,
    Meeting.region_id.label("village_id"),
    Meeting.branch_id,
    Meeting.kind,
    Meeting.group_id,
    Meeting.started_at,
    Meeting.ended_at,
    Meeting.place,
    Meeting.host_id,
    Member.name.label("host_name"),
    Meeting.recorder,
    Meeting.lecturer,
    Meeting.topics,
    Meeting.content,
    Meeting.resolutions,
    Meeting.guests,
    Meeting.full_members,
    Meeting.full_present,
    Meeting.quorum_met,
    Meeting.entered_at,
    Meeting.late,
    Meeting.late_working_days,
    Meeting.imported,
    Meeting.imported_at,
    Meeting.version,
    Meeting.deleted_reason,
    Meeting.deleted_at,
).join(Member, Member.id == Meeting.host_id)
ATTENDANCE_ROWS = (
    select(
        Attendance.meeting_id,
        Attendance.member_id,
        Member.name,
        Attendance.present,
        Attendance.absence_reason,
        Attendance.excused,
        Attendance.voting,
    )
    .join(Member, Member.id == Attendance.member_id)
    .order_by(Attendance.meeting_id, Attendance.member_id)
)
ATTACHMENT_ROWS = select(
    MeetingAttachment.meeting_id,
    MeetingAttachment.id,
    MeetingAttachment.filename,
    MeetingAttachment.content_type,
    MeetingAttachment.size,
    MeetingAttachment.sha256,
).order_by(MeetingAttachment.id)
_RECORD_FIELDS = tuple(RECORD_ROWS.selected_columns.keys())
_ATTACHMENT_FIELDS = tuple(ATTACHMENT_ROWS.selected_columns.keys())[1:]


def record_items(records: Sequence[AnyRow]) -> list[dict[str, Any]]:
    """:class:`MeetingOut` of rows of :data:`RECORD_ROWS`, as plain dicts: their
    attendance and attachments in one statement each."""
    ids = [m.id for m in records]
    attendance = rows_by(ATTENDANCE_ROWS, ids)
    attachments = rows_by(ATTACHMENT_ROWS, ids)
    known = services.kinds(include_inactive=True)
    kind_names = {code: services.kind_name(code, known) for code in {m.kind for m in records}}
    held_on = clock.local_dates([m.started_at for m in records])
    items = []
    for row, day in zip(records, held_on, strict=True):
        item = dict(zip(_RECORD_FIELDS, row, strict=True))
        item["kind_name"] = kind_names[item["kind"]]
        item["held_on"] = day
        item["deleted"] = item.pop("deleted_at") is not None
        item["attendance"] = [
            {
                "member_id": member_id,
                "name": name,
                "present": present,
                "absence_reason": reason,
                "excused": bool(excused and not present),
                "attendance": "present" if present else ("excused" if excused else "absent"),
                "voting": voting,
            }
            for _, member_id, name, present, reason, excused, voting in attendance[row.id]
        ]
        item["attachments"] = [
            dict(zip(_ATTACHMENT_FIELDS, a[1:], strict=True)) for a in attachments[row.id]
        ]
        items.append(item)
    return items


def to_out(m: Meeting) -> MeetingOut:
    """One record as the list shows it (read back as rows: what was flushed)."""
    (record,) = rows_by(RECORD_ROWS, [m.id])[m.id]
    return MeetingOut.model_validate(record_items([record])[0])


def _branch_of_village(village_id: int) -> Branch:
    region = current_scope().get_village(village_id)
    branch = db.session.scalar(select(Branch).where(Branch.region_id == region.id).limit(1))
    if branch is None:
        raise ApiError(404, "该村尚未建立党支部")
    return branch


def _input(body: MeetingBody) -> MeetingInput:
    data = MeetingInput(
        kind=body.kind,
        group_id=body.group_id,
        started_at=body.started_at,
        ended_at=body.ended_at,
        place=body.place,
        host_id=body.host_id,
        recorder=body.recorder,
        lecturer=body.lecturer,
        topics=body.topics,
        content=body.content,
        resolutions=body.resolutions,
        guests=body.guests,
    )
    if body.attendance is None:
        data.all_present = True
    else:
        seen: set[int] = set()
        for a in body.attendance:
            if a.member_id in seen:
                raise ApiError(422, fields={"attendance": "同一党员出现了两次"})
            seen.add(a.member_id)
            if a.present:
                data.present_ids.add(a.member_id)
            else:
                data.absence_reasons[a.member_id] = a.absence_reason
                if a.excused:
                    data.excused_ids.add(a.member_id)
    return data


@endpoint(
    "/meetings",
    ["GET"],
    summary="一个村的会议记录",
    tags=TAGS,
    query=ListQuery,
    response=MeetingList,
)
@pagecache.cached()
def list_meetings(query: ListQuery) -> Response:
    branch = _branch_of_village(query.village_id)
    stmt = services.filter_meetings(RECORD_ROWS, branch.id, query.year, query.kind)
    return paginate_rows(MeetingList, stmt, query, record_items)


@endpoint(
    "/meetings",
    ["POST"],
    summary="登记会议（可用 Idempotency-Key 防重复）",
    tags=TAGS,
    body=MeetingCreate,
    response=MeetingOut,
    status=201,
)
def create_meeting(body: MeetingCreate) -> tuple[MeetingOut, int]:
    branch = _branch_of_village(body.village_id)
    current_scope().require_write(branch.region_id)
    key = (request.headers.get("Idempotency-Key") or body.client_uuid or "").strip() or None
    if key is not None and len(key) > 64:
        raise ApiError(422, fields={"Idempotency-Key": "最多 64 个字符"})
    existing = services.find_by_client_uuid(key)
    if existing is not None:
        if existing.region_id != branch.region_id:
            raise ApiError(409, "该 Idempotency-Key 已用于另一条记录")
        return to_out(existing), 200
    try:
        meeting = services.record_meeting(
            branch, _input(body), current_user.id, load_calendar(), client_uuid=key
        )
    except IntegrityError as exc:
        # A concurrent retry with the same key won the race: answer with its record.
        db.session.rollback()
        existing = services.find_by_client_uuid(key)
        if existing is None or existing.region_id != branch.region_id:
            raise ApiError(409) from exc
        return to_out(existing), 200
    return to_out(meeting), 201


@endpoint(
    "/meetings/<int:meeting_id>", ["GET"], summary="一条会议记录", tags=TAGS, response=MeetingOut
)
def get_meeting(meeting_id: int) -> MeetingOut:
    return to_out(current_scope().get_or_404(Meeting, meeting_id))


@endpoint(
    "/meetings/<int:meeting_id>",
    ["PUT"],
    summary="修改会议记录（生成新版本）",
    tags=TAGS,
    body=MeetingUpdate,
    response=MeetingOut,
)
def update_meeting(meeting_id: int, body: MeetingUpdate) -> MeetingOut:
    scope = current_scope()
    meeting = scope.get_for_write(Meeting, meeting_id)
    services.update_meeting(
        meeting,
        _input(body),
        current_user.id,
        load_calendar(),
        expected_version=body.version,
        is_admin=scope.is_admin,
        reason=body.reason,
    )
    return to_out(meeting)


@endpoint(
    "/meetings/<int:meeting_id>",
    ["DELETE"],
    summary="删除会议记录（保留在历史中）",
    tags=TAGS,
    query=DeleteQuery,
    response=MeetingOut,
)
def delete_meeting(meeting_id: int, query: DeleteQuery) -> MeetingOut:
    scope = current_scope()
    meeting = scope.get_for_write(Meeting, meeting_id)
    services.delete_meeting(meeting, current_user.id, query.reason, scope.is_admin)
    return to_out(meeting)


@endpoint(
    "/meetings/<int:meeting_id>/versions",
    ["GET"],
    summary="会议记录的版本历史",
    tags=TAGS,
    response=VersionList,
)
def meeting_versions(meeting_id: int) -> VersionList:
    meeting = current_scope().get_or_404(Meeting, meeting_id)
    return VersionList(
        meeting_id=meeting.id,
        items=[
            VersionOut(
                version=v.version,
                seq=v.seq,
                action=v.action,
                at=v.at,
                actor_id=v.actor_id,
                reason=v.reason,
                diff=v.diff,
                hash=v.hash,
                prev_hash=v.prev_hash,
            )
            for v in services.history(meeting)
        ],
    )


@endpoint(
    "/villages/<int:village_id>/obligations",
    ["GET"],
    summary="一个村某期间的会议义务及完成情况",
    tags=TAGS,
    query=PeriodQuery,
    response=ObligationList,
)
def village_obligations(village_id: int, query: PeriodQuery) -> ObligationList:
    branch = _branch_of_village(village_id)
    period = rules.Period.parse(query.period)
    statuses = branch_obligations(branch, period, clock.local_date(utcnow()))
    ids = {i for s in statuses for i in s.record_ids}
    facts = (
        {
            r[0]: RecordRef(id=r[0], held_on=clock.local_date(r[1]), late=r[2])
            for r in db.session.execute(
                select(Meeting.id, Meeting.started_at, Meeting.late).where(Meeting.id.in_(ids))
            )
        }
        if ids
        else {}
    )
    known = services.kinds(include_inactive=True)
    summary = rules.summarize(statuses)
    return ObligationList(
        village_id=village_id,
        period=period.key,
        start=period.start,
        end=period.end,
        items=[
            ObligationOut(
                kind=s.kind,
                kind_name=services.kind_name(s.kind, known),
                group_id=s.group_id,
                group_name=s.group_name,
                window=s.window.key,
                window_start=s.window.start,
                window_end=s.window.end,
                status=s.status,
                due_soon=s.due_soon,
                records=[facts[i] for i in s.record_ids if i in facts],
            )
            for s in statuses
        ],
        summary={
            "met": summary.met,
            "met_late": summary.met_late,
            "missing": summary.missing,
            "due": summary.due,
            "due_soon": summary.due_soon,
        },
    )
