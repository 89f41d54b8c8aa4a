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

from tracker.dashboard.rules import Band, Component, ScoringConfig, band_for

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


def trend_chart(
    values: Sequence[float | None],
    labels: Sequence[str],
    config: ScoringConfig,
    width: int = 640,
    height: int = 180,
) -> Markup:
    """A larger trend line with the green/amber thresholds and month labels."""
    n = len(values)
    left, right, top, bottom = 34, 10, 10, 26
    w, h = width - left - right, height - top - bottom
    step = w / max(n - 1, 1)

    def y(v: float) -> float:
        return top + h * (1 - max(0.0, min(v, 100.0)) / 100)

    parts = [
        f'<svg class="trend" viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'aria-label="{escape(gettext("得分趋势"))}"><title>{escape("；".join(f"{a} {_fmt(b)}" for a, b in zip(labels, values, strict=False)))}</title>'
    ]
    for level, color in ((config.band_green, "#2e8b57"), (config.band_amber, "#e0a100")):
        parts.append(
            f'<line x1="{left}" x2="{left + w}" y1="{y(level):.1f}" y2="{y(level):.1f}" '
            f'stroke="{color}" stroke-dasharray="4,3" stroke-width="1"/>'
            f'<text x="{left - 4}" y="{y(level) + 4:.1f}" font-size="10" text-anchor="end" '
            f'fill="{color}">{level:g}</text>'
        )
    parts.append(
        f'<line x1="{left}" x2="{left + w}" y1="{top + h}" y2="{top + h}" stroke="#ced4da"/>'
    )
    pts = []
    for i, (v, lab) in enumerate(zip(values, labels, strict=False)):
        x = left + i * step
        if i % max(1, n // 6) == 0 or i == n - 1:
            parts.append(
                f'<text x="{x:.1f}" y="{height - 8}" font-size="10" text-anchor="middle" '
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
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def component_bars(components: Sequence[Component], width: int = 460) -> Markup:
    """One horizontal bar per component: its rate, its target tick, its weight share."""
    rows = list(components)
    bar_h, gap, label_w, value_w = 16, 10, 96, 118
    height = len(rows) * (bar_h + gap) + 4
    w = width - label_w - value_w
    parts = [
        f'<svg class="bars" viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'aria-label="{escape(gettext("各项得分"))}">'
    ]
    for i, c in enumerate(rows):
        top = 2 + i * (bar_h + gap)
        parts.append(
            f'<text x="0" y="{top + 12}" font-size="12" fill="#212529">{escape(gettext(c.name))}</text>'
            f'<rect x="{label_w}" y="{top}" width="{w}" height="{bar_h}" fill="#eef0f2" rx="3"/>'
        )
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
                f'<text x="{label_w + w + 6}" y="{top + 12}" font-size="12" fill="#212529">'
                f"{c.rate * 100:.1f}% · {escape(gettext('权重'))}{c.share * 100:.0f}%</text>"
            )
        else:
            parts.append(
                f'<text x="{label_w + 6}" y="{top + 12}" font-size="11" fill="#6c757d">'
                f"{escape(gettext('不计分'))}</text>"
            )
    parts.append("</svg>")
    return Markup("".join(parts))


def village_grid(
    cells: Sequence[object],
    url_for_village: Callable[[int], str | None],
    cell: int = 16,
    per_row: int = 20,
    max_scale: float = 1.3,
) -> Markup:
    """The map-like grid: one square per village, one row per township, band colours.

    ``cells`` are :class:`tracker.dashboard.services.GridCell` s ordered by township.
    Each square links to the village page and names it in its ``<title>``.
    """
    label_w = 92
    groups = [list(items) for _, items in groupby(cells, key=lambda c: c.township_id)]  # type: ignore[attr-defined]
    per_row = max(6, min(per_row, max((len(g) for g in groups), default=1)))
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
                f'<text x="0" y="{top + cell - 4}" font-size="11" fill="#495057">'
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
    return Markup("".join(parts))
