"""Pure rules of the service ledger: deadlines, the state machine, ratings, validation.

No database, no Flask: every function takes values (and a
:class:`~tracker.workdays.WorkCalendar`) and returns values, so the
限时办结 arithmetic is tested day by day without a server.

Clock conventions (限时办结制):

* 承诺件 with N promised working days is due on the N-th working day counted
  from the day *after* receipt; 即办件 (N = 0) is due the day it was received.
* 补正 (materials missing) pauses the clock: a pause noticed on day P and ended
  by the materials arriving on day S excludes the days P+1 … S, so counting
  resumes the day after S. While a pause is open the due date is unknown
  (``None``) and the matter cannot be overdue.
* Extensions (延期) add working days to the promise.
* The ``official`` flag is False when any counted day came from the Mon–Fri
  fallback (a year neither the package nor an admin has published).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from flask_babel import gettext

from tracker.errors import DomainError
from tracker.matters.models import (
    Channel,
    EventKind,
    HandlingLevel,
    MatterKind,
    MatterStatus,
    Rating,
    RatingSource,
)
from tracker.workdays import WorkCalendar

# A pause of the clock: (noticed on, supplied on or None while still open).
Pause = tuple[date, date | None]

OPEN_STATUSES = frozenset({MatterStatus.accepted, MatterStatus.paused})
BAD_RATINGS = frozenset({Rating.dissatisfied, Rating.very_dissatisfied})
# 满意率 counts 非常满意, 满意 and 基本满意 as satisfied.
GOOD_RATINGS = frozenset({Rating.very_satisfied, Rating.satisfied, Rating.basically_satisfied})
MAX_EXTENSION_DAYS = 60

STATUS_LABELS = {
    MatterStatus.accepted: "办理中",
    MatterStatus.paused: "待补正",
    MatterStatus.completed: "已办结",
    MatterStatus.archived: "已归档",
}
EVENT_LABELS = {
    EventKind.accepted: "受理",
    EventKind.materials_missing: "一次性告知补正（暂停计时）",
    EventKind.materials_supplied: "材料补齐（恢复计时）",
    EventKind.referred: "转办",
    EventKind.extended: "延期",
    EventKind.completed: "办结",
    EventKind.rated: "评价",
    EventKind.called_back: "差评回访",
    EventKind.appealed: "评价申诉",
    EventKind.appeal_decided: "申诉处理",
    EventKind.archived: "归档",
}
# Short labels for the action buttons of a matter's page.
ACTION_LABELS = {
    EventKind.accepted: "受理",
    EventKind.materials_missing: "补正告知",
    EventKind.materials_supplied: "材料补齐",
    EventKind.referred: "转办",
    EventKind.extended: "延期",
    EventKind.completed: "办结",
    EventKind.rated: "录入评价",
    EventKind.called_back: "差评回访",
    EventKind.appealed: "评价申诉",
    EventKind.appeal_decided: "处理申诉",
    EventKind.archived: "归档",
}
RATING_LABELS = {
    Rating.very_satisfied: "非常满意",
    Rating.satisfied: "满意",
    Rating.basically_satisfied: "基本满意",
    Rating.dissatisfied: "不满意",
    Rating.very_dissatisfied: "非常不满意",
}
RATING_SOURCE_LABELS = {
    RatingSource.paper_slip: "纸质评价单（代录）",
    RatingSource.staff: "工作人员代录（申请人口述）",
    RatingSource.applicant: "申请人扫码评价",
}
CHANNEL_LABELS = {Channel.in_person: "现场", Channel.phone: "电话", Channel.online: "网上"}
KIND_LABELS = {MatterKind.immediate: "即办件", MatterKind.promised: "承诺件"}
LEVEL_LABELS = {
    HandlingLevel.village: "村级",
    HandlingLevel.township: "乡镇",
    HandlingLevel.county: "县级",
}


class MatterError(DomainError):
    """A broken rule of the service ledger; the message is Chinese, for the user."""


class TransitionError(MatterError):
    """An event the matter's state does not allow (an illegal transition): 409."""

    status = 409
    code = "illegal_transition"


# -- deadlines ---------------------------------------------------------------


