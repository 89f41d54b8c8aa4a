"""Pure rules of the hall cameras: opening hours, state intervals and uptime.

No database, no Flask: values in, values out.

- **Opening hours** (:func:`hours_for_day`, :func:`opening_windows`): a hall's
  weekly schedule, closed on official holidays, open on make-up workdays (调休,
  which follow the Monday schedule), per-hall exceptions first of all.
- **State intervals** (:func:`build_intervals`): a camera's confirmed state holds
  from a state item's ``at`` until the next one's (ordered by ``at``, never by
  arrival, so a late buffered upload fills its gap in order); time outside every
  heartbeat window of the station is *unknown* — the monitor was blind — never down.
- **Uptime** (:func:`uptime`, :func:`uptime_by_day`): only opening time counts,
  time-weighted. 在线率 (online rate) = stream live / known time; 完好率
  (working-order rate) = live with a good picture / known time. Unknown time is
  kept apart (not in the denominator). Approved outage excuses remove their down
  time from the *compliance* figures only; the raw figures stay.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from tracker import clock
from tracker.errors import DomainError

# Causes of a ``down`` that mean the stream itself is not live (count against 在线率 and 完好率).
ONLINE_CAUSES = frozenset({"unreachable", "auth_failed", "no_video"})
# Causes that mean the stream is live but the picture is bad (count against 完好率 only).
PICTURE_CAUSES = frozenset({"frozen", "black", "blurred"})
HEARTBEAT_FACTOR = 2.5

# The Chinese labels, one table per concept (pages, exports, alerts and the audit log use them).
CAUSE_LABELS = {
    "unreachable": "无法连接",
    "auth_failed": "认证失败",
    "no_video": "无视频",
    "frozen": "画面冻结",
    "black": "黑屏/遮挡",
    "blurred": "画面模糊",
}
VERDICT_LABELS = {"online": "正常", **CAUSE_LABELS}
STATE_LABELS = {"up": "正常", "down": "故障", "unknown": "未知"}
EXCUSE_KIND_LABELS = {
    "power_cut": "停电",
    "repair": "设备维修",
    "network": "网络故障（运营商）",
    "renovation": "大厅装修/搬迁",
    "other": "其他",
}
EXCUSE_STATUS_LABELS = {"pending": "待审核", "approved": "已批准", "rejected": "已驳回"}


def cause_label(cause: str | None) -> str:
    """The Chinese name of an outage cause (verdict); ``原因不明`` when none was given."""
    return CAUSE_LABELS.get(cause or "", cause or "原因不明")


# What a camera's current state means to the people watching it: the one label
# table of this concept (wall, camera page, home page, dashboard), worst first.
# 离线 = no stream (down for an ONLINE cause), 画面异常 = a live stream with a bad
# picture (down for a PICTURE cause: frozen, black or covered, blurred).
CONDITION_LABELS = {"offline": "离线", "picture": "画面异常", "unknown": "未知", "up": "正常"}
CONDITION_ORDER = {name: rank for rank, name in enumerate(CONDITION_LABELS)}
FAULT_CONDITIONS = frozenset({"offline", "picture"})


def condition(state: str | None, cause: str | None) -> str:
    """``offline`` / ``picture`` / ``unknown`` / ``up`` from a confirmed state and its cause."""
    if state == "down":
        return "picture" if cause in PICTURE_CAUSES else "offline"
    return "up" if state == "up" else "unknown"


WEEKDAY_LABELS = ["周一", "周二", "周三", "周四", "周五", "周六", "周日"]
DEFAULT_WEEKLY_HOURS: dict[str, list[list[str]]] = {
    **{str(d): [["08:30", "12:00"], ["13:30", "17:30"]] for d in range(5)},
    "5": [],
    "6": [],
}

Window = tuple[datetime, datetime]
HourRange = tuple[time, time | None]  # end None = midnight (24:00)
_HHMM = re.compile(r"^([01]\d|2[0-4]):([0-5]\d)$")


class HoursError(DomainError):
    """Opening hours that cannot be read; the message is for the user.

    ``str(exc)`` is the Chinese message; the page shows :meth:`translated` (the
    ``template`` is the message id, with ``params``; ``day`` prefixes a weekday).
    """

    def __init__(
        self,
        template: str,
        field: str | None = None,
        *,
        day: int | None = None,
        **params: Any,
    ) -> None:
        self.template, self.params, self.day = template, params, day
        message = template % params if params else template
        super().__init__(message if day is None else f"{WEEKDAY_LABELS[day]}：{message}", field)

    def translated(self, gettext: Callable[..., str]) -> str:
        """The message in the page's language (``gettext`` of flask_babel)."""
        text = gettext(self.template, **self.params)
        if self.day is None:
            return text
        return gettext("%(day)s：%(detail)s", day=gettext(WEEKDAY_LABELS[self.day]), detail=text)


