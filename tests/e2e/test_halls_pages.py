"""The status wall and the camera page in Chromium (desktop 1366 px and phone 390 px)."""

from __future__ import annotations

import hashlib
import random
import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import insert

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="session")
def halls_world(e2e_app: Any, e2e_world: Any) -> dict[str, Any]:
    """Two halls in township A1 with a month of history, snapshots and an excuse."""
    from monitor.simulator import make_frames
    from tracker.extensions import db
    from tracker.halls import services
    from tracker.halls.models import CameraStateChange, ExcuseKind, StationHeartbeat
    from tracker.models import Region, utcnow

    rng = random.Random(7)
    with e2e_app.app_context():
        county = db.session.get(
            Region, db.session.get(Region, e2e_world["villages"]["a1a"]).parent.parent_id
        )
        station, token = services.create_station("县机房", county)
        cams = []
        for key, name in (("a1a", "墙测甲村大厅"), ("a1b", "墙测乙村大厅")):
            village = db.session.get(Region, e2e_world["villages"][key])
            hall = services.create_hall(
                village, services.HallData(name=name, address=f"{village.name}村委会")
            )
            for cam_name in ("大厅全景", "办事窗口"):
                cam = services.create_camera(
                    hall,
                    services.CameraData(
                        name=cam_name,
                        stream_url="rtsp://admin:secret@10.1.1.1:554/ch1",
                        station_id=station.id,
                    ),
                )
                cams.append(cam)
        now = utcnow().replace(second=0, microsecond=0)
        start = now - timedelta(days=30)
        for cam in cams:
            cam.created_at = start
        beats = []
        t = start
        silence = now - timedelta(days=3, hours=5)
        while t < now:
            if not silence <= t < silence + timedelta(hours=4):
                beats.append(
                    {
                        "uuid": str(uuid.uuid4()),
                        "station_id": station.id,
                        "at": t,
                        "interval_s": 300,
                        "received_at": t,
                    }
                )
            t += timedelta(minutes=5)
        db.session.execute(insert(StationHeartbeat), beats)
        states = []
        for i, cam in enumerate(cams):
            states.append(_st(cam, station, start, "up"))
            day = start
            while day < now - timedelta(hours=6):
                if rng.random() < 0.25:
                    at = day + timedelta(minutes=rng.randint(0, 600))
                    cause = rng.choice(["unreachable", "frozen", "black", "no_video"])
                    states += [
                        _st(cam, station, at, "down", cause),
                        _st(cam, station, at + timedelta(minutes=rng.choice([20, 60, 180])), "up"),
                    ]
                day += timedelta(days=1)
            if i == 1:  # one camera is down right now
                states.append(_st(cam, station, now - timedelta(hours=2), "down", "black"))
        db.session.execute(insert(CameraStateChange), states)
        services.refresh_status([c.id for c in cams])
        frames = make_frames("live", 320, 240, count=4)
        for i, cam in enumerate(cams):
            for j in range(3):
                data = frames[(i + j) % len(frames)]
                services.store_snapshot(
                    station,
                    cam,
                    str(uuid.uuid4()),
                    now - timedelta(hours=3 - j),
                    "periodic",
                    hashlib.sha256(data).hexdigest(),
                    data,
                )
        excuse = services.file_excuse(
            cams[0],
            now - timedelta(days=6),
            now - timedelta(days=6) + timedelta(hours=2),
            ExcuseKind.power_cut,
            "供电所计划停电",
            None,
        )
        services.decide_excuse(excuse, True, None, "同意")
        db.session.commit()
        return {
            "camera_ids": [c.id for c in cams],
            "town": db.session.get(Region, e2e_world["villages"]["a1a"]).parent_id,
        }


def _st(cam: Any, station: Any, at: Any, state: str, cause: str | None = None) -> dict[str, Any]:
    return {
        "uuid": str(uuid.uuid4()),
        "camera_id": cam.id,
        "station_id": station.id,
        "at": at,
        "state": state,
        "cause": cause,
        "received_at": at,
    }