@dataclass(frozen=True)
class DueDate:
    """A computed due date (``None`` while paused) and its calendar provenance."""

    due_on: date | None
    official: bool


def _paused(day: date, pauses: Sequence[Pause]) -> bool:
    return any(start < day and (end is None or day <= end) for start, end in pauses)


def due_date(
    calendar: WorkCalendar, received_on: date, working_days: int, pauses: Sequence[Pause] = ()
) -> DueDate:
    """The due date of a matter received on ``received_on`` promised ``working_days``.

    See the module docstring for the conventions. Never raises for years the
    calendar does not cover: those days fall back to Mon–Fri, ``official=False``.
    """
    if working_days < 0:
        raise ValueError("working_days must be >= 0")
    if any(end is None for _, end in pauses):
        return DueDate(None, True)
    if working_days == 0:
        ends = [end for _, end in pauses if end is not None]
        day = max([received_on, *ends])
        return DueDate(day, calendar.check(day).official)
    official = True
    day = received_on
    counted = 0
    while counted < working_days:
        day += timedelta(days=1)
        if _paused(day, pauses):
            continue
        answer = calendar.check(day)
        official = official and answer.official
        if answer.workday:
            counted += 1
    return DueDate(day, official)


@dataclass(frozen=True)
class Clock:
    """What the 限时办结 clock says today, in words and in the dashboard's colour band.

    ``band`` is ``green`` (time left), ``amber`` (due today or the next working day),
    ``red`` (overdue, or completed late) or ``none`` (paused, or nothing to count).
    """

    text: str
    band: str
    days: int | None = None


def clock(
    status: MatterStatus,
    due_on: date | None,
    today: date,
    calendar: WorkCalendar,
    *,
    used: int = 0,
    total: int = 0,
    on_time: bool | None = None,
) -> Clock:
    """剩 N 个工作日 / 今日到期 / 已逾期 N 个工作日 / 暂停计时（已用 N / 共 M 个工作日）.

    ``used`` are the working days counted so far (pauses excluded) and ``total`` the
    promised days with extensions — only shown while paused.
    """
    if status not in OPEN_STATUSES:
        if on_time is True:
            return Clock(gettext("按时办结"), "green")
        if on_time is False:
            return Clock(gettext("逾期办结"), "red")
        return Clock(gettext("已办结"), "none")
    if status == MatterStatus.paused or due_on is None:
        return Clock(
            gettext("暂停计时（已用 %(used)s / 共 %(total)s 个工作日）", used=used, total=total),
            "none",
            used,
        )
    if today > due_on:
        late = calendar.working_days_between(due_on, today)
        text = gettext("已逾期 %(n)s 个工作日", n=late) if late else gettext("已逾期")
        return Clock(text, "red", late)
    if today == due_on:
        return Clock(gettext("今日到期"), "amber", 0)
    left = calendar.working_days_between(today, due_on)
    return Clock(gettext("剩 %(n)s 个工作日", n=left), "amber" if left <= 1 else "green", left)


def working_days_taken(
    calendar: WorkCalendar, received_on: date, done_on: date, pauses: Sequence[Pause] = ()
) -> int:
    """Working days in ``(received_on, done_on]`` that were not paused (0 = same day)."""
    count = 0
    day = received_on
    while day < done_on:
        day += timedelta(days=1)
        if not _paused(day, pauses) and calendar.is_workday(day):
            count += 1
    return count


def is_overdue(status: MatterStatus, due_on: date | None, today: date) -> bool:
    """An open matter past its due date (a paused one has no due date: never overdue)."""
    return status in OPEN_STATUSES and due_on is not None and today > due_on


def is_due_soon(
    calendar: WorkCalendar, status: MatterStatus, due_on: date | None, today: date
) -> bool:
    """Open and due today or on the next working day."""
    if status not in OPEN_STATUSES or due_on is None or due_on < today:
        return False
    next_workday, _ = calendar.add_working_days(today, 1)
    return due_on <= next_workday


def callback_due(calendar: WorkCalendar, rated_on: date, working_days: int) -> DueDate:
    """回访 deadline: N working days after the day of the bad rating."""
    day, official = calendar.add_working_days(rated_on, working_days)
    return DueDate(day, official)


