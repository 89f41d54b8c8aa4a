"""The county dashboard in Chromium: overview, drill-down, village explanation, inspection print.

A dozen extra villages with 14 months of meetings, matters and camera figures
(deterministic random) are added to the e2e world so the overview looks like a
county's. Screenshots at 1366 and 390 px when SCREENSHOTS=DIR is set.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from tests.e2e.conftest import new_e2e_app, seed_world, serve

pytestmark = pytest.mark.e2e

KINDS_MONTHLY = ("branch_committee_meeting", "theme_party_day")
KINDS_QUARTERLY = ("branch_general_meeting", "party_lecture")


def _utc(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC) - timedelta(hours=8)


def _seed_village(rng: random.Random, village: Any, county: Any, user: Any, since: date) -> None:
    from tracker.extensions import db
    from tracker.halls.models import Camera, CameraDailyRollup, ServiceHall, Station
    from tracker.matters.models import MatterKind, MatterType, ServiceMatter
    from tracker.meetings.models import Meeting
    from tracker.models import Branch, Member, PartyGroup

    today = datetime.now(UTC).date()
    branch = db.session.query(Branch).filter_by(region_id=village.id).one()
    groups = db.session.query(PartyGroup).filter_by(branch_id=branch.id).all()
    host = db.session.query(Member).filter_by(branch_id=branch.id).first()
    p = rng.choice([0.98, 0.95, 0.9, 0.8, 0.6, 0.4])

    def meet(kind: str, day: date, group: int | None = None) -> None:
        if day >= today:
            return
        late = rng.random() < 0.1
        entered = min(day + timedelta(days=12 if late else 1), today)
        db.session.add(
            Meeting(
                branch_id=branch.id,
                region_id=village.id,
                kind=kind,
                group_id=group,
                started_at=_utc(day, 9),
                ended_at=_utc(day, 11),
                place="村部",
                host_id=host.id,
                recorder="记录员",
                topics="学习传达上级精神",
                quorum_met=True if kind == "branch_general_meeting" else None,
                entered_at=_utc(entered, 16),
                late=late,
                late_working_days=8 if late else 0,
                version=2 if rng.random() < 0.05 else 1,
            )
        )

    day = date(since.year, since.month, 1)
    while day < today:
        for kind in KINDS_MONTHLY:
            if rng.random() < p:
                meet(kind, day + timedelta(days=rng.randint(0, 26)))
        for g in groups:
            if rng.random() < p:
                meet("party_group_meeting", day + timedelta(days=rng.randint(0, 26)), g.id)
        if day.month % 3 == 1:
            for kind in KINDS_QUARTERLY:
                if rng.random() < p:
                    meet(kind, day + timedelta(days=rng.randint(0, 80)))
        if day.month == 3 and rng.random() < p:
            meet("heart_to_heart_talk", day + timedelta(days=5))
        day = (day + timedelta(days=32)).replace(day=1)
    mtype = db.session.query(MatterType).filter_by(region_id=county.id).first()
    if mtype is None:
        mtype = MatterType(
            region_id=county.id,
            name="证明开具",
            kind=MatterKind.promised,
            promised_days=5,
            handling_level="village",
            materials=[],
        )
        db.session.add(mtype)
        db.session.flush()
    day, serial = since, 0
    while day < today - timedelta(days=3):
        day += timedelta(days=rng.randint(4, 12))
        serial += 1
        r = rng.random()
        done = day + timedelta(days=rng.randint(0, 5)) if r > 0.06 else None
        on_time = None if done is None else r > 0.15
        bad = done is not None and rng.random() < 0.08
        db.session.add(
            ServiceMatter(
                region_id=village.id,
                serial_no=f"{day.year}-{serial:04d}",
                matter_type_id=mtype.id,
                applicant_name="村民",
                applicant_phone="13800000000",
                channel="in_person",
                received_at=_utc(day, 10),
                received_on=day,
                first_responder_id=user.id,
                kind=MatterKind.promised,
                promised_days=5,
                status="completed" if done else "accepted",
                due_on=day + timedelta(days=7),
                completed_on=done if done and done < today else None,
                on_time=on_time if done and done < today else None,
                rating="dissatisfied" if bad else None,
                callback_due_on=(done + timedelta(days=7)) if bad and done else None,
                called_back_on=(done + timedelta(days=3)) if bad and done and r > 0.4 else None,
                callback_on_time=True if bad and r > 0.4 else None,
            )
        )
    hall = ServiceHall(region_id=village.id, name=f"{village.name}便民服务大厅", weekly_hours={})
    db.session.add(hall)
    station = db.session.query(Station).filter_by(region_id=county.id).first()
    if station is None:
        station = Station(
            region_id=county.id,
            name=f"站{uuid.uuid4().hex[:6]}",
            token_hash=uuid.uuid4().hex * 2,
            token_prefix="e2e",
        )
        db.session.add(station)
    db.session.flush()
    flaky = rng.choice([0.0, 0.02, 0.05, 0.3])
    for k in range(2):
        cam = Camera(
            hall_id=hall.id,
            region_id=village.id,
            station_id=station.id,
            name=f"摄像头{k + 1}",
            stream_url_encrypted="-",
            stream_url_masked="rtsp://***@10.0.0.1/1",
            thresholds={},
        )
        db.session.add(cam)
        db.session.flush()
        d = since
        while d < today:
            if d.weekday() < 5:
                down = rng.randint(3600, 20000) if rng.random() < flaky else 0
                db.session.add(
                    CameraDailyRollup(
                        camera_id=cam.id,
                        day=d,
                        region_id=village.id,
                        open_s=27000,
                        up_s=27000 - down,
                        down_online_s=down,
                    )
                )
            d += timedelta(days=1)


# The dashboard adds a dozen villages with halls and cameras; it gets its own
# database and live server so the shared e2e world of the other packages'
# browser tests (which count cameras and rows) stays as they expect.
@pytest.fixture(scope="module")
def e2e_app(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return new_e2e_app(tmp_path_factory, "e2e-dash")


@pytest.fixture(scope="module")
def e2e_world(e2e_app: Any) -> Any:
    return seed_world(e2e_app)


@pytest.fixture(scope="module")
def live_server(e2e_app: Any) -> Iterator[str]:
    with serve(e2e_app) as url:
        yield url


@pytest.fixture(scope="module")
def dash_e2e(e2e_app: Any, e2e_world: Any) -> dict[str, Any]:
    from tracker.extensions import db
    from tracker.models import Branch, Region, RegionLevel, User
    from tracker.org.services import add_member, create_branch, create_group, create_region

    rng = random.Random(7)
    with e2e_app.test_request_context():
        a1a = db.session.get(Region, e2e_world["villages"]["a1a"])
        town_a1 = a1a.parent
        county = town_a1.parent
        town_a2 = db.session.get(Region, e2e_world["villages"]["a2a"]).parent
        user = db.session.query(User).filter_by(username=e2e_world["users"]["town_a1_editor"]).one()
        since = (datetime.now(UTC).date() - timedelta(days=430)).replace(day=1)
        extra_town = create_region("镇甲三", RegionLevel.township, county)
        names = [
            "东风",
            "向阳",
            "红星",
            "永安",
            "新立",
            "前锋",
            "富民",
            "长青",
            "双河",
            "团山",
            "三合",
            "兴华",
        ]
        for i, name in enumerate(names):
            town = (town_a1, town_a2, extra_town)[i % 3]
            v = create_region(f"{name}村", RegionLevel.village, town)
            br = create_branch(v, founded_on=date(2000, 1, 1))
            br.tracked_from = since
            groups = [create_group(br, n, since) for n in ("第一党小组", "第二党小组")]
            for j in range(7):
                add_member(br, f"{name}党员{j}", group=groups[j % 2], joined_on=date(2010, 1, 1))
        db.session.flush()
        villages = (
            db.session.query(Region)
            .filter(Region.level == RegionLevel.village, Region.path.like(county.path + "%"))
            .all()
        )
        for v in villages:
            b = db.session.query(Branch).filter_by(region_id=v.id).one()
            b.tracked_from = since
            _seed_village(rng, v, county, user, since)
        db.session.commit()
        return {"county": county.id, "town": town_a1.id, "village": a1a.id}


def _last_month() -> str:
    today = datetime.now(UTC).date()
    first = today.replace(day=1) - timedelta(days=1)
    return f"{first.year}-{first.month:02d}"


def test_county_overview_drills_down_to_the_village(page_for, e2e_world, dash_e2e, shoot):
    page = page_for(e2e_world["users"]["county_a_admin"])
    page.click("text=合规看板")
    page.wait_for_selector("#child-table")
    assert "县甲" in page.content()
    page.goto(f"/dashboard/r/{dash_e2e['county']}?period={_last_month()}")
    page.wait_for_selector("svg.vgrid")
    content = page.content()
    assert "镇甲一" in content and "缺失最多的会议" in content and "数据截至" in content
    shoot(page, "dashboard-county-desktop")
    page.click("#child-table >> text=镇甲一")
    page.wait_for_url(lambda url: f"/r/{dash_e2e['town']}" in url and _last_month() in url)
    assert "村甲一甲" in page.content()
    shoot(page, "dashboard-township-desktop")
    page.click("#child-table >> text=村甲一甲")
    page.wait_for_url(lambda url: f"/r/{dash_e2e['village']}" in url and _last_month() in url)
    content = page.content()
    assert "会议履职" in content and "督查打印页" in content
    shoot(page, "dashboard-village-desktop")
    page.click("text=督查打印页")
    page.wait_for_selector("text=督查意见")
    shoot(page, "dashboard-inspect-desktop")
    page.emulate_media(media="print")
    shoot(page, "dashboard-inspect-print")


def test_city_overview_and_printable_report(page_for, e2e_world, dash_e2e, shoot):
    page = page_for(e2e_world["users"]["city_admin"])
    page.goto("/dashboard/")
    page.wait_for_selector("#child-table")
    assert "县甲" in page.content() and "县乙" in page.content()
    shoot(page, "dashboard-city-desktop")
    page.goto(f"/dashboard/r/{dash_e2e['county']}/report?period={_last_month()}")
    assert "合规报告" in page.content()
    page.emulate_media(media="print")
    shoot(page, "dashboard-report-print")


def test_period_selector_keeps_the_region(page_for, e2e_world, dash_e2e):
    page = page_for(e2e_world["users"]["county_a_admin"])
    page.goto(f"/dashboard/r/{dash_e2e['town']}?period={_last_month()}")
    page.click("text=季")
    page.wait_for_url(lambda url: "-Q" in url and f"/r/{dash_e2e['town']}" in url)
    assert "季度" in page.content()


def test_dashboard_fits_a_phone(page_for, e2e_world, dash_e2e, shoot):
    page = page_for(e2e_world["users"]["county_a_admin"], phone=True)
    for name, url in (
        ("county", f"/dashboard/r/{dash_e2e['county']}?period={_last_month()}"),
        ("township", f"/dashboard/r/{dash_e2e['town']}?period={_last_month()}"),
        ("village", f"/dashboard/r/{dash_e2e['village']}?period={_last_month()}"),
        ("inspect", f"/dashboard/r/{dash_e2e['village']}/inspect?period={_last_month()}"),
    ):
        page.goto(url)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 392, f"{name} page is {width}px wide on a phone"
        if name in ("county", "township"):
            # the children's table fits without scrolling sideways; what falls short is named
            table = page.locator("#child-table")
            assert table.evaluate("t => t.scrollWidth <= t.parentElement.clientWidth"), name
            weakest = page.locator("#child-table .weakest").all_inner_texts()
            assert weakest and all(w.startswith("失分最多：") for w in weakest), weakest
        shoot(page, f"dashboard-{name}-phone")


def test_township_editor_cannot_open_another_township(page_for, e2e_world, dash_e2e):
    page = page_for(e2e_world["users"]["town_b1_editor"])
    resp = page.goto(f"/dashboard/r/{dash_e2e['town']}")
    assert resp is not None and resp.status == 404