# ---------------------------------------------------------------- opening hours


def parse_hhmm(text: str) -> time | None:
    """``"08:30"`` → ``time(8, 30)``; ``"24:00"`` → ``None`` (end of the day)."""
    m = _HHMM.match(text.strip())
    if not m or (m.group(1) == "24" and m.group(2) != "00"):
        raise HoursError("时间格式应为 HH:MM（如 08:30），不是 %(text)s", text=repr(text))
    if m.group(1) == "24":
        return None
    return time(int(m.group(1)), int(m.group(2)))


def _minutes(t: time | None) -> int:
    return 24 * 60 if t is None else t.hour * 60 + t.minute


def parse_ranges(ranges: Any) -> list[HourRange]:
    """Validate a day's ranges ``[["08:30", "12:00"], …]``: ordered, non-overlapping."""
    if not isinstance(ranges, list | tuple):
        raise HoursError("营业时间应为时间段列表")
    out: list[HourRange] = []
    for item in ranges:
        if not isinstance(item, list | tuple) or len(item) != 2:
            raise HoursError("每个时间段应为 [开始, 结束]")
        start, end = parse_hhmm(str(item[0])), parse_hhmm(str(item[1]))
        if start is None or _minutes(end) <= _minutes(start):
            raise HoursError(
                "时间段 %(start)s–%(end)s 的结束时间应晚于开始时间", start=item[0], end=item[1]
            )
        out.append((start, end))
    out.sort(key=lambda r: _minutes(r[0]))
    for (_, a_end), (b_start, _) in zip(out, out[1:], strict=False):
        if _minutes(b_start) < _minutes(a_end):
            raise HoursError("时间段不能重叠")
    return out


def format_ranges(ranges: Sequence[HourRange]) -> list[list[str]]:
    """The JSON form of parsed ranges (``[["08:30", "12:00"]]``)."""
    return [[s.strftime("%H:%M"), "24:00" if e is None else e.strftime("%H:%M")] for s, e in ranges]


def parse_ranges_text(text: str) -> list[list[str]]:
    """A form field ``08:30-12:00, 13:30-17:30`` (empty = closed) → JSON ranges."""
    parts = [p.strip() for p in re.split(r"[,，;；\s]+", text.strip()) if p.strip()]
    pairs = []
    for part in parts:
        bits = re.split(r"[-–~～至]", part)
        if len(bits) != 2:
            raise HoursError("时间段应写成 08:30-12:00，不是 %(part)s", part=repr(part))
        pairs.append([bits[0].strip(), bits[1].strip()])
    return format_ranges(parse_ranges(pairs))


def ranges_text(ranges: Sequence[Sequence[str]]) -> str:
    """JSON ranges → ``08:30-12:00, 13:30-17:30``."""
    return ", ".join(f"{a}-{b}" for a, b in ranges)