def pauses_from(
    events: Iterable[tuple[EventKind, date]], received_on: date, paused_at_start: bool = False
) -> list[Pause]:
    """Pause windows from the timeline (``(kind, local date)`` in order)."""
    pauses: list[Pause] = []
    open_since: date | None = received_on if paused_at_start else None
    for kind, day in events:
        if kind == EventKind.materials_missing and open_since is None:
            open_since = day
        elif kind == EventKind.materials_supplied and open_since is not None:
            pauses.append((open_since, day))
            open_since = None
    if open_since is not None:
        pauses.append((open_since, None))
    return pauses


# -- the state machine ---------------------------------------------------------


@dataclass(frozen=True)
class MatterState:
    """What the state machine needs to know about a matter."""

    status: MatterStatus
    first_responder_id: int
    handler_ids: frozenset[int] = field(default_factory=frozenset)
    rating: Rating | None = None
    rating_void: bool = False
    called_back: bool = False
    appeal_open: bool = False
    appeal_decided: bool = False


def check_event(state: MatterState, kind: EventKind, actor_id: int | None) -> None:
    """Refuse an event the matter's state does not allow (:class:`TransitionError`)."""
    status = state.status
    if kind == EventKind.accepted:
        raise TransitionError(gettext("事项登记时已受理，不能重复受理"))
    if status == MatterStatus.archived:
        raise TransitionError(gettext("事项已归档，不能再登记任何环节"))
    if kind == EventKind.materials_missing:
        if status == MatterStatus.paused:
            raise TransitionError(gettext("事项已在补正中，请先登记材料补齐"))
        if status != MatterStatus.accepted:
            raise TransitionError(gettext("只有办理中的事项才能要求补正材料"))
    elif kind == EventKind.materials_supplied:
        if status != MatterStatus.paused:
            raise TransitionError(gettext("事项不在补正中，无需登记材料补齐"))
    elif kind in (EventKind.referred, EventKind.extended):
        if status not in OPEN_STATUSES:
            raise TransitionError(
                gettext("事项已办结，不能再转办")
                if kind == EventKind.referred
                else gettext("事项已办结，不能再延期")
            )
    elif kind == EventKind.completed:
        if status == MatterStatus.paused:
            raise TransitionError(gettext("事项在补正中（材料未齐），请先登记材料补齐再办结"))
        if status != MatterStatus.accepted:
            raise TransitionError(gettext("事项已办结，不能重复办结"))
    elif kind == EventKind.rated:
        if status != MatterStatus.completed:
            raise TransitionError(gettext("事项办结后才能评价"))
        if state.rating is not None:
            raise TransitionError(gettext("该事项已有评价，如评价有误请提出申诉"))
        if actor_id is not None and actor_id == state.first_responder_id:
            raise TransitionError(gettext("首问责任人不能为自己的事项录入评价"), "rating")
        if actor_id is not None and actor_id in state.handler_ids:
            raise TransitionError(
                gettext("经办人不能为自己办理的事项录入评价（不得自评）"), "rating"
            )
    elif kind == EventKind.called_back:
        if state.rating not in BAD_RATINGS or state.rating_void:
            raise TransitionError(gettext("只有差评（不满意、非常不满意）需要回访"))
        if state.called_back:
            raise TransitionError(gettext("该差评已回访"))
    elif kind == EventKind.appealed:
        if state.rating is None:
            raise TransitionError(gettext("事项尚无评价，无需申诉"))
        if state.appeal_open:
            raise TransitionError(gettext("已有申诉待处理"))
        if state.appeal_decided:
            raise TransitionError(gettext("该评价的申诉已处理，不能再次申诉"))
    elif kind == EventKind.appeal_decided:
        if not state.appeal_open:
            raise TransitionError(gettext("没有待处理的申诉"))
    elif kind == EventKind.archived:
        if status != MatterStatus.completed:
            raise TransitionError(gettext("事项办结后才能归档"))
        if state.rating in BAD_RATINGS and not state.rating_void and not state.called_back:
            raise TransitionError(gettext("差评尚未回访，不能归档"))
        if state.appeal_open:
            raise TransitionError(gettext("评价申诉尚未处理，不能归档"))


