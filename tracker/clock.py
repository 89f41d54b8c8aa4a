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
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, time
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
    """:func:`local_date` of many instants (a bulk loader's thousands of rows)."""
    zone = _zone
    return [
        (v if v.tzinfo is not None else v.replace(tzinfo=UTC)).astimezone(zone).date()
        for v in values
    ]


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