@pytest.mark.parametrize("phone", [False, True], ids=["desktop", "phone"])
def test_status_wall_shows_every_camera_with_state_and_uptime(
    page_for, shoot, e2e_world, halls_world, phone
):
    page = page_for(e2e_world["users"]["county_a_viewer"], phone=phone)
    page.goto(f"/halls/wall/{halls_world['town']}")
    # Other browser tests share this database: look at this test's two halls only.
    mine = page.locator(".wall-hall", has_text="墙测")
    assert mine.count() == 2
    assert mine.locator(".wall-cam").count() == 4
    assert mine.locator(".wall-cam .badge-state").first.is_visible()
    # 画面异常 (black) is its own label, apart from 离线.
    assert mine.locator(".badge-state", has_text="画面异常").count() == 1
    assert mine.locator("svg.timeline.strip").count() == 4
    assert mine.locator(".snap-age").count() == 4
    assert mine.locator("img.snap-thumb").count() == 4
    assert page.locator('meta[http-equiv="refresh"]').count() == 1
    shoot(page, f"halls-wall-{'390' if phone else '1366'}")


@pytest.mark.parametrize("phone", [False, True], ids=["desktop", "phone"])
def test_camera_page_shows_timelines_outages_excuses_and_snapshots(
    page_for, shoot, e2e_world, halls_world, phone
):
    page = page_for(e2e_world["users"]["town_a1_editor"], phone=phone)
    cam_id = halls_world["camera_ids"][0]
    page.goto(f"/halls/cameras/{cam_id}")
    assert page.locator("svg.timeline").count() == 2
    assert page.get_by_text("已批准").first.is_visible()
    assert page.locator(".hash").count() == 3
    content = page.content()
    assert "secret" not in content and "***:***@" in content
    shoot(page, f"halls-camera-{'390' if phone else '1366'}")


def test_report_page_and_out_of_scope_camera(page_for, shoot, e2e_world, halls_world):
    page = page_for(e2e_world["users"]["county_a_viewer"])
    page.goto("/halls/report")
    assert page.locator("table.report-table tbody tr", has_text="墙测").count() == 4
    shoot(page, "halls-report-1366")
    other = page_for(e2e_world["users"]["town_b1_editor"])
    resp = other.goto(f"/halls/cameras/{halls_world['camera_ids'][0]}")
    assert resp is not None and resp.status == 404


@pytest.mark.parametrize("phone", [False, True], ids=["desktop", "phone"])
def test_wall_filters_to_faults_first(page_for, shoot, e2e_world, halls_world, phone):
    page = page_for(e2e_world["users"]["county_a_viewer"], phone=phone)
    page.goto(f"/halls/wall/{halls_world['town']}")
    mine = page.locator(".wall-hall", has_text="墙测")
    # Faults first: the hall with the black camera comes first, its faulty tile first.
    first = page.locator(".wall-hall").first
    assert first.locator(".wall-cam").first.get_attribute("data-condition") == "picture"
    page.click("text=只看异常")  # one click
    page.wait_for_url(lambda url: "show=faults" in url)
    conditions = [c.get_attribute("data-condition") for c in mine.locator(".wall-cam").all()]
    assert conditions == ["picture"]
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"] + 1
    shoot(page, f"halls-wall-faults-{'390' if phone else '1366'}")
    # A count is a link to its own filter.
    page.click("[data-count=up]")
    page.wait_for_url(lambda url: "show=up" in url)
    assert {c.get_attribute("data-condition") for c in mine.locator(".wall-cam").all()} == {"up"}


@pytest.mark.parametrize("phone", [False, True], ids=["desktop", "phone"])
def test_admin_creates_a_station_in_the_ui(page_for, shoot, e2e_world, phone):
    page = page_for(e2e_world["users"]["county_a_admin"], phone=phone)
    name = f"界面机房{'390' if phone else '1366'}"
    page.goto("/halls/")
    page.click("text=监控站")  # click 1
    page.wait_for_url(lambda url: "/halls/stations" in url)
    page.fill("input[name=name]", name)
    page.click("form[action$='/halls/stations'] button")  # click 2
    page.wait_for_selector("#token-value")
    token = page.input_value("#token-value")
    assert token.startswith("st_")
    settings = page.inner_text("#monitor-settings")
    assert f'token = "{token}"' in settings and "tracker_url" in settings
    page.click("[data-copy='#monitor-settings']")
    assert page.locator("tr", has_text=name).count() == 1
    shoot(page, f"halls-station-created-{'390' if phone else '1366'}")
    # Revoke it from the list.
    row = page.locator("tr", has_text=name)
    row.locator("button", has_text="停用").click()
    page.wait_for_selector(f"tr:has-text('{name}') >> text=已停用")
