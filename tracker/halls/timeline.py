"""Server-side SVG timeline bars of a camera's states (24 hours, 30 days).

Pure: intervals and windows in, SVG markup out (no JavaScript needed, prints well).
Colours: up green, stream down red, picture fault amber, unknown grey; opening
hours are shown as a band under each bar.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from html import escape

from flask_babel import gettext
from markupsafe import Markup

from tracker import clock
from tracker.halls.rules import (
    PICTURE_CAUSES,
    STATE_LABELS,
    WEEKDAY_LABELS,
    Interval,
    Window,
    cause_label,
    clip_intervals,
    day_bounds,
)

COLOURS = {"up": "#2e9d4d", "down": "#d6333a", "picture": "#f0a020", "unknown": "#c5c9cf"}
# "down" covers a dead stream and a bad picture (frozen/black/blurred) alike: 故障.


def colour(iv: Interval) -> str:
    if iv.state == "down":
        return COLOURS["picture"] if iv.cause in PICTURE_CAUSES else COLOURS["down"]
    return COLOURS.get(iv.state, COLOURS["unknown"])


def _hm(value: datetime) -> str:
    return value.astimezone(clock.zone()).strftime("%m-%d %H:%M")


def _title(iv: Interval) -> str:
    """``11-03 08:00–11-03 09:30 故障（无法连接）`` in the page's language."""
    state = STATE_LABELS.get(iv.state)
    label = gettext(state) if state else iv.state
    if iv.cause:
        label = gettext("%(state)s（%(cause)s）", state=label, cause=gettext(cause_label(iv.cause)))
    return f"{_hm(iv.start)}–{_hm(iv.end)} {label}"


def _bar(
    intervals: list[Interval],
    opening: list[Window],
    start: datetime,
    end: datetime,
    y: float,
    h: float,
    width: float,
) -> list[str]:
    span = (end - start).total_seconds()
    parts = [f'<rect x="0" y="{y}" width="{width}" height="{h}" fill="#eef0f2"/>']
    for iv in clip_intervals(intervals, start, end):
        x = (iv.start - start).total_seconds() / span * width
        w = max((iv.end - iv.start).total_seconds() / span * width, 0.5)
        parts.append(
            f'<rect x="{x:.2f}" y="{y}" width="{w:.2f}" height="{h}" fill="{colour(iv)}">'
            f"<title>{escape(_title(iv))}</title></rect>"
        )
    for s, e in opening:
        s, e = max(s, start), min(e, end)
        if s >= e:
            continue
        x = (s - start).total_seconds() / span * width
        w = (e - s).total_seconds() / span * width
        parts.append(
            f'<rect x="{x:.2f}" y="{y + h + 1}" width="{w:.2f}" height="3" fill="#1b5fa8"/>'
        )
    return parts


def day_svg(
    intervals: list[Interval], opening: list[Window], start: datetime, hours: int = 24
) -> Markup:
    """One bar of the last ``hours`` hours; hour labels are HTML so they stay readable on a phone."""
    width, h = 1440.0, 30.0
    end = start + timedelta(hours=hours)
    parts = _bar(intervals, opening, start, end, 0, h, width)
    labels = []
    t = start.astimezone(clock.zone()).replace(minute=0, second=0, microsecond=0) + timedelta(
        hours=1
    )
    while t < end:
        pct = (t - start).total_seconds() / (end - start).total_seconds() * 100
        if t.hour % 3 == 0 and 3 <= pct <= 97:
            parts.append(
                f'<line x1="{pct * width / 100:.1f}" y1="0" x2="{pct * width / 100:.1f}" '
                f'y2="{h}" stroke="#fff" stroke-opacity=".5"/>'
            )
            labels.append(f'<span style="left:{pct:.2f}%">{t.hour:02d}:00</span>')
        t += timedelta(hours=1)
    svg = (
        f'<svg class="timeline day" viewBox="0 0 {width:.0f} {h + 4:.0f}" preserveAspectRatio="none" '
        f'role="img" aria-label="{gettext("24 小时状态条")}">{"".join(parts)}</svg>'
    )
    return Markup(
        f'<div class="timeline-day">{svg}<div class="timeline-ticks">{"".join(labels)}</div></div>'
    )


def month_svg(
    intervals: list[Interval], opening_by_day: dict[date, list[Window]], days: list[date]
) -> Markup:
    """One thin bar per day (newest at the bottom), each 00:00–24:00."""
    width, row, h, label_w = 1440.0, 22.0, 14.0, 110.0
    parts = []
    for i, day in enumerate(days):
        start, end = day_bounds(day)
        y = i * row
        bar = _bar(intervals, opening_by_day.get(day, []), start, end, y, h, width)
        parts.append(f'<g transform="translate({label_w},0)">{"".join(bar)}</g>')
        parts.append(
            f'<text x="0" y="{y + h - 2}" font-size="14" fill="#444">'
            f"{day.strftime('%m-%d')} {gettext(WEEKDAY_LABELS[day.weekday()])}</text>"
        )
    total_h = len(days) * row
    return Markup(
        f'<svg class="timeline" viewBox="0 0 {width + label_w:.0f} {total_h:.0f}" '
        f'role="img" aria-label="{gettext("30 天状态条")}">{"".join(parts)}</svg>'
    )


def strip_svg(intervals: list[Interval], start: datetime, end: datetime) -> Markup:
    """A thin bar of ``[start, end)`` without labels: one per wall tile (last 24 hours)."""
    width, h = 288.0, 10.0
    parts = _bar(intervals, [], start, end, 0, h, width)
    return Markup(
        f'<svg class="timeline strip" viewBox="0 0 {width:.0f} {h:.0f}" preserveAspectRatio="none" '
        f'role="img" aria-label="{gettext("24 小时状态条")}">{"".join(parts)}</svg>'
    )