def allowed_events(state: MatterState, actor_id: int | None) -> list[EventKind]:
    """The events the actor may record next (drives which buttons a page shows)."""
    out = []
    for kind in EventKind:
        try:
            check_event(state, kind, actor_id)
        except TransitionError:
            continue
        out.append(kind)
    return out


# -- validation ------------------------------------------------------------------

PHONE_RE = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8}|\d{7,8})$")
ID_RE = re.compile(r"^\d{17}[\dX]$")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def normalise_phone(value: str) -> str:
    return re.sub(r"[\s()（）]", "", value or "")


def phone_error(value: str) -> str | None:
    """Chinese message when ``value`` is not a mobile (11 digits) or landline number."""
    if not PHONE_RE.match(normalise_phone(value)):
        return gettext("请填写正确的电话：手机 11 位，或座机如 0436-1234567")
    return None


def id_number_error(value: str) -> str | None:
    """Chinese message when ``value`` is not a valid 18-digit 身份证号 (checksum included)."""
    value = value.strip().upper()
    if not ID_RE.match(value):
        return gettext("身份证号应为 18 位（最后一位可为 X）")
    total = sum(int(d) * w for d, w in zip(value[:17], _ID_WEIGHTS, strict=True))
    if _ID_CHECK[total % 11] != value[17]:
        return gettext("身份证号校验位不正确，请核对")
    return None


def parse_calendar_lines(text: str) -> tuple[list[tuple[date, bool, str]], list[str]]:
    """Parse pasted holiday lines: ``2027-01-01 休 元旦`` / ``2027-02-07 班 春节调休``.

    Returns ``(rows, errors)``; each error names its line. Ranges are allowed:
    ``2027-02-06~2027-02-12 休 春节``.
    """
    rows: list[tuple[date, bool, str]] = []
    errors: list[str] = []
    for n, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split(maxsplit=2)
        if len(parts) < 2 or parts[1] not in ("休", "班"):
            errors.append(
                gettext("第 %(n)s 行：格式应为“日期 休/班 说明”，如 2027-01-01 休 元旦", n=n)
            )
            continue
        span = parts[0].replace("～", "~").split("~")
        try:
            first = date.fromisoformat(span[0])
            last = date.fromisoformat(span[-1])
        except ValueError:
            errors.append(gettext("第 %(n)s 行：日期应为 YYYY-MM-DD", n=n))
            continue
        if last < first or (last - first).days > 31:
            errors.append(gettext("第 %(n)s 行：日期范围不正确（最长 31 天）", n=n))
            continue
        note = parts[2][:64] if len(parts) > 2 else ""
        day = first
        while day <= last:
            rows.append((day, parts[1] == "班", note))
            day += timedelta(days=1)
    return rows, errors


def catalog_errors(
    name: str, kind: MatterKind, promised_days: int | None, statutory_days: int | None
) -> dict[str, str]:
    """Field → message for a catalog entry (承诺时限 ≤ 法定时限; 即办件 = 0 days)."""
    errors: dict[str, str] = {}
    if not name.strip():
        errors["name"] = gettext("请填写事项名称")
    elif len(name.strip()) > 100:
        errors["name"] = gettext("事项名称最多 100 个字")
    if kind == MatterKind.immediate:
        if promised_days not in (None, 0):
            errors["promised_days"] = gettext("即办件当日办结，承诺时限应为 0")
    else:
        if promised_days is None or promised_days < 1:
            errors["promised_days"] = gettext("承诺件应填写承诺时限（至少 1 个工作日）")
        elif promised_days > 365:
            errors["promised_days"] = gettext("承诺时限不能超过 365 个工作日")
        elif statutory_days is not None and promised_days > statutory_days:
            errors["promised_days"] = gettext(
                "承诺时限不能超过法定时限（%(n)s 个工作日）", n=statutory_days
            )
    if statutory_days is not None and statutory_days < 0:
        errors["statutory_days"] = gettext("法定时限不能为负数")
    return errors
