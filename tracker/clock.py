"""The one clock: now (UTC), the configured zone, and local dates.

Every stored time is UTC (``now()``); every date a user means — a meeting's
day, a matter's receipt, "today" for a deadline, a camera's opening hours —
is a date in the configured zone (``[tracker] timezone``, Asia/Shanghai by
default), which :func:`tracker.create_app` sets here once. Nothing else reads
the system clock or names a zone, so a test freezes time in one place
(:func:`frozen`) and a county in another zone changes one setting.
"""

from __future__ import annotations

import contextlib
from bisect import bisect_right
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

DEFAULT_ZONE = "Asia/Shanghai"  # the config default; see [tracker] timezone

_zone = ZoneInfo(DEFAULT_ZONE)
_frozen: datetime | None = None


def configure(zone_name: str) -> None:
    """Use ``zone_name`` for local dates (called by ``create_app`` from the settings)."""
    global _zone
    _zone = ZoneInfo(zone_name)


def zone() -> ZoneInfo:
    """The zone dates are shown and bucketed in."""
    return _zone


def now() -> datetime:
    """The current time, timezone-aware in UTC."""
    return _frozen if _frozen is not None else datetime.now(UTC)


def local_now() -> datetime:
    """The current time in the configured zone."""
    return now().astimezone(_zone)


def today() -> date:
    """Today's date in the configured zone."""
    return local_now().date()


def local(value: datetime) -> datetime:
    """An instant in the configured zone (a naive value is taken as UTC)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(_zone)


def local_date(value: datetime) -> date:
    """The configured zone's calendar date of an instant."""
    return local(value).date()


def local_dates(values: Iterable[datetime]) -> list[date]:
    """:func:`local_date` of many instants (a bulk loader's thousands of rows).

    Pass naive UTC values where you can (a column read without its type decorator,
    e.g. ``type_coerce(Meeting.started_at, DateTime())``): each is then one addition of
    its stretch's UTC offset (:func:`_offsets_of_year`) instead of a zone conversion.
    """
    naive = [v if v.tzinfo is None else v.astimezone(UTC).replace(tzinfo=None) for v in values]
    if not naive:
        return []
    first, last = min(naive).year, max(naive).year
    if first < 2 or last > 9998:  # next to datetime's limits: convert one by one
        return [v.replace(tzinfo=UTC).astimezone(_zone).date() for v in naive]
    table = [c for year in range(first, last + 1) for c in _offsets_of_year(_zone, year)]
    if len(table) == 1:
        offset = table[0][1]
        return [(v + offset).date() for v in naive]
    starts = [start for start, _ in table]
    offsets = [offset for _, offset in table]
    return [(v + offsets[bisect_right(starts, v) - 1]).date() for v in naive]


def _offset_at(zone: ZoneInfo, instant: datetime) -> timedelta:
    """The zone's UTC offset at a naive UTC instant."""
    offset = instant.replace(tzinfo=UTC).astimezone(zone).utcoffset()
    assert offset is not None
    return offset


# Samples of a year's offsets, 12 hours apart: the closest two changes of offset in the
# tz database are four days apart (Africa/Freetown, 1939), so between two samples with
# the same offset there is no change, and a change between two samples is found to
# the microsecond by bisection (tests/tracker/test_clock.py checks zones with changes).
_SAMPLE = timedelta(hours=12)


@lru_cache(maxsize=256)
def _offsets_of_year(zone: ZoneInfo, year: int) -> tuple[tuple[datetime, timedelta], ...]:
    """``((naive UTC start, offset), …)``: the stretches of one UTC calendar year in which
    the zone's offset is constant, in order (one stretch for a zone without changes)."""
    at = datetime(year, 1, 1)
    end = datetime(year + 1, 1, 1)
    offset = _offset_at(zone, at)
    out = [(at, offset)]
    while at < end:
        nxt = min(at + _SAMPLE, end)
        new = _offset_at(zone, nxt)
        if new != offset:
            lo, hi = at, nxt  # offset(lo) == offset, offset(hi) == new: find the change
            while hi - lo > _MICROSECOND:
                mid = lo + (hi - lo) / 2
                if _offset_at(zone, mid) == offset:
                    lo = mid
                else:
                    hi = mid
            if hi < end:
                out.append((hi, new))
            offset = new
        at = nxt
    return tuple(out)


_MICROSECOND = timedelta(microseconds=1)


def at_local(day: date, at: time = time.min) -> datetime:
    """``day`` at local wall-clock time ``at``, as an aware datetime."""
    return datetime.combine(day, at, tzinfo=_zone)


@contextlib.contextmanager
def frozen(at: datetime | date) -> Iterator[None]:
    """Stop the clock at ``at`` (a date means local noon of that day) — for tests."""
    global _frozen
    if not isinstance(at, datetime):
        at = at_local(at, time(12, 0))
    elif at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    saved = _frozen
    _frozen = at.astimezone(UTC)
    try:
        yield
    finally:
        _frozen = saved
