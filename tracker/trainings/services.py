"""Operations on the trainings register and the figures the dashboard reads.

Plain functions: they validate, change objects and ``flush()``; the caller
commits. Rules shared with the meeting ledgers (lateness in official working
days, obligation windows) come from :mod:`tracker.meetings.rules`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from tracker import clock
from tracker.config import current_settings
from tracker.errors import DomainError
from tracker.extensions import db
from tracker.meetings.rules import Frequency, is_late, working_days_after
from tracker.models import Branch, Member, User, utcnow
from tracker.periods import Period
from tracker.trainings.models import (
    ConcentratedTraining,
    FarmerTraining,
    Training,
    TrainingAttendee,
    TrainingKind,
)
from tracker.workdays import WorkCalendar

MAX_HOURS = Decimal("200")


class TrainingError(DomainError):
    """A broken rule of the register; ``field`` names the form field."""


@dataclass
class TrainingInput:
    """What a user enters for a training (form or API)."""

    kind: TrainingKind
    title: str
    held_on: date
    hours: Decimal | float | str
    place: str
    organizer: str = ""
    lecturer: str = ""
    content: str = ""
    attendee_ids: list[int] = field(default_factory=list)
    other_attendees: int = 0
    client_token: str | None = None


def trainings_of_branch(
    branch_id: int, year: int | None = None, *, include_deleted: bool = True
) -> Select[Any]:
    """A branch's trainings (of one year), with their attendees and the attendees'
    members loaded in two more statements whatever the number of rows — the register
    page, the Excel export and the API list read them (no query per training)."""
    stmt = (
        select(Training)
        .where(Training.branch_id == branch_id)
        .options(selectinload(Training.attendees).joinedload(TrainingAttendee.member))
    )
    if year is not None:
        stmt = stmt.where(
            Training.held_on >= date(year, 1, 1), Training.held_on <= date(year, 12, 31)
        )
    if not include_deleted:
        stmt = stmt.where(Training.deleted_at.is_(None))
    return stmt


def load_attendees(training: Training) -> Training:
    """Load one training's attendees (and their members) in one statement, unless they
    are loaded already (``Training.attendees`` is never lazy-loaded)."""
    if training.id is not None and "attendees" in sa_inspect(training).unloaded:
        rows = db.session.scalars(
            select(TrainingAttendee)
            .where(TrainingAttendee.training_id == training.id)
            .options(joinedload(TrainingAttendee.member))
            .order_by(TrainingAttendee.id)
        ).all()
        set_committed_value(training, "attendees", list(rows))
    return training


def frequency() -> Frequency:
    """The ``[rules] training`` frequency in force."""
    return Frequency.parse(current_settings().rules.training)


def _validate(branch: Branch, data: TrainingInput, today: date) -> tuple[Decimal, list[Member]]:
    title = (data.title or "").strip()
    if not title:
        raise TrainingError("请填写培训主题", "title")
    if len(title) > 100:
        raise TrainingError("培训主题最多 100 字", "title")
    if not (data.place or "").strip():
        raise TrainingError("请填写培训地点", "place")
    if data.held_on > today:
        raise TrainingError("培训日期不能晚于今天", "held_on")
    if data.held_on < date(1990, 1, 1):
        raise TrainingError("培训日期不合理（早于 1990 年）", "held_on")
    try:
        hours = Decimal(str(data.hours)).quantize(Decimal("0.1"))
    except (InvalidOperation, ValueError) as exc:
        raise TrainingError("学时应为数字，如 2 或 1.5", "hours") from exc
    if not Decimal("0") < hours <= MAX_HOURS:
        raise TrainingError(f"学时应大于 0 且不超过 {MAX_HOURS}", "hours")
    if not 0 <= data.other_attendees <= 10000:
        raise TrainingError("其他参训人数应在 0–10000 之间", "other_attendees")
    ids = sorted(set(data.attendee_ids))
    members = db.session.scalars(select(Member).where(Member.id.in_(ids))).all() if ids else []
    by_id = {m.id: m for m in members}
    for member_id in ids:
        member = by_id.get(member_id)
        if member is None or member.branch_id != branch.id or not member.active_on(data.held_on):
            raise TrainingError("参训人员须是培训当日本支部在册党员", "attendee_ids")
    if not ids and data.other_attendees == 0:
        raise TrainingError("请至少勾选一名参训党员或填写其他参训人数", "attendee_ids")
    return hours, [by_id[i] for i in ids]


def _apply(training: Training, data: TrainingInput, hours: Decimal, members: list[Member]) -> None:
    training.kind = data.kind
    training.title = data.title.strip()
    training.held_on = data.held_on
    training.hours = hours
    training.place = data.place.strip()[:100]
    training.organizer = (data.organizer or "").strip()[:100]
    training.lecturer = (data.lecturer or "").strip()[:64]
    training.content = (data.content or "").strip()
    training.other_attendees = data.other_attendees
    wanted = {m.id for m in members}
    training.attendees = [a for a in training.attendees if a.member_id in wanted]
    have = {a.member_id for a in training.attendees}
    training.attendees.extend(TrainingAttendee(member_id=i) for i in sorted(wanted - have))


def _lateness(training: Training, cal: WorkCalendar) -> None:
    allowed = current_settings().calendar.late_entry_working_days
    entered = clock.local_date(training.entered_at)
    training.late_working_days = working_days_after(training.held_on, entered, cal)
    training.late = is_late(training.held_on, entered, cal, allowed)


def create_training(
    branch: Branch, data: TrainingInput, user: User | None, cal: WorkCalendar
) -> tuple[Training, bool]:
    """Record a training. Returns ``(training, created)``.

    A repeated ``client_token`` (double click, retried request) returns the
    training already saved instead of a second copy.
    """
    if data.client_token:
        existing = db.session.scalar(
            select(Training).where(Training.client_token == data.client_token)
        )
        if existing is not None:
            if existing.branch_id != branch.id:
                raise TrainingError("重复的提交标识", "client_token")
            return load_attendees(existing), False
    hours, members = _validate(branch, data, clock.today())
    training = Training(
        branch_id=branch.id,
        region_id=branch.region_id,
        entered_at=utcnow(),
        entered_by_id=user.id if user else None,
        client_token=data.client_token,
    )
    _apply(training, data, hours, members)
    _lateness(training, cal)
    db.session.add(training)
    db.session.flush()
    return training, True


def update_training(training: Training, data: TrainingInput, user: User, reason: str) -> None:
    """Change a training. Entry time (and so lateness) stays; the audit log keeps the change.

    Records older than ``[rules] edit_lock_days`` may be changed only by an
    admin, with a reason.
    """
    if training.deleted_at is not None:
        raise TrainingError("已删除的记录不能修改")
    lock_days = current_settings().rules.edit_lock_days
    if (clock.today() - training.held_on).days > lock_days:
        if not user.is_admin:
            raise TrainingError(f"超过 {lock_days} 天的记录只能由管理员修改")
        if not reason.strip():
            raise TrainingError("修改较早的记录须填写原因", "reason")
    hours, members = _validate(training.branch, data, clock.today())
    load_attendees(training)
    _apply(training, data, hours, members)
    training.updated_at = utcnow()
    db.session.flush()


def delete_training(
    training: Training | FarmerTraining | ConcentratedTraining, reason: str
) -> None:
    """Soft delete a record of any of the registers with a reason (kept, shown in the
    audit log, not counted)."""
    reason = (reason or "").strip()
    if not reason:
        raise TrainingError("删除须填写原因", "reason")
    if training.deleted_at is None:
        training.deleted_at = utcnow()
        training.delete_reason = reason[:200]
        db.session.flush()


@dataclass(frozen=True)
class TrainingFigures:
    """Trainings of one branch in a period, and the obligation windows they meet."""

    count: int
    hours: Decimal
    late: int
    windows_required: int  # windows that ended (or were met) inside the period
    windows_met: int
    missing_windows: tuple[str, ...]  # keys of ended windows with no training

    @property
    def rate(self) -> float | None:
        return None if not self.windows_required else self.windows_met / self.windows_required


def evaluate(
    held_days: Iterable[tuple[date, bool, Decimal]],
    period: Period,
    freq: Frequency,
    today: date,
    since: date | None,
) -> TrainingFigures:
    """Pure: figures for one branch from its ``(held_on, late, hours)`` rows.

    A window counts when it has ended, or when it already holds a training;
    a window that is still running with no training yet is *due*, not missing.
    Windows before ``since`` (the branch's ``tracked_from``) do not count.
    """
    return _evaluate(held_days, period, freq.windows(period), today, since)


def _evaluate(
    held_days: Iterable[tuple[date, bool, Decimal]],
    period: Period,
    windows: Iterable[Period],
    today: date,
    since: date | None,
) -> TrainingFigures:
    """:func:`evaluate` with the period's windows given (the same for every branch)."""
    rows = [r for r in held_days if period.contains(r[0])]
    required = met = 0
    missing: list[str] = []
    for window in windows:
        if since and window.end < since:
            continue
        if window.start > today:
            continue
        has = any(window.contains(r[0]) for r in held_days)
        if has:
            required += 1
            met += 1
        elif window.end < today:
            required += 1
            missing.append(window.key)
    return TrainingFigures(
        count=len(rows),
        hours=sum((r[2] for r in rows), Decimal("0")),
        late=sum(1 for r in rows if r[1]),
        windows_required=required,
        windows_met=met,
        missing_windows=tuple(missing),
    )


def figures_for_branches(
    branch_ids: Iterable[int],
    period: Period,
    today: date | None = None,
    since: Mapping[int, date | None] | None = None,
) -> Mapping[int, TrainingFigures]:
    """Training figures for many branches with ONE query (the dashboard's source).

    Loads ``(branch_id, held_on, late, hours)`` of non-deleted trainings inside
    the obligation windows overlapping ``period`` and evaluates each branch
    with :func:`evaluate`. ``since`` (each branch's ``tracked_from``) is read
    from the branches unless the caller already has it.
    """
    ids = list(branch_ids)
    if not ids:
        return {}
    today = today or clock.today()
    freq = frequency()
    windows = freq.windows(period) or (period,)
    lo = min(w.start for w in windows + (period,))
    hi = max(w.end for w in windows + (period,))
    rows: dict[int, list[tuple[date, bool, Decimal]]] = defaultdict(list)
    for branch_id, held_on, late, hours in db.session.execute(
        select(Training.branch_id, Training.held_on, Training.late, Training.hours).where(
            Training.branch_id.in_(ids),
            Training.deleted_at.is_(None),
            Training.held_on >= lo,
            Training.held_on <= hi,
        )
    ):
        rows[branch_id].append((held_on, late, hours))
    if since is None:
        since = dict(
            db.session.execute(
                select(Branch.id, Branch.tracked_from).where(Branch.id.in_(ids))
            ).all()
        )
    due = freq.windows(period)
    return {bid: _evaluate(rows.get(bid, []), period, due, today, since.get(bid)) for bid in ids}
