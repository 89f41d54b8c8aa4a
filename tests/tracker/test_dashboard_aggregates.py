"""Region aggregates: the township, county and city rows the roll-up keeps are the
sums of their villages' snapshots, and the overviews read them, not the villages."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, func, select

from tests.tracker import test_dashboard_scores as scores
from tracker.dashboard.models import RegionAggregate, VillageScore
from tracker.dashboard.services import (
    SUM_COLUMNS,
    child_scores,
    compute_period,
    refresh_region_scores,
    region_score,
    trend_by,
)

# The hand-computed fixture region of the score tests, period 2025-09.
dash_world = scores.dash_world
PERIOD, TODAY = scores.PERIOD, scores.TODAY
pytestmark = pytest.mark.usefixtures("dash_world")


def test_every_region_row_sums_its_villages(app, db, world):
    with app.test_request_context():
        compute_period(PERIOD, world.city.path, TODAY)
    for region, col in (
        (world.town_a1, VillageScore.township_id),
        (world.county_a, VillageScore.county_id),
        (world.city, VillageScore.city_id),
    ):
        agg = db.session.scalar(
            select(RegionAggregate).filter_by(period=PERIOD.key, region_id=region.id)
        )
        direct = db.session.execute(
            select(
                func.count(VillageScore.id),
                func.avg(VillageScore.score),
                *(func.sum(getattr(VillageScore, c)) for c in SUM_COLUMNS),
            ).where(VillageScore.period == PERIOD.key, col == region.id)
        ).one()
        n, mean, *sums = direct
        assert agg.villages == n and agg.parent_id == region.parent_id
        assert round(agg.score_sum / agg.scored, 6) == round(mean, 6)
        assert [getattr(agg, c) for c in SUM_COLUMNS] == list(sums), region.name


def test_recomputing_one_village_updates_its_township_county_and_city(app, db, world):
    with app.test_request_context():
        compute_period(PERIOD, world.city.path, TODAY)
        before = region_score(world.county_a, PERIOD).score.value
        # The village loses its snapshot's figures (as if its records were deleted) ...
        row = db.session.scalar(
            select(VillageScore).filter_by(period=PERIOD.key, region_id=world.village_a1a.id)
        )
        row.score = 0.0
        db.session.flush()
        refresh_region_scores(PERIOD)
        after = region_score(world.county_a, PERIOD).score.value
    assert before > 0 and after == 0.0


def test_the_overviews_read_the_aggregates_not_the_village_rows(
    app,
    db,
    world,
    assert_max_queries,
):
    """Without the village rows the county and city overviews still answer: they read
    one aggregate row per child and month, however many villages there are."""
    with app.test_request_context():
        compute_period(PERIOD, world.city.path, TODAY)
        expected = region_score(world.city, PERIOD).score.value
        db.session.execute(delete(VillageScore).where(VillageScore.period == PERIOD.key))
        with assert_max_queries(4):
            city = region_score(world.city, PERIOD)
            counties = child_scores(world.city, PERIOD, trends={})
            trend = trend_by(world.city, PERIOD)
    assert city.score.value == expected and city.villages == 4
    assert {c.region_id for c in counties} == {world.county_a.id, world.county_b.id}
    assert trend[world.city.id][-1] == expected
