"""Compliance scoring (合规评分): pure functions, no database, no Flask.

A village's score for a period is built from *components*. Each component is a
rate ``numerator / denominator`` (obligations met / due, records on time /
entered, …). The rate earns points against a *target* (``target_*`` in
``config.toml [dashboard]``): a rate at or above the target earns 100 points,
below it the points fall linearly to 0 (``points = 100 × min(rate / target, 1)``).

A component *applies* to a village in a period only when its denominator is
positive: a village that received no service matters, or has no cameras, is not
marked down (nor up) for them. The score is the weighted mean of the points of
the applicable components, i.e. the weights are renormalised over what applies::

    score = Σ weight_i × points_i / Σ weight_i      (i over applicable components)

A village with no applicable component has no score (shown as 无数据, grey).

Township, county and city scores are the **unweighted mean of their villages'
scores** (every village counts the same, whatever its size — a county is judged
by how many of its villages keep their ledgers, not by its biggest village);
beside it every component is shown as a **pooled rate** (Σ numerators /
Σ denominators over the villages), which is what "how many obligations were met
in the county" means.

Bands: ``score ≥ band_green`` green, ``≥ band_amber`` amber, else red.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any


class Band(enum.StrEnum):
    """Red / amber / green, plus grey for "no data"."""

    green = "green"
    amber = "amber"
    red = "red"
    none = "none"

    @property
    def label(self) -> str:
        """The band's name in the page's language (Chinese is the message id)."""
        from flask_babel import gettext

        return gettext(BAND_LABELS[self.value])


BAND_LABELS = {"green": "良好", "amber": "需关注", "red": "落后", "none": "无数据"}


@dataclass(frozen=True)
class ComponentSpec:
    """One score component: its key, Chinese name, what its rate means, and a reason
    when it is switched off everywhere (no source register exists)."""

    key: str
    name: str
    rate_label: str
    numerator_label: str
    denominator_label: str
    # The unit the numerator and denominator are *shown* in (件, 次, 时); camera
    # figures are stored in seconds and shown in hours (``shown``).
    unit: str = ""

    def shown(self, value: float) -> float:
        """A numerator/denominator in the unit shown to people (seconds → hours)."""
        return round(value / 3600, 1) if self.key == "camera_uptime" else value


COMPONENTS: tuple[ComponentSpec, ...] = (
    ComponentSpec("meetings", "会议履职", "按期完成率", "已完成", "应开", "次"),
    ComponentSpec("on_time_entry", "按时录入", "按时录入率", "按时录入", "录入记录", "份"),
    ComponentSpec("service_on_time", "限时办结", "按时办结率", "按时办结", "应办结", "件"),
    ComponentSpec("callbacks", "差评回访", "按时回访率", "按时回访", "应回访差评", "条"),
    ComponentSpec(
        "camera_uptime", "监控完好", "完好率（开放时间内）", "完好时长", "应计时长", "时"
    ),
    ComponentSpec("trainings", "培训开展", "按期培训率", "已举办", "应举办", "次"),
    ComponentSpec("secondment", "挂职管理", "按时履职率", "按时完成", "应完成", "项"),
    ComponentSpec("teams", "队伍建设", "队伍建设完成率", "已完成", "应完成", "项"),
)
COMPONENT_BY_KEY = {c.key: c for c in COMPONENTS}


@dataclass(frozen=True)
class ScoringConfig:
    """Weights, targets and bands from ``config.toml [dashboard]``."""

    weights: Mapping[str, float]
    targets: Mapping[str, float]
    band_green: float = 85.0
    band_amber: float = 60.0
    # Components with no data source at all: key → the reason shown.
    unavailable: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_settings(
        cls, section: Mapping[str, Any], unavailable: Mapping[str, str] | None = None
    ) -> ScoringConfig:
        """Build from the validated ``[dashboard]`` section."""
        weights = {c.key: float(section.get(f"weight_{c.key}", 0)) for c in COMPONENTS}
        targets = {c.key: float(section.get(f"target_{c.key}", 1.0)) for c in COMPONENTS}
        return cls(
            weights=weights,
            targets=targets,
            band_green=float(section.get("band_green", 85)),
            band_amber=float(section.get("band_amber", 60)),
            unavailable=dict(unavailable or {}),
        )


DEFAULT_CONFIG = ScoringConfig(
    weights={
        "meetings": 40,
        "on_time_entry": 10,
        "service_on_time": 20,
        "callbacks": 5,
        "camera_uptime": 20,
        "trainings": 5,
        # Off until a county switches it on: existing scores do not move.
        "secondment": 0,
        "teams": 0,
    },
    targets={
        "meetings": 1.0,
        "on_time_entry": 0.9,
        "service_on_time": 0.95,
        "callbacks": 1.0,
        "camera_uptime": 0.95,
        "trainings": 1.0,
        "secondment": 1.0,
        "teams": 0.9,
    },
)


@dataclass(frozen=True)
class Component:
    """One component's figures and its part of the score."""

    key: str
    numerator: float
    denominator: float
    weight: float
    target: float
    applies: bool
    rate: float | None
    points: float | None
    # Share of the score after renormalisation (0–1), 0 when it does not apply.
    share: float = 0.0
    reason: str = ""

    @property
    def spec(self) -> ComponentSpec:
        return COMPONENT_BY_KEY[self.key]

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def contribution(self) -> float | None:
        """Points this component adds to the score (share × points)."""
        return None if self.points is None else self.share * self.points


