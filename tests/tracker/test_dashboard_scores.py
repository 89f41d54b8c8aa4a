"""The dashboard is right: scores of a small fixture region against hand-computed values.

Fixture (``dash_world``), period 2025-09, all of it in the past:

village 村甲一甲 (a1a)
  meetings: 支部党员大会 2025-08-10 (Q3, quorum met) · 支部委员会 09-05 · 党小组会 group 1
  09-06 entered late (补录) · no 党小组会 for group 2 · no 党课 in Q3 · 主题党日 09-20 edited
  (version 2) · 谈心谈话 2025-03-01 (the year's)
  → obligations 7 settled: met 4, met late 1, missing 2 → 5/7
  → records of September 3, late 1, edited 1 → on time 2/3
  matters: M1 on time, M2 late, M3 open and overdue (due 09-10), M4 on time with a bad
  rating called back on time, M5 on time with a bad rating never called back
  → 限时办结 3/5, 差评回访 1/2
  camera (one): 2 days open 8 h; day 2: up 4 h, offline 2 h (1 h excused), picture bad 1 h,
  unknown 1 h → counted 57,600 − 3,600 − 3,600 = 50,400 s, up 43,200 s → 6/7
  points: 71.43·40 + 74.07·10 + 63.16·20 + 50·5 + 90.23·20 over 95 = 72.8 (amber)
villages a1b, a2a, b1a: nothing held → 0/7 meetings, nothing else applies → 0.0 (red)
township 镇甲一 = mean(72.8, 0.0) = 36.4; county 县甲 = mean(72.8, 0, 0) = 24.3.
"""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from tests.factories import World
from tracker.dashboard import rules
from tracker.periods import Period

PERIOD = Period.parse("2025-09")
TODAY = date(2026, 11, 26)


def _at(day: str, hour: int = 9) -> datetime:
    d = date.fromisoformat(day)
    return datetime(d.year, d.month, d.day, hour, tzinfo=UTC) - timedelta(hours=8)