def validate_weekly_hours(data: Any) -> dict[str, list[list[str]]]:
    """A weekly schedule ``{"0": ranges, …, "6": ranges}`` (0 = Monday), normalised."""
    if not isinstance(data, Mapping):
        raise HoursError('每周营业时间应为对象 {"0": [...], …}')
    out: dict[str, list[list[str]]] = {}
    for key in data:
        if str(key) not in {str(d) for d in range(7)}:
            raise HoursError("不认识的星期 %(key)s（0 = 周一 … 6 = 周日）", key=repr(key))
    for d in range(7):
        try:
            out[str(d)] = format_ranges(parse_ranges(data.get(str(d), data.get(d, []))))
        except HoursError as exc:
            raise HoursError(exc.template, day=d, **exc.params) from exc
    return out


@dataclass(frozen=True)
class HoursChange:
    """A weekly schedule in force from ``effective_from`` (``previous`` held before it)."""

    effective_from: date
    previous: Mapping[str, Any]
    weekly: Mapping[str, Any]


def weekly_on(
    day: date, current: Mapping[str, Any], changes: Sequence[HoursChange] = ()
) -> Mapping[str, Any]:
    """The weekly schedule in force on ``day``.

    ``current`` is the latest schedule entered; without changes it holds for
    every day. Otherwise the newest change effective on or before ``day`` holds,
    and days before the earliest change keep what was in force before it.
    """
    if not changes:
        return current
    ordered = sorted(changes, key=lambda c: c.effective_from)
    if day < ordered[0].effective_from:
        return ordered[0].previous
    for change in reversed(ordered):
        if change.effective_from <= day:
            return change.weekly
    return current  # pragma: no cover - the loop always returns


class DayKind(StrEnum):
    """What the official calendar says a day is, for a service hall."""

    workday = "workday"
    makeup = "makeup"  # 调休: a weekend day that is a working day
    holiday = "holiday"  # official holiday (法定节假日), also on its weekend days
    weekend = "weekend"


def day_kind(day: date, is_workday: bool, is_named_holiday: bool = False) -> DayKind:
    """Classify ``day`` from the working-day calendar's answer."""
    weekend = day.weekday() >= 5
    if is_workday:
        return DayKind.makeup if weekend else DayKind.workday
    if not weekend or is_named_holiday:
        return DayKind.holiday
    return DayKind.weekend


def hours_for_day(
    day: date,
    kind: DayKind,
    weekly: Mapping[str, Sequence[Sequence[str]]],
    exceptions: Mapping[date, Sequence[Sequence[str]]] | None = None,
) -> list[HourRange]:
    """The opening ranges of one day: exception → holiday (closed) → make-up (Monday's) → weekly."""
    if exceptions and day in exceptions:
        return parse_ranges(exceptions[day])
    if kind == DayKind.holiday:
        return []
    if kind == DayKind.makeup:
        return parse_ranges(weekly.get("0", []))
    return parse_ranges(weekly.get(str(day.weekday()), []))


def local_window(day: date, rng: HourRange, tz: ZoneInfo | None = None) -> Window:
    """One local range of ``day`` as a UTC window (24:00 = next midnight)."""
    tz = tz or clock.zone()
    start = datetime.combine(day, rng[0], tz)
    end = (
        datetime.combine(day + timedelta(days=1), time(0), tz)
        if rng[1] is None
        else datetime.combine(day, rng[1], tz)
    )
    return start.astimezone(UTC), end.astimezone(UTC)


def day_bounds(day: date, tz: ZoneInfo | None = None) -> Window:
    """The UTC window of one whole local day."""
    return local_window(day, (time(0), None), tz)


def daterange(first: date, last: date) -> Iterable[date]:
    """Every day in ``[first, last]``."""
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


def opening_windows_by_day(
    first: date,
    last: date,
    hours_for: Callable[[date], Sequence[HourRange]],
    tz: ZoneInfo | None = None,
) -> dict[date, list[Window]]:
    """Opening windows (UTC) of each local day in ``[first, last]``."""
    return {
        day: [local_window(day, r, tz) for r in hours_for(day)] for day in daterange(first, last)
    }


