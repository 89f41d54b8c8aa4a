"""每年集中培训: the concentrated training every township and village Party organization
owes — ``[trainings] concentrated_hours`` class hours in each ``[trainings] concentrated``
window (default: 8 hours a year). An organization is a region of level township
(乡镇党委) or village (村党组织); a window that ended short of the hours is missed, one
still running is due (an obligation on the home to-do when it ends within 60 days).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import select

from tracker import clock
from tracker.config import current_settings
from tracker.extensions import db
from tracker.meetings.rules import Frequency
from tracker.models import Region, RegionLevel, User, utcnow
from tracker.periods import Period
from tracker.trainings.farmers import check_held_on, clean_hours
from tracker.trainings.models import ConcentratedTraining
from tracker.trainings.services import TrainingError

ORG_LEVELS = (RegionLevel.township, RegionLevel.village)


@dataclass
class ConcentratedInput:
    title: str
    held_on: date
    hours: Decimal | float | str
    place: str
    organizer: str = ""
    participants: int = 0
    content: str = ""


def frequency() -> Frequency:
    return Frequency.parse(current_settings().trainings.concentrated)


def required_hours() -> Decimal:
    return Decimal(str(current_settings().trainings.concentrated_hours)).quantize(Decimal("0.1"))


def create_concentrated(
    org: Region, data: ConcentratedInput, user: User | None
) -> ConcentratedTraining:
    """Record a concentrated training of a township or village organization."""
    if org.level not in ORG_LEVELS:
        raise TrainingError("集中培训应登记在乡镇或村党组织", "region_id")
    title = (data.title or "").strip()
    if not title or len(title) > 100:
        raise TrainingError("请填写培训主题（最多 100 字）", "title")
    if not (data.place or "").strip():
        raise TrainingError("请填写培训地点", "place")
    check_held_on(data.held_on)
    hours = clean_hours(data.hours)
    if not 1 <= data.participants <= 100000:
        raise TrainingError("参训人数应在 1–100000 之间", "participants")
    row = ConcentratedTraining(
        region_id=org.id,
        title=title,
        held_on=data.held_on,
        hours=hours,
        place=data.place.strip()[:100],
        organizer=(data.organizer or "").strip()[:100],
        participants=data.participants,
        content=(data.content or "").strip(),
        entered_at=utcnow(),
        entered_by_id=user.id if user else None,
    )
    db.session.add(row)
    db.session.flush()
    return row


@dataclass(frozen=True)
class WindowStatus:
    key: str
    label: str
    hours: Decimal
    status: str  # met / missing / due


STATUS_LABELS = {"met": "已完成", "missing": "未完成", "due": "进行中"}


@dataclass(frozen=True)
class ConcentratedFigures:
    """One organization's concentrated training in the windows of a period."""

    hours: Decimal  # hours held inside the period
    required_hours: Decimal
    windows: tuple[WindowStatus, ...]

    @property
    def windows_required(self) -> int:
        return sum(1 for w in self.windows if w.status != "due")

    @property
    def windows_met(self) -> int:
        return sum(1 for w in self.windows if w.status == "met")

    @property
    def missing(self) -> tuple[str, ...]:
        return tuple(w.key for w in self.windows if w.status == "missing")

    @property
    def rate(self) -> float | None:
        return None if not self.windows_required else self.windows_met / self.windows_required


def evaluate(
    rows: Iterable[tuple[date, Decimal]],
    period: Period,
    freq: Frequency,
    need: Decimal,
    today: date,
) -> ConcentratedFigures:
    """Pure: windows of ``period`` met when their hours reach ``need``; a window not yet
    ended and short of the hours is *due*, an ended one *missing*; future windows skipped."""
    held = list(rows)
    out = []
    for w in freq.windows(period):
        if w.start > today:
            continue
        hours = sum((h for d, h in held if w.contains(d)), Decimal("0"))
        status = "met" if hours >= need else ("missing" if w.end < today else "due")
        out.append(WindowStatus(w.key, w.label, hours, status))
    return ConcentratedFigures(
        hours=sum((h for d, h in held if period.contains(d)), Decimal("0")),
        required_hours=need,
        windows=tuple(out),
    )


def concentrated_figures(
    region_ids: Iterable[int], period: Period, today: date | None = None
) -> Mapping[int, ConcentratedFigures]:
    """Figures for many organizations with ONE query (index page, to-do, API)."""
    return concentrated_figures_of([period], region_ids, today)[period.key]


def concentrated_figures_of(
    periods: Iterable[Period], region_ids: Iterable[int], today: date | None = None
) -> Mapping[str, Mapping[int, ConcentratedFigures]]:
    """:func:`concentrated_figures` for several periods (by key), still ONE query."""
    ids = list(region_ids)
    spans = list(periods)
    today = today or clock.today()
    freq = frequency()
    need = required_hours()
    windows = [w for p in spans for w in (freq.windows(p) or (p,))]
    lo = min(w.start for w in (*windows, *spans))
    hi = max(w.end for w in (*windows, *spans))
    rows: dict[int, list[tuple[date, Decimal]]] = defaultdict(list)
    if ids:
        for rid, held_on, hours in db.session.execute(
            select(
                ConcentratedTraining.region_id,
                ConcentratedTraining.held_on,
                ConcentratedTraining.hours,
            ).where(
                ConcentratedTraining.region_id.in_(ids),
                ConcentratedTraining.deleted_at.is_(None),
                ConcentratedTraining.held_on >= lo,
                ConcentratedTraining.held_on <= hi,
            )
        ):
            rows[rid].append((held_on, hours))
    return {
        p.key: {rid: evaluate(rows.get(rid, []), p, freq, need, today) for rid in ids}
        for p in spans
    }