def build_dash_world(db: Any, world: World) -> dict[str, Any]:
    """Meetings, matters and a camera for village a1a (see the module docstring)."""
    from tracker.halls.models import (
        Camera,
        CameraDailyRollup,
        CameraStateChange,
        ServiceHall,
        Station,
        StationHeartbeat,
    )
    from tracker.matters.models import MatterKind, MatterType, ServiceMatter
    from tracker.meetings.models import Meeting

    v = world.village_a1a
    branch = world.branch(v)
    groups = world.groups[v.id]
    host = world.members[v.id][0]
    user = world.users["town_a1_editor"]

    def meeting(kind: str, day: str, **kw: Any) -> Meeting:
        m = Meeting(
            branch_id=branch.id,
            region_id=v.id,
            kind=kind,
            started_at=_at(day),
            ended_at=_at(day, 11),
            place="村部",
            host_id=host.id,
            recorder="记录员",
            topics="议题",
            entered_at=_at(day, 12),
            **kw,
        )
        db.session.add(m)
        return m

    meetings = {
        "general": meeting(
            "branch_general_meeting", "2025-08-10", quorum_met=True, full_members=5, full_present=4
        ),
        "committee": meeting("branch_committee_meeting", "2025-09-05"),
        "group1": meeting(
            "party_group_meeting",
            "2025-09-06",
            group_id=groups[0].id,
            late=True,
            late_working_days=6,
        ),
        "theme": meeting("theme_party_day", "2025-09-20", version=2),
        "talk": meeting("heart_to_heart_talk", "2025-03-01"),
    }
    mtype = MatterType(
        region_id=world.county_a.id,
        name="低保申请",
        kind=MatterKind.promised,
        promised_days=5,
        handling_level="village",
        materials=[],
    )
    db.session.add(mtype)
    db.session.flush()

    def matter(serial: str, received: str, **kw: Any) -> ServiceMatter:
        m = ServiceMatter(
            region_id=v.id,
            serial_no=serial,
            matter_type_id=mtype.id,
            applicant_name="张三",
            applicant_phone="13800001111",
            channel="in_person",
            received_at=_at(received),
            received_on=date.fromisoformat(received),
            first_responder_id=user.id,
            kind=MatterKind.promised,
            promised_days=5,
            **kw,
        )
        db.session.add(m)
        return m

    done = {"status": "completed"}
    matters = {
        "m1": matter(
            "2025-0001",
            "2025-09-01",
            completed_on=date(2025, 9, 3),
            on_time=True,
            due_on=date(2025, 9, 8),
            **done,
        ),
        "m2": matter(
            "2025-0002",
            "2025-09-02",
            completed_on=date(2025, 9, 15),
            on_time=False,
            due_on=date(2025, 9, 9),
            **done,
        ),
        "m3": matter("2025-0003", "2025-09-03", status="accepted", due_on=date(2025, 9, 10)),
        "m4": matter(
            "2025-0004",
            "2025-09-01",
            completed_on=date(2025, 9, 4),
            on_time=True,
            due_on=date(2025, 9, 8),
            rating="dissatisfied",
            rated_on=date(2025, 9, 4),
            callback_due_on=date(2025, 9, 11),
            called_back_on=date(2025, 9, 10),
            callback_on_time=True,
            **done,
        ),
        "m5": matter(
            "2025-0005",
            "2025-09-01",
            completed_on=date(2025, 9, 5),
            on_time=True,
            due_on=date(2025, 9, 8),
            rating="very_dissatisfied",
            rated_on=date(2025, 9, 5),
            callback_due_on=date(2025, 9, 12),
            **done,
        ),
    }
    hall = ServiceHall(region_id=v.id, name="甲一甲便民服务大厅", weekly_hours={})
    db.session.add(hall)
    db.session.flush()
    station = Station(
        region_id=world.county_a.id,
        name=f"县甲机房{uuid.uuid4().hex[:8]}",
        token_hash=uuid.uuid4().hex * 2,
        token_prefix="x",
    )
    db.session.add(station)
    db.session.flush()
    cam = Camera(
        hall_id=hall.id,
        region_id=v.id,
        station_id=station.id,
        name="大厅全景",
        stream_url_encrypted="-",
        stream_url_masked="rtsp://***@h/1",
        thresholds={},
    )
    db.session.add(cam)
    db.session.flush()
    db.session.add_all(
        [
            CameraDailyRollup(
                camera_id=cam.id, day=date(2025, 9, 1), region_id=v.id, open_s=28800, up_s=28800
            ),
            CameraDailyRollup(
                camera_id=cam.id,
                day=date(2025, 9, 2),
                region_id=v.id,
                open_s=28800,
                up_s=14400,
                down_online_s=7200,
                down_picture_s=3600,
                unknown_s=3600,
                excused_online_s=3600,
            ),
            # The station watched 09:30–12:00 (a heartbeat every hour covers 2.5 h).
            StationHeartbeat(
                uuid=str(uuid.uuid4()),
                station_id=station.id,
                at=_at("2025-09-02", 9) + timedelta(minutes=30),
                interval_s=3600,
            ),
            CameraStateChange(
                uuid=str(uuid.uuid4()),
                camera_id=cam.id,
                station_id=station.id,
                at=_at("2025-09-02", 10),
                state="down",
                cause="unreachable",
            ),
            CameraStateChange(
                uuid=str(uuid.uuid4()),
                camera_id=cam.id,
                station_id=station.id,
                at=_at("2025-09-02", 12),
                state="up",
            ),
        ]
    )
    db.session.flush()
    return {"meetings": meetings, "matters": matters, "camera": cam, "hall": hall}


@pytest.fixture
def dash_world(db: Any, world: World) -> dict[str, Any]:
    return build_dash_world(db, world)


WEIGHTED_POINTS_A1A = (
    40 * 100 * 5 / 7
    + 10 * 100 * (2 / 3) / 0.9
    + 20 * 100 * 0.6 / 0.95
    + 5 * 50
    + 20 * 100 * (43200 / 50400) / 0.95
)
EXPECTED_A1A = round(WEIGHTED_POINTS_A1A / 95, 1)


def expected_a1a() -> float:
    """69.2: a1a held no training in Q3 2025, so 培训开展 applies with 0 points
    and weight 5 on top of the 72.8 of the other components (weights 95)."""
    return round(WEIGHTED_POINTS_A1A / 100, 1)


def test_hand_computed_value_is_72_8():
    assert EXPECTED_A1A == 72.8
    assert expected_a1a() == 69.2