# ---------------------------------------------------------------- intervals


@dataclass(frozen=True)
class StateEvent:
    """A confirmed state change: ``state`` holds from ``at`` until the next event."""

    at: datetime
    state: str
    cause: str | None = None


@dataclass(frozen=True)
class Interval:
    """A stretch of one state: ``[start, end)``."""

    start: datetime
    end: datetime
    state: str
    cause: str | None = None

    @property
    def seconds(self) -> int:
        return int((self.end - self.start).total_seconds())

    @property
    def counts_against_online(self) -> bool:
        return self.state == "down" and self.cause not in PICTURE_CAUSES


def merge_windows(windows: Iterable[Window]) -> list[Window]:
    """Sort and merge overlapping/touching windows."""
    out: list[Window] = []
    for start, end in sorted(w for w in windows if w[1] > w[0]):
        if out and start <= out[-1][1]:
            if end > out[-1][1]:
                out[-1] = (out[-1][0], end)
        else:
            out.append((start, end))
    return out


def coverage_windows(
    heartbeats: Iterable[tuple[datetime, int]], factor: float = HEARTBEAT_FACTOR
) -> list[Window]:
    """When the station was watching: ``[at, at + factor × interval]`` of every heartbeat."""
    return merge_windows(
        (at, at + timedelta(seconds=factor * interval)) for at, interval in heartbeats
    )


def intersect(a: Sequence[Window], b: Sequence[Window]) -> list[Window]:
    """Intersection of two sorted, merged window lists."""
    out: list[Window] = []
    i = j = 0
    while i < len(a) and j < len(b):
        start, end = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if start < end:
            out.append((start, end))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return out


def seconds_of(windows: Iterable[Window]) -> int:
    return int(sum((e - s).total_seconds() for s, e in windows))


def build_intervals(
    events: Sequence[StateEvent],
    coverage: Sequence[Window] | None,
    start: datetime,
    end: datetime,
) -> list[Interval]:
    """The state intervals of one camera in ``[start, end)``.

    ``events`` in any order (sorted here by ``at``, stable for equal times, so
    pass them in arrival order); ``coverage`` the merged heartbeat windows, or
    ``None`` to trust the events alone. Before the first event the state is
    unknown. Adjacent intervals of the same state and cause are merged.
    """
    if end <= start:
        return []
    ordered = sorted(events, key=lambda e: e.at)
    raw: list[Interval] = []
    current: tuple[str, str | None] = ("unknown", None)
    cursor = start
    for ev in ordered:
        if ev.at <= start:
            current = (ev.state, ev.cause if ev.state == "down" else None)
            continue
        if ev.at >= end:
            break
        raw.append(Interval(cursor, ev.at, *current))
        cursor = ev.at
        current = (ev.state, ev.cause if ev.state == "down" else None)
    raw.append(Interval(cursor, end, *current))
    if coverage is not None:
        covered = merge_windows(coverage)
        split: list[Interval] = []
        for iv in raw:
            if iv.state == "unknown":
                split.append(iv)
                continue
            pos = iv.start
            for s, e in intersect([(iv.start, iv.end)], covered):
                if s > pos:
                    split.append(Interval(pos, s, "unknown"))
                split.append(Interval(s, e, iv.state, iv.cause))
                pos = e
            if pos < iv.end:
                split.append(Interval(pos, iv.end, "unknown"))
        raw = split
    merged: list[Interval] = []
    for iv in raw:
        if iv.end <= iv.start:
            continue
        if merged and (merged[-1].state, merged[-1].cause) == (iv.state, iv.cause):
            merged[-1] = Interval(merged[-1].start, iv.end, iv.state, iv.cause)
        else:
            merged.append(iv)
    return merged


