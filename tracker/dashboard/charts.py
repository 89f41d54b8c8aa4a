"""Server-side SVG charts: sparklines, trend lines, component bars, the village grid.

Plain SVG strings built here (no JavaScript, no CDN): they render in any
browser, scale with the page, and print. Every chart carries a ``<title>`` so
its numbers are readable without the picture (screen readers, hover).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import groupby

from flask_babel import gettext
from markupsafe import Markup, escape

from tracker.dashboard.rules import (
    Band,
    Component,
    ComponentSpec,
    Score,
    ScoringConfig,
    band_for,
)
from tracker.formatting import percent

COLORS = {
    Band.green.value: "#2e8b57",
    Band.amber.value: "#e0a100",
    Band.red.value: "#c8161d",
    Band.none.value: "#c4c8cc",
}


def _fmt(v: float | None) -> str:
    return "—" if v is None else f"{v:.1f}"


def sparkline(
    values: Sequence[float | None],
    labels: Sequence[str],
    config: ScoringConfig,
    width: int = 120,
    height: int = 28,
) -> Markup:
    """A small line of scores (0–100) with the last point coloured by its band."""
    n = len(values)
    if not n or all(v is None for v in values):
        return Markup('<span class="text-muted small">%s</span>') % gettext("无数据")
    step = (width - 6) / max(n - 1, 1)

    def y(v: float) -> float:
        return 3 + (height - 6) * (1 - max(0.0, min(v, 100.0)) / 100)

    segments: list[list[str]] = [[]]
    for i, v in enumerate(values):
        if v is None:
            segments.append([])
            continue
        segments[-1].append(f"{3 + i * step:.1f},{y(v):.1f}")
    lines = "".join(
        f'<polyline fill="none" stroke="#6c757d" stroke-width="1.5" points="{" ".join(s)}"/>'
        for s in segments
        if len(s) > 1
    )
    last_i = max(i for i, v in enumerate(values) if v is not None)
    last = values[last_i]
    assert last is not None
    color = COLORS[band_for(last, config).value]
    amber_y = y(config.band_amber)
    title = "；".join(f"{lab} {_fmt(v)}" for lab, v in zip(labels, values, strict=False))
    return Markup(
        f'<svg class="spark" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{escape(gettext("近%(n)s个月得分趋势", n=n))}"><title>{escape(title)}</title>'
        f'<line x1="0" x2="{width}" y1="{amber_y:.1f}" y2="{amber_y:.1f}" stroke="#f3d9a4" '
        f'stroke-dasharray="2,2"/>{lines}'
        f'<circle cx="{3 + last_i * step:.1f}" cy="{y(last):.1f}" r="2.8" fill="{color}"/></svg>'
    )


def _two_widths(wide: str, narrow: str) -> Markup:
    """A chart drawn for the desktop card and again for a phone, so its text stays ≥ 11 px
    on both (an SVG scales its text with its width)."""
    return Markup(
        f'<div class="d-none d-md-block chart-wide">{wide}</div>'
        f'<div class="d-md-none chart-narrow">{narrow}</div>'
    )


def trend_chart(
    values: Sequence[float | None],
    labels: Sequence[str],
    config: ScoringConfig,
    width: int = 640,
    height: int = 180,
) -> Markup:
    """A larger trend line: a y-axis (0–100), the green/amber thresholds, month labels and
    each month's score written above its point — drawn for the desktop and for a phone."""
    return _two_widths(
        _trend_svg(values, labels, config, width, height, font=13, decimals=1, every=1),
        _trend_svg(values, labels, config, 360, 200, font=12, decimals=0, every=2),
    )