def test_village_snapshot_matches_hand_computed_figures(app, db, world, dash_world):
    from tracker.dashboard.models import VillageScore
    from tracker.dashboard.services import compute_period

    with app.test_request_context():
        compute_period(PERIOD, world.city.path, TODAY)
    row = (
        db.session.query(VillageScore)
        .filter_by(period="2025-09", region_id=world.village_a1a.id)
        .one()
    )
    assert (row.meetings_due, row.meetings_met, row.meetings_met_late) == (7, 4, 1)
    assert (row.records_total, row.records_late, row.records_edited) == (3, 1, 1)
    assert (row.matters_received, row.matters_due, row.matters_on_time) == (5, 5, 3)
    assert row.matters_overdue_open == 1
    assert (row.bad_ratings, row.callbacks_on_time) == (2, 1)
    assert (row.cam_open_s, row.cam_up_s, row.cam_unknown_s, row.cam_excused_s) == (
        57600,
        43200,
        3600,
        3600,
    )
    assert row.score == expected_a1a()
    assert row.band == "amber"


def test_villages_without_records_score_zero_on_meetings_only(app, db, world, dash_world):
    from tracker.dashboard.models import VillageScore
    from tracker.dashboard.services import compute_period

    with app.test_request_context():
        compute_period(PERIOD, world.city.path, TODAY)
    row = (
        db.session.query(VillageScore)
        .filter_by(period="2025-09", region_id=world.village_a1b.id)
        .one()
    )
    assert (row.meetings_due, row.meetings_met) == (7, 0)
    assert row.score == 0.0 and row.band == "red"


def test_township_and_county_are_the_mean_of_their_villages(app, db, world, dash_world):
    from tracker.dashboard.services import child_scores, compute_period, region_score

    with app.test_request_context():
        compute_period(PERIOD, world.city.path, TODAY)
        town = region_score(world.town_a1, PERIOD)
        county = region_score(world.county_a, PERIOD)
        towns = {r.name: r for r in child_scores(world.county_a, PERIOD)}
    assert town.score.value == round((expected_a1a() + 0.0) / 2, 1)
    assert county.score.value == round(expected_a1a() / 3, 1)
    assert towns["镇甲一"].score.value == town.score.value
    assert towns["镇甲二"].score.value == 0.0
    # Pooled component: obligations of the township's two villages.
    meetings = town.score.component("meetings")
    assert (meetings.numerator, meetings.denominator) == (5, 14)
    assert town.bands.amber == 1 and town.bands.red == 1


def test_missed_obligations_are_listed_by_kind(app, db, world, dash_world):
    from tracker.dashboard.services import compute_period, top_problems

    with app.test_request_context():
        compute_period(PERIOD, world.city.path, TODAY)
        problems = top_problems(world.county_a, PERIOD)
    missed = {p.label: p.value for p in problems["missed"]}
    # a1b and a2a miss everything (incl. 2 party groups each); a1a misses 1 group + 党课.
    assert missed["党小组会"] == 5
    assert missed["党课"] == 3
    assert missed["支部委员会"] == 2
    assert [p.label for p in problems["overdue"]] == ["村甲一甲"]
    assert problems["dark"][0].label == "村甲一甲"


# -- pure rules ------------------------------------------------------------------------


def test_score_renormalises_weights_over_applicable_components():
    sc = rules.score({"meetings": (1, 2), "camera_uptime": (95, 100)})
    # meetings 50 points (weight 40), camera 100 points (weight 20): (2000 + 2000) / 60
    assert sc.value == round(4000 / 60, 1)
    assert sc.component("service_on_time").applies is False
    assert sc.component("meetings").share == pytest.approx(40 / 60)


def test_score_is_none_when_nothing_applies():
    sc = rules.score({})
    assert sc.value is None and sc.band == rules.Band.none


def test_trainings_do_not_apply_without_a_register_and_say_why():
    cfg = dataclasses.replace(
        rules.DEFAULT_CONFIG,
        unavailable={"trainings": "尚无培训台账：没有数据来源，本项不计分（不编造数据）"},
    )
    sc = rules.score({"trainings": (1, 1), "meetings": (1, 1)}, cfg)
    assert sc.component("trainings").applies is False
    assert "培训台账" in sc.component("trainings").reason
    assert sc.value == 100.0


def test_trainings_count_when_the_register_exists():
    sc = rules.score({"trainings": (0, 1), "meetings": (1, 1)})
    # meetings 100 points (weight 40), trainings 0 points (weight 5)
    assert sc.value == round(4000 / 45, 1)


def test_points_reach_full_marks_at_the_target():
    assert rules.points_for(0.95, 0.95) == 100.0
    assert rules.points_for(0.99, 0.95) == 100.0
    assert rules.points_for(0.475, 0.95) == pytest.approx(50.0)


