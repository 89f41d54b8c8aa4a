"""Region aggregates: the township, county and city rows the roll-up keeps are the
sums of their villages' snapshots, and the overviews read them, not the villages."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, func, select

from tests.tracker import test_dashboard_scores as scores
from tracker.dashboard.models import RegionAggregate, VillageScore
from tracker.dashboard.services import (
    SUM_COLUMNS,
    changed_villages,
    child_scores,
    compute_period,
    refresh_changed,
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


def test_the_roll_up_recomputes_only_the_township_of_a_changed_village(app, db, world, monkeypatch):
    from tests.tracker.test_meeting_helpers import at, meeting_input
    from tracker.dashboard import services

    # County A has two townships: at the default share one changed township makes the
    # county one subtree (test_dashboard_incremental); here it stays by township.
    monkeypatch.setattr(services, "WHOLE_SHARE", 0.75)
    from tracker.meetings.services import record_meeting
    from tracker.workdays import WorkCalendar

    with app.test_request_context():
        compute_period(PERIOD, world.city.path, TODAY)
        assert refresh_changed(PERIOD, TODAY) == 0  # nothing written since
        stamp = {
            r.region_id: r.computed_at
            for r in db.session.scalars(select(VillageScore).filter_by(period=PERIOD.key))
        }
        # A late entry (补录) in village A1b for September 2025 ...
        village = world.village_a1b
        record_meeting(
            world.branch(village),
            meeting_input(world, village, at(2025, 9, 15), kind="theme_party_day"),
            None,
            WorkCalendar(),
        )
        db.session.flush()
        assert changed_villages(PERIOD) == {village.id}
        # ... (met late) recomputes its township (A1a, A1b), not the others; the county follows.
        assert refresh_changed(PERIOD, TODAY) == 2
        after = {
            r.region_id: (r.computed_at, r.meetings_met_late)
            for r in db.session.scalars(select(VillageScore).filter_by(period=PERIOD.key))
        }
        county = region_score(world.county_a, PERIOD)
    assert after[village.id][0] > stamp[village.id] and after[village.id][1] == 1
    assert after[world.village_b1a.id][0] == stamp[world.village_b1a.id]
    assert after[world.village_a2a.id][0] == stamp[world.village_a2a.id]
    assert county.sums.meetings_met_late == sum(
        after[v.id][1] for v in (world.village_a1a, world.village_a1b, world.village_a2a)
    )


def test_a_period_snapshotted_before_it_ended_is_recomputed_whole(app, db, world):
    with app.test_request_context():
        compute_period(PERIOD, world.city.path, TODAY)
        for row in db.session.scalars(select(VillageScore).filter_by(period=PERIOD.key)):
            row.computed_at = scores._at("2025-09-20")  # taken while September was open
        db.session.flush()
        assert refresh_changed(PERIOD, TODAY) == 4


def test_a_province_scale_city_grid_shows_townships_from_their_aggregates(
    app, db, world, monkeypatch
):
    from tracker.dashboard import services

    with app.test_request_context():
        compute_period(PERIOD, world.city.path, TODAY)
        assert services.overview_grid(world.city, PERIOD)[0] == "village"
        monkeypatch.setattr(services, "GRID_MAX_VILLAGES", 3)  # the fixture city has 4
        unit, cells = services.overview_grid(world.city, PERIOD)
        town = region_score(world.town_a1, PERIOD)
        county_grid = services.overview_grid(world.county_a, PERIOD)
    assert unit == "township"
    assert {c.village_id for c in cells} == {world.town_a1.id, world.town_a2.id, world.town_b1.id}
    a1 = next(c for c in cells if c.village_id == world.town_a1.id)
    assert a1.score == town.score.value and a1.township == world.county_a.name
    assert county_grid[0] == "village"  # a county keeps its villages


def test_the_city_page_names_the_township_grid(app, db, world, login, monkeypatch):
    from tracker.dashboard import services

    monkeypatch.setattr(services, "GRID_MAX_VILLAGES", 3)
    with app.test_request_context():
        compute_period(PERIOD, world.city.path, TODAY)
    db.session.commit()
    page = login(world.users["city_admin"]).get(f"/dashboard/r/{world.city.id}?period={PERIOD.key}")
    assert page.status_code == 200
    assert "各乡镇分布" in page.text and world.town_a2.name in page.text


def _snapshot_rows(db):
    skip = {"id", "computed_at"}
    cols = [c for c in VillageScore.__table__.columns if c.name not in skip]
    rows = db.session.execute(
        select(*cols).where(VillageScore.period == PERIOD.key).order_by(VillageScore.region_id)
    ).all()
    aggs = db.session.execute(
        select(*(c for c in RegionAggregate.__table__.columns if c.name not in skip))
        .where(RegionAggregate.period == PERIOD.key)
        .order_by(RegionAggregate.region_id)
    ).all()
    return rows, aggs


def test_a_big_subtree_is_computed_one_child_at_a_time_with_the_same_snapshots(
    app, db, world, monkeypatch
):
    """Memory of a province's roll-up: above CHUNK_VILLAGES villages compute_period
    recurses into the child subtrees; the snapshots and aggregates are the same."""
    import tracker.dashboard.services as services

    with app.test_request_context():
        compute_period(PERIOD, "/", TODAY)
        whole = _snapshot_rows(db)
        calls = []
        original = services.villages_under
        monkeypatch.setattr(
            services, "villages_under", lambda path: calls.append(path) or original(path)
        )
        monkeypatch.setattr(services, "CHUNK_VILLAGES", 1)
        compute_period(PERIOD, "/", TODAY)
    assert _snapshot_rows(db) == whole
    assert len(calls) > 4 and calls[0] == "/"  # city, counties, townships, villages


def test_a_city_top_list_is_its_worst_rows_in_order_ties_by_name(app, db, world):
    """The top lists read a bound from the city's index and sort only the rows within it:
    the same rows, in the same order, as sorting every village row (ties at the cut by name)."""
    from tracker.dashboard.models import cam_up_rate_of
    from tracker.dashboard.services import top_problems
    from tracker.models import Region

    with app.test_request_context():
        compute_period(PERIOD, world.city.path, TODAY)
        rows = db.session.scalars(select(VillageScore).filter_by(period=PERIOD.key)).all()
        assert len(rows) >= 4
        names = dict(db.session.execute(select(Region.id, Region.name)).all())
        # Overdue: one village alone at the top, every other one tied below it; 完好率:
        # two tied darkest, one in between, one without counted seconds (not listed).
        by_name = sorted(rows, key=lambda r: names[r.region_id])
        for i, row in enumerate(by_name):
            row.matters_overdue_open = 9 if i == len(by_name) - 1 else 4
            row.cam_open_s, row.cam_unknown_s, row.cam_excused_s = 1000, 100, 0
            row.cam_up_s = (450, 700, 450)[i % 3]
            if i == 1:
                row.cam_open_s = row.cam_unknown_s = 0
            row.cam_up_rate = cam_up_rate_of(
                row.cam_up_s, row.cam_open_s, row.cam_unknown_s, row.cam_excused_s
            )
        db.session.flush()
        for limit in (1, 2, 3, len(rows) + 1):
            problems = top_problems(world.city, PERIOD, limit=limit)
            worst = sorted(
                (r for r in rows if r.matters_overdue_open > 0),
                key=lambda r: (-r.matters_overdue_open, names[r.region_id]),
            )[:limit]
            assert [p.region_id for p in problems["overdue"]] == [r.region_id for r in worst]
            counted = [r for r in rows if r.cam_up_rate is not None]
            darkest = sorted(counted, key=lambda r: (r.cam_up_rate, names[r.region_id]))[:limit]
            assert [(p.region_id, p.value) for p in problems["dark"]] == [
                (r.region_id, r.cam_up_s / (r.cam_open_s - r.cam_unknown_s)) for r in darkest
            ]
    assert by_name[1].cam_up_rate is None


def test_the_roll_up_keeps_the_rate_the_darkest_halls_are_ordered_by(app, db, world):
    with app.test_request_context():
        compute_period(PERIOD, world.city.path, TODAY)
    for row in db.session.scalars(select(VillageScore).filter_by(period=PERIOD.key)):
        counted = row.cam_open_s - row.cam_unknown_s - row.cam_excused_s
        assert row.cam_up_rate == (row.cam_up_s / counted if counted > 0 else None)
        if row.region_id == world.village_a1a.id:
            assert row.cam_up_rate == 43_200 / 50_400  # the fixture's 6/7 (module docstring)
