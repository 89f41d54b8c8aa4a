"""JSON API of the dashboard: a region's score for a period, with components and children."""

from __future__ import annotations

from pydantic import BaseModel, Field

from tracker.api.core import endpoint
from tracker.dashboard import services
from tracker.dashboard.rules import Score
from tracker.models import Region, RegionLevel
from tracker.scope import current_scope


class ScoreQuery(BaseModel):
    period: str | None = Field(None, description="2026-03、2026-Q1 或 2026；缺省为本月")
    children: bool = Field(True, description="同时返回下级单位的得分")


class ComponentOut(BaseModel):
    key: str
    name: str
    applies: bool
    numerator: float
    denominator: float
    rate: float | None
    target: float
    weight: float
    share: float
    points: float | None
    reason: str


class BacklogOut(BaseModel):
    as_of: str = Field(description="截止日（期间最后一天，期间未结束时为今天）")
    overdue_open: int = Field(description="逾期未办结事项数（截至截止日）")
    matter_ids: list[int] = Field(description="逾期最久的事项（最多 50 件）")


class RegionScoreOut(BaseModel):
    region_id: int
    name: str
    level: str
    period: str
    score: float | None
    band: str
    villages: int
    scored_villages: int
    aggregation: str
    computed_at: str | None
    components: list[ComponentOut]
    backlog: BacklogOut | None = None
    children: list[RegionScoreOut] = []


AGGREGATION = {
    "village": "村得分：各适用项按权重加权（不适用项权重按比例分摊）",
    "other": "下辖各村得分的算术平均；各项比率为下辖各村分子、分母之和（合并比率）",
}


def _components(score: Score) -> list[ComponentOut]:
    return [
        ComponentOut(
            key=c.key,
            name=c.name,
            applies=c.applies,
            numerator=c.numerator,
            denominator=c.denominator,
            rate=c.rate,
            target=c.target,
            weight=c.weight,
            share=round(c.share, 4),
            points=None if c.points is None else round(c.points, 1),
            reason=c.reason,
        )
        for c in score.components
    ]


def _out(rs: services.RegionScore, period: str) -> RegionScoreOut:
    return RegionScoreOut(
        region_id=rs.region_id,
        name=rs.name,
        level=rs.level.value,
        period=period,
        score=rs.score.value,
        band=rs.band.value,
        villages=rs.villages,
        scored_villages=rs.scored,
        aggregation=AGGREGATION["village" if rs.level == RegionLevel.village else "other"],
        computed_at=rs.computed_at.isoformat() if rs.computed_at else None,
        components=_components(rs.score),
    )


@endpoint(
    "/dashboard/regions/<int:region_id>/score",
    summary="一个单位某期间的合规得分（含各项构成与下级单位）",
    tags=["dashboard"],
    query=ScoreQuery,
    response=RegionScoreOut,
)
def dashboard_score(region_id: int, query: ScoreQuery) -> RegionScoreOut:
    node = current_scope().get_or_404(Region, region_id)
    period = services.parse_period(query.period)
    services.ensure_committed(period, node)
    out = _out(services.region_score(node, period), period.key)
    backlog = services.overdue_backlog(node, period)
    out.backlog = BacklogOut(
        as_of=backlog.as_of.isoformat(),
        overdue_open=backlog.total,
        matter_ids=[line.id for line in backlog.lines],
    )
    if query.children and node.level != RegionLevel.village:
        out.children = [_out(c, period.key) for c in services.child_scores(node, period)]
    return out