# ---------------------------------------------------------------- uptime


@dataclass
class UptimeTotals:
    """Seconds of opening time by state, and the rates derived from them.

    ``down_online_s``: stream not live (unreachable/auth_failed/no_video);
    ``down_picture_s``: live but frozen/black/blurred. ``excused_*``: the part of
    those down seconds inside approved outage excuses.
    """

    open_s: int = 0
    up_s: int = 0
    down_online_s: int = 0
    down_picture_s: int = 0
    unknown_s: int = 0
    excused_online_s: int = 0
    excused_picture_s: int = 0

    def __add__(self, other: UptimeTotals) -> UptimeTotals:
        return UptimeTotals(
            **{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)}
        )

    def __iadd__(self, other: UptimeTotals) -> UptimeTotals:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))
        return self

    @property
    def down_s(self) -> int:
        return self.down_online_s + self.down_picture_s

    @property
    def known_s(self) -> int:
        """Opening time the monitor was watching (not unknown)."""
        return self.open_s - self.unknown_s

    @property
    def live_s(self) -> int:
        """Opening time the stream was live (up, or down only for the picture)."""
        return self.up_s + self.down_picture_s

    @staticmethod
    def _rate(num: int, den: int) -> float | None:
        return None if den <= 0 else num / den

    @property
    def online_rate(self) -> float | None:
        """在线率: live / known opening time (None when nothing is known)."""
        return self._rate(self.live_s, self.known_s)

    @property
    def intact_rate(self) -> float | None:
        """完好率: live with a good picture / known opening time."""
        return self._rate(self.up_s, self.known_s)

    @property
    def excused_s(self) -> int:
        return self.excused_online_s + self.excused_picture_s

    @property
    def compliance_online_rate(self) -> float | None:
        """在线率 with approved excused time left out (the compliance figure)."""
        return self._rate(self.live_s, self.known_s - self.excused_online_s)

    @property
    def compliance_intact_rate(self) -> float | None:
        """完好率 with approved excused time left out (the compliance figure)."""
        return self._rate(self.up_s, self.known_s - self.excused_s)

    @property
    def unknown_share(self) -> float | None:
        return self._rate(self.unknown_s, self.open_s)

    def as_dict(self) -> dict[str, Any]:
        """Seconds and rates, for the JSON API and exports."""
        return {
            "open_s": self.open_s,
            "up_s": self.up_s,
            "down_s": self.down_s,
            "down_online_s": self.down_online_s,
            "down_picture_s": self.down_picture_s,
            "unknown_s": self.unknown_s,
            "excused_s": self.excused_s,
            "online_rate": self.online_rate,
            "intact_rate": self.intact_rate,
            "compliance_online_rate": self.compliance_online_rate,
            "compliance_intact_rate": self.compliance_intact_rate,
        }


def uptime(
    intervals: Sequence[Interval],
    opening: Sequence[Window],
    excuses: Sequence[Window] = (),
) -> UptimeTotals:
    """Opening-time totals of one camera's intervals (time-weighted, to the second)."""
    opening = merge_windows(opening)
    excused = merge_windows(excuses)
    totals = UptimeTotals(open_s=seconds_of(opening))
    counted = 0
    for iv in intervals:
        inside = intersect([(iv.start, iv.end)], opening)
        secs = seconds_of(inside)
        if not secs:
            continue
        counted += secs
        if iv.state == "up":
            totals.up_s += secs
        elif iv.state == "down":
            ex = seconds_of(intersect(inside, excused)) if excused else 0
            if iv.cause in PICTURE_CAUSES:
                totals.down_picture_s += secs
                totals.excused_picture_s += ex
            else:
                totals.down_online_s += secs
                totals.excused_online_s += ex
        else:
            totals.unknown_s += secs
    # Opening time no interval covers (outside the intervals' range) is unknown.
    totals.unknown_s += totals.open_s - counted
    return totals