@pytest.mark.parametrize(
    ("value", "band"),
    [(85, "green"), (84.9, "amber"), (60, "amber"), (59.9, "red"), (None, "none")],
)
def test_bands_at_their_edges(value, band):
    assert rules.band_for(value).value == band


def test_aggregate_is_the_mean_of_village_scores_not_of_pooled_rates():
    agg = rules.aggregate([100.0, 0.0, None], {"meetings": (7, 14)})
    assert agg.value == 50.0
    assert agg.component("meetings").rate == 0.5


def test_config_weights_and_targets_come_from_settings():
    cfg = rules.ScoringConfig.from_settings({"weight_meetings": 10, "target_meetings": 0.5})
    assert cfg.weights["meetings"] == 10 and cfg.targets["meetings"] == 0.5


# -- charts -----------------------------------------------------------------------------


def test_sparkline_breaks_at_months_without_data_and_colours_the_last_point():
    from tracker.dashboard.charts import COLORS, sparkline

    svg = str(
        sparkline([50.0, None, 90.0, 95.0], ["1月", "2月", "3月", "4月"], rules.DEFAULT_CONFIG)
    )
    assert svg.startswith("<svg") and svg.count("<polyline") == 1
    assert COLORS["green"] in svg and "2月 —" in svg


def test_a_child_row_shows_each_component_rate_with_its_figures_as_the_title():
    from tracker.dashboard.charts import component_cells, weakest

    score = rules.score(
        {"meetings": (5.0, 7.0), "camera_uptime": (43_200.0, 50_400.0)}, rules.DEFAULT_CONFIG
    )
    specs = [rules.COMPONENT_BY_KEY[k] for k in ("meetings", "service_on_time", "camera_uptime")]
    assert str(component_cells(score, specs)) == (
        '<td class="text-end d-none d-md-table-cell " title="5/7">71.4%</td>'
        '<td class="text-end d-none d-md-table-cell text-muted" title="0/0">—</td>'
        '<td class="text-end d-none d-md-table-cell " title="12.0/14.0">85.7%</td>'
    )
    spec, comp = weakest(score, specs)  # meetings lose 40/60 × 28.6, cameras 20/60 × 9.8
    assert spec.key == "meetings" and comp.rate == 5 / 7
    assert weakest(rules.score({"meetings": (7.0, 7.0)}, rules.DEFAULT_CONFIG), specs) is None


def test_village_grid_links_every_village_and_names_it():
    from tracker.dashboard.charts import village_grid
    from tracker.dashboard.services import GridCell

    cells = [GridCell(i, f"村{i}", 1 + i // 3, f"镇{1 + i // 3}", 70.0, "amber") for i in range(6)]
    html = str(village_grid(cells, lambda vid: f"/v/{vid}"))
    wide, narrow = html.split('<div class="d-md-none chart-narrow">')
    for svg in (wide, narrow):  # the desktop and the phone drawing
        assert svg.count("<a href=") == 6 and "村5 70.0" in svg and "镇1" in svg


def test_trend_chart_has_a_y_axis_value_labels_and_readable_text():
    """Text ≥ 11 px: the phone drawing is 360 units wide (a 390 px phone shows it ~342 px
    wide) with 12-unit text; the desktop one 640 wide with 13-unit text (≥ 548 px wide)."""
    import re

    from tracker.dashboard.charts import trend_chart

    values = [50.0, 62.5, None, 88.0, 91.25, 79.0]
    config = rules.ScoringConfig(weights={}, targets={})
    html = str(trend_chart(values, [f"{m}月" for m in range(1, 7)], config))
    wide, narrow = html.split('<div class="d-md-none chart-narrow">')
    for svg, width, smallest, shown in ((wide, 640, 13, "91.2"), (narrow, 360, 12, "91")):
        assert f'viewBox="0 0 {width} ' in svg
        sizes = [int(x) for x in re.findall(r'font-size="(\d+)"', svg)]
        assert sizes and min(sizes) >= smallest
        assert re.findall(r'class="axis-y"[^>]*>(\d+)<', svg)[:3] == ["0", "50", "100"]
        labels = re.findall(r'class="value"[^>]*>([\d.]+)<', svg)
        assert len(labels) == 5 and shown in labels  # every month with a score, not the gap


def test_component_bars_mark_components_that_do_not_apply():
    from tracker.dashboard.charts import component_bars

    svg = str(component_bars(rules.score({"meetings": (1, 2)}).components))
    assert "不计分" in svg and "50.0%" in svg