def _trend_svg(
    values: Sequence[float | None],
    labels: Sequence[str],
    config: ScoringConfig,
    width: int,
    height: int,
    *,
    font: int,
    decimals: int,
    every: int,
) -> str:
    n = len(values)
    left, right, top, bottom = font * 3, font, font + 8, font + 14
    w, h = width - left - right, height - top - bottom
    step = w / max(n - 1, 1)

    def y(v: float) -> float:
        return top + h * (1 - max(0.0, min(v, 100.0)) / 100)

    title = escape("；".join(f"{a} {_fmt(b)}" for a, b in zip(labels, values, strict=False)))
    parts = [
        f'<svg class="trend" viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'aria-label="{escape(gettext("得分趋势"))}"><title>{title}</title>'
    ]
    # The y-axis: a line with ticks at 0, 50 and 100 (the band lines carry their own values).
    parts.append(f'<line x1="{left}" x2="{left}" y1="{top}" y2="{top + h}" stroke="#adb5bd"/>')
    for tick in (0, 50, 100):
        parts.append(
            f'<line x1="{left - 3}" x2="{left}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" '
            f'stroke="#adb5bd"/><text class="axis-y" x="{left - 5}" y="{y(tick) + font / 3:.1f}" '
            f'font-size="{font}" text-anchor="end" fill="#6c757d">{tick}</text>'
        )
    for level, color in ((config.band_green, "#2e8b57"), (config.band_amber, "#e0a100")):
        parts.append(
            f'<line x1="{left}" x2="{left + w}" y1="{y(level):.1f}" y2="{y(level):.1f}" '
            f'stroke="{color}" stroke-dasharray="4,3" stroke-width="1"/>'
        )
        if abs(level - 50) > 8 and abs(level - 100) > 8:
            parts.append(
                f'<text class="axis-y" x="{left - 5}" y="{y(level) + font / 3:.1f}" '
                f'font-size="{font}" text-anchor="end" fill="{color}">{level:g}</text>'
            )
    parts.append(
        f'<line x1="{left}" x2="{left + w}" y1="{top + h}" y2="{top + h}" stroke="#ced4da"/>'
    )
    pts = []
    for i, (v, lab) in enumerate(zip(values, labels, strict=False)):
        x = left + i * step
        if i % max(1, (n // 6) * every) == 0 or i == n - 1:
            parts.append(
                f'<text x="{x:.1f}" y="{height - 6}" font-size="{font}" text-anchor="middle" '
                f'fill="#6c757d">{escape(lab)}</text>'
            )
        if v is not None:
            pts.append((x, y(v), v))
    if len(pts) > 1:
        parts.append(
            '<polyline fill="none" stroke="#495057" stroke-width="2" points="'
            + " ".join(f"{x:.1f},{yy:.1f}" for x, yy, _ in pts)
            + '"/>'
        )
    for x, yy, v in pts:
        color = COLORS[band_for(v, config).value]
        parts.append(
            f'<circle cx="{x:.1f}" cy="{yy:.1f}" r="3.5" fill="{color}"><title>{v:.1f}</title></circle>'
            f'<text class="value" x="{x:.1f}" y="{yy - 7:.1f}" font-size="{font}" '
            f'text-anchor="middle" fill="#212529">{v:.{decimals}f}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def component_cells(score: Score, specs: Sequence[ComponentSpec]) -> Markup:
    """The child table's cells of one row: each shown component's pooled rate, its
    numerator/denominator as the title (camera seconds in hours), muted where it does
    not apply. Written here, not in the template: a province's 50 counties × 7
    components cost more in Jinja than the row's SQL."""
    by_key = {c.key: c for c in score.components}
    cells = []
    for spec in specs:
        comp = by_key[spec.key]
        if spec.key == "camera_uptime":
            num: float = round(comp.numerator / 3600, 1)
            den: float = round(comp.denominator / 3600, 1)
        else:
            num, den = int(comp.numerator), int(comp.denominator)
        muted = "" if comp.applies else "text-muted"
        cells.append(
            f'<td class="text-end d-none d-md-table-cell {muted}" title="{num}/{den}">'
            f"{percent(comp.rate)}</td>"
        )
    return Markup("".join(cells))


def weakest(score: Score, specs: Sequence[ComponentSpec]) -> tuple[ComponentSpec, Component] | None:
    """The shown component that costs the score most (share × points lost; the first of
    equals), named on a phone where the component columns are hidden; None when none
    loses points."""
    by_key = {c.key: c for c in score.components}
    worst: tuple[ComponentSpec, Component] | None = None
    lost = 0.0
    for spec in specs:
        comp = by_key[spec.key]
        if comp.applies and comp.points is not None and comp.share * (100 - comp.points) > lost:
            worst, lost = (spec, comp), comp.share * (100 - comp.points)
    return worst


def component_bars(components: Sequence[Component], width: int = 460) -> Markup:
    """One horizontal bar per component: its rate, its target tick, its weight share —
    beside the bar on the desktop, above it on a phone."""
    rows = list(components)
    return _two_widths(_bars_svg(rows, width, narrow=False), _bars_svg(rows, 340, narrow=True))


def _bars_svg(rows: Sequence[Component], width: int, *, narrow: bool) -> str:
    bar_h, gap, font = 16, 10, 12
    label_w, value_w = (0, 0) if narrow else (96, 118)
    line = bar_h + gap + (font + 4 if narrow else 0)
    height = len(rows) * line + 4
    w = width - label_w - value_w
    parts = [
        f'<svg class="bars" viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'aria-label="{escape(gettext("各项得分"))}">'
    ]
    for i, c in enumerate(rows):
        text_y = 2 + i * line + 12
        top = text_y + 4 if narrow else 2 + i * line
        parts.append(
            f'<text x="0" y="{text_y}" font-size="{font}" fill="#212529">{escape(gettext(c.name))}</text>'
            f'<rect x="{label_w}" y="{top}" width="{w}" height="{bar_h}" fill="#eef0f2" rx="3"/>'
        )
        value_x, anchor = (width, "end") if narrow else (label_w + w + 6, "start")
        if c.applies and c.rate is not None and c.points is not None:
            color = COLORS[
                Band.green.value
                if c.points >= 85
                else Band.amber.value
                if c.points >= 60
                else Band.red.value
            ]
            parts.append(
                f'<rect x="{label_w}" y="{top}" width="{w * c.rate:.1f}" height="{bar_h}" '
                f'fill="{color}" rx="3"><title>{escape(gettext(c.name))} {c.rate * 100:.1f}%</title></rect>'
                f'<line x1="{label_w + w * min(c.target, 1):.1f}" x2="{label_w + w * min(c.target, 1):.1f}" '
                f'y1="{top - 2}" y2="{top + bar_h + 2}" stroke="#212529" stroke-width="1.5"/>'
                f'<text class="value" x="{value_x}" y="{text_y}" font-size="{font}" '
                f'text-anchor="{anchor}" fill="#212529">'
                f"{c.rate * 100:.1f}% · {escape(gettext('权重'))}{c.share * 100:.0f}%</text>"
            )
        else:
            parts.append(
                f'<text x="{value_x if narrow else label_w + 6}" y="{text_y}" font-size="{font}" '
                f'text-anchor="{anchor if narrow else "start"}" fill="#6c757d">{escape(gettext("不计分"))}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)


def village_grid(
    cells: Sequence[object],
    url_for_village: Callable[[int], str | None],
    cell: int = 16,
    per_row: int = 20,
    max_scale: float = 1.3,
) -> Markup:
    """The map-like grid: one square per village, one row per township, band colours.

    ``cells`` are :class:`tracker.dashboard.services.GridCell` s ordered by township.
    Each square links to the village page and names it in its ``<title>``. On a phone
    the rows hold at most 12 villages, so the townships' names stay readable.
    """
    return _two_widths(
        _grid_svg(cells, url_for_village, cell, per_row, max_scale),
        _grid_svg(cells, url_for_village, cell, min(per_row, 12), max_scale),
    )


def _grid_svg(
    cells: Sequence[object],
    url_for_village: Callable[[int], str | None],
    cell: int,
    per_row: int,
    max_scale: float,
) -> str:
    label_w = 92
    groups = [list(items) for _, items in groupby(cells, key=lambda c: c.township_id)]  # type: ignore[attr-defined]
    per_row = max(6, min(per_row, max((len(g) for g in groups), default=1)))
    font = 11 if per_row > 12 else 12
    rows: list[tuple[str, list[object]]] = []
    for lst in groups:
        for start in range(0, len(lst), per_row):
            name = getattr(lst[0], "township") if start == 0 else ""  # noqa: B009
            rows.append((name, lst[start : start + per_row]))
    pitch = cell + 3
    width = label_w + per_row * pitch
    height = max(1, len(rows)) * pitch + 2
    parts = [
        f'<svg class="vgrid" viewBox="0 0 {width} {height}" width="100%" '
        f'style="max-width:{width * max_scale:.0f}px" role="img" aria-label="{escape(gettext("各村得分分布"))}">'
    ]
    for r, (name, row_cells) in enumerate(rows):
        top = 1 + r * pitch
        if name:
            parts.append(
                f'<text x="0" y="{top + cell - 4}" font-size="{font}" fill="#495057">'
                f"{escape(name[:7])}</text>"
            )
        for i, c in enumerate(row_cells):
            score = getattr(c, "score")  # noqa: B009
            band = getattr(c, "band")  # noqa: B009
            vname = getattr(c, "name")  # noqa: B009
            x = label_w + i * pitch
            rect = (
                f'<rect x="{x}" y="{top}" width="{cell}" height="{cell}" rx="3" '
                f'fill="{COLORS.get(band, COLORS["none"])}"><title>{escape(vname)} '
                f"{_fmt(score)}</title></rect>"
            )
            url = url_for_village(getattr(c, "village_id"))  # noqa: B009
            parts.append(f'<a href="{escape(url)}">{rect}</a>' if url else rect)
    parts.append("</svg>")
    return "".join(parts)
