"""The wall finds faults: 离线 and 画面异常 apart, faults first, 只看异常, clickable counts."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.tracker.test_station_api import make_setup, post_reports, state
from tracker.halls import rules, services


@pytest.fixture
def setup(world: Any, db: Any) -> Any:
    s = make_setup(world)
    # A third camera with no station and no report yet.
    s.cam3 = services.create_camera(
        s.hall, services.CameraData(name="档案室", stream_url="rtsp://u:p@10.0.0.9/c3")
    )
    db.session.commit()
    return s


def _tiles(page: str) -> list[tuple[str, str]]:
    return re.findall(r'data-camera="([^"]+)" data-condition="([^"]+)"', page)


def test_condition_separates_no_stream_from_bad_picture():
    assert rules.condition("down", "no_video") == "offline"
    assert rules.condition("down", "unreachable") == "offline"
    assert rules.condition("down", "frozen") == "picture"
    assert rules.condition("down", "black") == "picture"
    assert rules.condition("up", None) == "up"
    assert rules.condition(None, None) == "unknown"
    assert list(rules.CONDITION_LABELS.values()) == ["离线", "画面异常", "未知", "正常"]


def test_wall_orders_faults_first_labels_them_apart_and_filters(setup, login, world, db, client):
    s = setup
    resp = post_reports(
        client,
        s.token,
        [state(s.cam1, "08:00", "up"), state(s.cam2, "08:00", "down", "frozen")],
    )
    assert resp.status_code == 200
    town = login(world.users["town_a1_editor"])
    page = town.get("/halls/wall").get_data(as_text=True)
    # 画面异常 first, then unknown, then fine.
    assert _tiles(page) == [("办事窗口", "picture"), ("档案室", "unknown"), ("大厅全景", "up")]
    assert "画面异常·画面冻结" in page
    counts = dict(re.findall(r'data-count="(\w+)"[^>]*>[^<]*?(\d+)</a>', page))
    assert counts == {"offline": "0", "picture": "1", "unknown": "1", "up": "1"}
    # The counts are links to their filter; 只看异常 keeps only faults.
    assert 'href="/halls/wall/' in page and "show=picture" in page
    region = world.town_a1.id
    faults = town.get(f"/halls/wall/{region}?show=faults").get_data(as_text=True)
    assert _tiles(faults) == [("办事窗口", "picture")]
    up_only = town.get(f"/halls/wall/{region}?show=up").get_data(as_text=True)
    assert _tiles(up_only) == [("大厅全景", "up")]
    # A stream that is gone is 离线, counted apart from the bad picture.
    post_reports(client, s.token, [state(s.cam1, "09:00", "down", "no_video")])
    page = town.get("/halls/wall").get_data(as_text=True)
    assert _tiles(page)[0] == ("大厅全景", "offline")
    counts = dict(re.findall(r'data-count="(\w+)"[^>]*>[^<]*?(\d+)</a>', page))
    assert counts["offline"] == "1" and counts["picture"] == "1"


def test_wall_tiles_carry_a_24_hour_bar_and_warn_about_an_unassigned_camera(setup, login, world):
    page = login(world.users["town_a1_editor"]).get("/halls/wall").get_data(as_text=True)
    assert page.count('class="timeline strip"') == 3
    tile = page[page.index('data-camera="档案室"') :]
    assert "未分配监控站" in tile[: tile.index("</a>")]
    tile = page[page.index('data-camera="大厅全景"') :]
    assert "未分配监控站" not in tile[: tile.index("</a>")]


def test_age_filter():
    from datetime import timedelta

    from tracker.halls.views import age_filter
    from tracker.models import utcnow

    assert age_filter(utcnow() - timedelta(minutes=7)) == "7 分钟前"
    assert age_filter(utcnow() - timedelta(hours=5)) == "5 小时前"
    assert age_filter(None) == "—"


def test_home_page_counts_no_stream_and_bad_picture_apart(setup, login, world, client):
    s = setup
    post_reports(
        client,
        s.token,
        [state(s.cam1, "08:00", "down", "unreachable"), state(s.cam2, "08:00", "down", "black")],
    )
    page = login(world.users["town_a1_editor"]).get("/").get_data(as_text=True)
    assert "摄像头离线" in page and "摄像头画面异常" in page
    assert "show=offline" in page and "show=picture" in page


def test_unassigned_camera_is_flagged_on_its_page_the_hall_and_the_list(setup, login, world):
    client = login(world.users["town_a1_editor"])
    assert "未分配监控站" in client.get(f"/halls/cameras/{setup.cam3.id}").get_data(as_text=True)
    assert "未分配监控站" not in client.get(f"/halls/cameras/{setup.cam1.id}").get_data(
        as_text=True
    )
    hall = client.get(f"/halls/{setup.hall.id}").get_data(as_text=True)
    assert hall.count("未分配监控站") == 1
    assert "未分配监控站" in client.get("/halls/").get_data(as_text=True)


def test_monthly_report_defaults_to_the_last_complete_month(setup, login, world):
    from datetime import date

    from tracker import clock

    client = login(world.users["county_a_viewer"])
    with clock.frozen(date(2026, 3, 5)):
        page = client.get(f"/halls/report?region_id={world.county_a.id}").get_data(as_text=True)
    assert 'value="2026-02" selected' in page


def test_home_and_dashboard_count_offline_and_picture_faults_apart(client, world, db, login):
    from tracker.halls.figures import camera_conditions

    s = make_setup(world)
    cam3 = services.create_camera(
        s.hall,
        services.CameraData(name="三号", stream_url="rtsp://10.0.0.9/3", station_id=s.station.id),
    )
    db.session.commit()
    post_reports(
        client,
        s.token,
        [
            state(s.cam1, "08:00", "down", "unreachable"),
            state(s.cam2, "08:00", "down", "frozen"),
            state(cam3, "08:00", "down", "black"),
        ],
    )
    counts = camera_conditions(world.county_a.path)
    assert counts["offline"] == 1 and counts["picture"] == 2
    user = login(world.users["county_a_admin"])
    home = user.get("/").get_data(as_text=True)
    assert "摄像头离线" in home and "摄像头画面异常" in home
    page = user.get(f"/dashboard/r/{world.county_a.id}").get_data(as_text=True)
    got = dict(re.findall(r'data-figure="cameras_(\w+)">\s*<span[^>]*>(\d+)</span>', page))
    assert got["offline"] == "1" and got["picture"] == "2"