def uptime_by_day(
    intervals: Sequence[Interval],
    windows_by_day: Mapping[date, Sequence[Window]],
    excuses: Sequence[Window] = (),
) -> dict[date, UptimeTotals]:
    """:func:`uptime` for each day's opening windows."""
    return {day: uptime(intervals, wins, excuses) for day, wins in windows_by_day.items()}


def clip_intervals(intervals: Sequence[Interval], start: datetime, end: datetime) -> list[Interval]:
    """The parts of ``intervals`` inside ``[start, end)``."""
    out = []
    for iv in intervals:
        s, e = max(iv.start, start), min(iv.end, end)
        if s < e:
            out.append(Interval(s, e, iv.state, iv.cause))
    return out


def outages(intervals: Sequence[Interval]) -> list[Interval]:
    """The down intervals (for the outage list)."""
    return [iv for iv in intervals if iv.state == "down"]


@dataclass(frozen=True)
class OutagePart:
    """One outage (a down interval) split into what counts and what does not.

    ``counted_s``: inside opening hours and not covered by an approved excuse — the
    seconds that lower 完好率 (and 在线率 for a stream cause); ``excused_s``: inside
    opening hours but excused; ``outside_s``: outside opening hours (never counted).
    ``counted_s + excused_s + outside_s == seconds``.
    """

    start: datetime
    end: datetime
    cause: str | None
    seconds: int
    counted_s: int
    excused_s: int
    outside_s: int
    ongoing: bool = False

    @property
    def counts(self) -> bool:
        return self.counted_s > 0


def outage_parts(
    intervals: Sequence[Interval],
    opening: Sequence[Window],
    excuses: Sequence[Window] = (),
    now: datetime | None = None,
) -> list[OutagePart]:
    """Every down interval with its counted / excused / outside-hours seconds.

    The same split :func:`uptime` applies, so the outages' counted seconds add up
    to the period's down seconds minus the excused ones.
    """
    opening = merge_windows(opening)
    excused = merge_windows(excuses)
    out = []
    for iv in outages(intervals):
        inside = intersect([(iv.start, iv.end)], opening)
        in_s = seconds_of(inside)
        ex_s = seconds_of(intersect(inside, excused)) if excused else 0
        out.append(
            OutagePart(
                iv.start,
                iv.end,
                iv.cause,
                iv.seconds,
                in_s - ex_s,
                ex_s,
                iv.seconds - in_s,
                ongoing=now is not None and iv.end >= now,
            )
        )
    return out


# ---------------------------------------------------------------- stream URLs


def mask_stream_url(url: str) -> str:
    """``rtsp://user:pass@host/p?password=x`` → ``rtsp://***:***@host/p?password=***``."""
    from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

    try:
        parts = urlsplit(url)
    except ValueError:
        return "***"
    netloc = parts.netloc
    if "@" in netloc:
        creds, host = netloc.rsplit("@", 1)
        netloc = ("***:***" if ":" in creds else "***") + "@" + host
    query = parts.query
    if query:
        secret = re.compile(r"pass|pwd|token|key|auth|secret|user", re.I)
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode([(k, "***" if secret.search(k) else v) for k, v in pairs], safe="*")
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def validate_stream_url(url: str) -> str:
    """A stream URL the monitor can open (rtsp/rtsps/http/https/file), stripped."""
    from urllib.parse import urlsplit

    url = url.strip()
    if not url:
        raise ValueError("请填写视频流地址")
    if len(url) > 1000:
        raise ValueError("视频流地址太长")
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise ValueError("视频流地址格式不正确") from exc
    if parts.scheme not in {"rtsp", "rtsps", "http", "https", "file"}:
        raise ValueError("视频流地址应以 rtsp://、http://、https:// 或 file:// 开头")
    if parts.scheme != "file" and not parts.hostname:
        raise ValueError("视频流地址缺少主机名")
    return url