@dataclass(frozen=True)
class Score:
    """A score with its components and band."""

    value: float | None
    band: Band
    components: tuple[Component, ...] = field(default_factory=tuple)

    def component(self, key: str) -> Component:
        return next(c for c in self.components if c.key == key)


def band_for(score: float | None, config: ScoringConfig = DEFAULT_CONFIG) -> Band:
    """The band of a score (``None`` → :attr:`Band.none`)."""
    if score is None:
        return Band.none
    if score >= config.band_green - 1e-9:
        return Band.green
    if score >= config.band_amber - 1e-9:
        return Band.amber
    return Band.red


def points_for(rate: float, target: float) -> float:
    """100 points at or above the target, linearly less below it."""
    if target <= 0:
        return 100.0
    return 100.0 * max(0.0, min(rate / target, 1.0))


def score(
    figures: Mapping[str, tuple[float, float]],
    config: ScoringConfig = DEFAULT_CONFIG,
) -> Score:
    """Score one village from ``{component key: (numerator, denominator)}``.

    Missing keys and zero denominators do not apply; components with a
    reason in ``config.unavailable`` never apply. Weights are renormalised over the rest.
    """
    raw: list[tuple[ComponentSpec, float, float, bool, float | None, float | None, str]] = []
    for spec in COMPONENTS:
        num, den = figures.get(spec.key, (0.0, 0.0))
        if spec.key in config.unavailable:
            raw.append((spec, num, den, False, None, None, config.unavailable[spec.key]))
            continue
        weight = config.weights.get(spec.key, 0.0)
        if den <= 0:
            raw.append((spec, num, den, False, None, None, "本期无此项（不适用），不计分"))
            continue
        r = max(0.0, min(num / den, 1.0))
        if weight <= 0:
            raw.append((spec, num, den, False, r, None, "权重为 0，不计分"))
            continue
        raw.append((spec, num, den, True, r, points_for(r, config.targets[spec.key]), ""))
    total_weight = sum(config.weights.get(s.key, 0.0) for s, *_rest in raw if _rest[2])
    comps = []
    value = 0.0
    for spec, num, den, applies, r_, pts, reason in raw:
        weight = config.weights.get(spec.key, 0.0)
        share = weight / total_weight if applies and total_weight else 0.0
        if applies and pts is not None:
            value += share * pts
        comps.append(
            Component(
                key=spec.key,
                numerator=num,
                denominator=den,
                weight=weight,
                target=config.targets.get(spec.key, 1.0),
                applies=applies,
                rate=r_,
                points=pts,
                share=share,
                reason=reason,
            )
        )
    final = round(value, 1) if total_weight else None
    return Score(final, band_for(final, config), tuple(comps))


def aggregate(
    village_scores: Iterable[float | None],
    pooled: Mapping[str, tuple[float, float]],
    config: ScoringConfig = DEFAULT_CONFIG,
) -> Score:
    """A township/county/city score: the mean of its villages' scores.

    ``pooled`` holds the summed numerators/denominators of each component; they
    are reported (rates and the points they would earn) but the headline value
    is the unweighted mean of the village scores that exist.
    """
    values = [v for v in village_scores if v is not None]
    mean = round(sum(values) / len(values), 1) if values else None
    pooled_score = score(pooled, config)
    return Score(mean, band_for(mean, config), pooled_score.components)


def rate(numerator: float, denominator: float) -> float | None:
    """``numerator / denominator`` or ``None`` when nothing was due."""
    return numerator / denominator if denominator > 0 else None
