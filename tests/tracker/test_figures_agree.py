"""One truth per figure: every page, list, export and API tells the same number.

A world with an overdue matter months past due (the backlog), one completed late,
one on time, one not yet due, and in another township one overdue since days; a
camera with an outage inside opening hours (counted), one over the lunch break
(outside opening hours: not counted), one covered by an approved excuse, and a
monitor blind spot (unknown) — one day rolled up, today computed live. For this
month, quarter and year, at village, township and county level, the figures are
compared on: the dashboard page and its API, the village drill-down, the 督查
sheet, the statistics page and its API, the overdue list, the home to-do, the
monthly hall report (page and Excel) and the dashboard's Excel export — and
against an independent reading of the definitions in ``docs/figures.md``.
"""

from __future__ import annotations

import io
import re
import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from tests.tracker.test_matter_figures import add_matter
from tracker.calendar_service import load_calendar
from tracker.periods import Period, PeriodKind

CST = ZoneInfo("Asia/Shanghai")


def _local(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime.combine(day, time(hh, mm), CST).astimezone(UTC)


def _switch(login: Any, user: Any) -> Any:
    from flask import g

    g.pop("scope", None)
    g.pop("_login_user", None)
    return login(user)


# -- the world ------------------------------------------------------------------------------


def build(db: Any, world: Any) -> dict[str, Any]:
    from tracker import clock
    from tracker.halls import services as hs
    from tracker.halls.models import CameraStateChange, ExcuseKind, StationHeartbeat

    today = clock.today()
    cal = load_calendar()
    workday = today - timedelta(days=1)
    while not cal.is_workday(workday):
        workday -= timedelta(days=1)

    def wd_before(n: int) -> date:
        day = today - timedelta(days=n)
        while not cal.is_workday(day):
            day -= timedelta(days=1)
        return day

    matters = {
        "backlog": add_matter(db, world, "A-1", wd_before(200), wd_before(190)),
        "late": add_matter(db, world, "A-2", wd_before(20), wd_before(15), wd_before(10)),
        "on_time": add_matter(db, world, "A-3", wd_before(6), wd_before(1), wd_before(3)),
        "not_due": add_matter(db, world, "A-4", wd_before(1), today + timedelta(days=20)),
        "other_town": add_matter(
            db, world, "B-1", wd_before(12), wd_before(3), village=world.village_a2a
        ),
    }
    hall = hs.create_hall(world.village_a1a, hs.HallData(name="一致大厅"))
    station, _ = hs.create_station(f"一致机房{uuid.uuid4().hex[:6]}", world.county_a)
    cam = hs.create_camera(
        hall, hs.CameraData(name="大厅全景", stream_url="rtsp://h/1", station_id=station.id)
    )
    cam.created_at = _local(workday - timedelta(days=2), 8)
    beats = []
    t = _local(workday, 7)
    while t < _local(today, 23, 55):
        if not (_local(workday, 10) <= t < _local(workday, 10, 40)):  # the monitor is blind
            beats.append(
                StationHeartbeat(
                    uuid=str(uuid.uuid4()), station_id=station.id, at=t, interval_s=300
                )
            )
        t += timedelta(minutes=5)
    db.session.add_all(beats)

    def change(at: datetime, state: str, cause: str | None = None) -> None:
        db.session.add(
            CameraStateChange(
                uuid=str(uuid.uuid4()),
                camera_id=cam.id,
                station_id=station.id,
                at=at,
                state=state,
                cause=cause,
            )
        )

    change(_local(workday, 7), "up")
    change(_local(workday, 9), "down", "unreachable")  # 30 min, counted
    change(_local(workday, 9, 30), "up")
    change(_local(workday, 12, 10), "down", "black")  # lunch break: outside opening hours
    change(_local(workday, 13, 0), "up")
    change(_local(workday, 15), "down", "unreachable")  # 60 min, excused
    change(_local(workday, 16), "up")
    db.session.flush()
    excuse = hs.file_excuse(
        cam, _local(workday, 15), _local(workday, 16), ExcuseKind.power_cut, "计划停电", None
    )
    hs.decide_excuse(excuse, True, None, "同意")
    hs.compute_rollups(days_back=5, today=today)  # the working day is rolled up, today is live
    db.session.flush()
    return {"today": today, "workday": workday, "matters": matters, "camera": cam, "hall": hall}


# -- an independent reading of docs/figures.md ----------------------------------------------


def oracle(matters: list[Any], start: date, end: date, today: date) -> dict[str, int]:
    cut = min(end, today)
    judged = on_time = overdue = 0
    for m in matters:
        done = m.completed_on
        due = m.due_on
        if due is None:
            continue
        in_period = start <= due <= end and ((done is not None and done <= cut) or due < cut)
        backlog = due < start and (done is None or done >= start)
        if in_period or backlog:
            judged += 1
            on_time += bool(m.on_time)
        if m.received_on <= cut and (done is None or done > cut) and due < cut:
            overdue += 1
    return {"judged": judged, "on_time": on_time, "overdue_open": overdue}


# -- reading each surface -------------------------------------------------------------------


def page_component(html: str, key: str) -> tuple[int, int]:
    m = re.search(rf'data-component="{key}" data-num="(\d+)" data-den="(\d+)"', html)
    assert m, key
    return int(m.group(1)), int(m.group(2))


def page_figure(html: str, name: str) -> int:
    m = re.search(rf'data-figure="{name}">(\d+)<', html)
    assert m, name
    return int(m.group(1))


def todo_overdue(html: str) -> int:
    m = re.search(r"服务事项已逾期</div>.*?<span class=\"badge[^>]*>(\d+)</span>", html, re.S)
    return int(m.group(1)) if m else 0


LEVELS = [
    ("village_a1a", "village_a1a_editor"),
    ("town_a1", "town_a1_editor"),
    ("county_a", "county_a_viewer"),
]


def _periods(today: date) -> list[Period]:
    return [
        Period.containing(today, k) for k in (PeriodKind.month, PeriodKind.quarter, PeriodKind.year)
    ]


@pytest.mark.parametrize("level,username", LEVELS)
def test_every_surface_tells_the_same_matter_figures(world, db, login, level, username):
    w = build(db, world)
    today = w["today"]
    node = getattr(world, level)
    client = _switch(login, world.users[username])
    villages = {
        "village_a1a": [world.village_a1a],
        "town_a1": [world.village_a1a, world.village_a1b],
        "county_a": [world.village_a1a, world.village_a1b, world.village_a2a],
    }[level]
    in_scope = [m for m in w["matters"].values() if m.region_id in {v.id for v in villages}]
    # The overdue list and the home to-do: as of today.
    listed = page_figure(client.get("/matters/overdue").get_data(as_text=True), "overdue_open")
    home = todo_overdue(client.get("/").get_data(as_text=True))
    assert listed == home == oracle(in_scope, today, today, today)["overdue_open"]
    for period in _periods(today):
        expected = oracle(in_scope, period.start, period.end, today)
        q = f"period={period.key}"
        page = client.get(f"/dashboard/r/{node.id}?{q}").get_data(as_text=True)
        assert page_component(page, "service_on_time") == (
            expected["on_time"],
            expected["judged"],
        ), period.key
        assert page_figure(page, "overdue_open") == expected["overdue_open"] == listed
        api = client.get(f"/api/v1/dashboard/regions/{node.id}/score?{q}").get_json()
        comp = next(c for c in api["components"] if c["key"] == "service_on_time")
        assert (comp["numerator"], comp["denominator"]) == (expected["on_time"], expected["judged"])
        assert api["backlog"]["overdue_open"] == expected["overdue_open"]
        # The statistics page (the user's own node is the 合计 row) and its API.
        stats = client.get(f"/matters/measures?{q}").get_data(as_text=True)
        row = re.search(
            rf'data-region="{node.id}">.*?data-on-time="(\d+)" data-judged="(\d+)".*?data-overdue="(\d+)"',
            stats,
            re.S,
        )
        assert row, stats
        assert tuple(int(x) for x in row.groups()) == (
            expected["on_time"],
            expected["judged"],
            expected["overdue_open"],
        )
        measures = client.get(
            f"/api/v1/matters/measures?level={node.level.value}"
            f"&start={period.start}&end={period.end}"
        ).get_json()
        mine = next((m for m in measures if m["region_id"] == node.id), None)
        got = (mine["on_time"], mine["judged"], mine["overdue_open"]) if mine else (0, 0, 0)
        assert got == (expected["on_time"], expected["judged"], expected["overdue_open"])
        # The dashboard's Excel export: the 限时办结 sheet, summed over the villages.
        book = load_workbook(io.BytesIO(client.get(f"/dashboard/r/{node.id}/export.xlsx?{q}").data))
        sheet = book["限时办结"]
        rows = [r for r in sheet.iter_rows(min_row=2, values_only=True) if r[1]]
        assert sum(int(r[2] or 0) for r in rows) == expected["on_time"]
        assert sum(int(r[3] or 0) for r in rows) == expected["judged"]
        assert sum(int(r[7] or 0) for r in rows) == expected["overdue_open"]
        if level == "village_a1a":
            for url in (f"/dashboard/r/{node.id}?{q}", f"/dashboard/r/{node.id}/inspect?{q}"):
                html = client.get(url).get_data(as_text=True)
                assert page_figure(html, "matters_judged") == expected["judged"]
                assert page_figure(html, "matters_on_time") == expected["on_time"]
                assert page_figure(html, "overdue_open") == expected["overdue_open"]
                # The problem list has exactly the judged matters that were not on time.
                problems = html.count('<td class="text-danger">逾期') + html.count(
                    '<td class="text-danger">超时办结'
                )
                assert problems == expected["judged"] - expected["on_time"], url


@pytest.fixture
def still_clock() -> Any:
    """The clock stopped at the test's start: today's camera time runs up to *now*, so
    while a hall is open (office hours in the configured zone) a page computed a second
    after the test's own figures would count one second more."""
    from tracker import clock

    with clock.frozen(clock.now()):
        yield


def test_every_surface_tells_the_same_camera_figures(world, db, login, still_clock):
    from tracker.halls.services import uptime_bulk

    w = build(db, world)
    today, cam = w["today"], w["camera"]
    client = _switch(login, world.users["town_a1_editor"])
    day = uptime_bulk([cam.id], w["workday"], w["workday"])[cam.id]
    # The working day, by hand: 7.5 h open; the monitor blind 10:00–10:40 less the
    # 12.5 min a heartbeat covers (32.5 min unknown); 30 min down counted; the lunch-break
    # outage not counted; 60 min excused.
    assert day.open_s == 7 * 3600 + 1800
    assert day.unknown_s == 32 * 60 + 30
    assert day.down_online_s == 30 * 60 + 3600 and day.excused_s == 3600
    assert day.down_picture_s == 0
    for period in _periods(today):
        q = f"period={period.key}"
        totals = uptime_bulk([cam.id], period.start, period.end)[cam.id]
        counted = totals.open_s - totals.unknown_s - totals.excused_s
        pages = {
            "dashboard": client.get(f"/dashboard/r/{world.village_a1a.id}?{q}"),
            "inspect": client.get(f"/dashboard/r/{world.village_a1a.id}/inspect?{q}"),
        }
        for name, resp in pages.items():
            html = resp.get_data(as_text=True)
            assert page_component(html, "camera_uptime") == (totals.up_s, counted), name
            row = re.search(
                rf'data-camera="{cam.id}" data-open-s="(\d+)" data-up-s="(\d+)" '
                rf'data-counted-s="(\d+)"',
                html,
            )
            assert row, name
            assert tuple(int(x) for x in row.groups()) == (totals.open_s, totals.up_s, counted)
            rate = re.search(
                rf'data-camera="{cam.id}".*?data-figure="working_rate">([^<]+)<', html, re.S
            )
            assert rate and rate.group(1) == f"{totals.compliance_intact_rate * 100:.1f}%"
            if w["workday"] >= period.start:
                # The outage list: counted / outside opening hours / excused, in 时/分.
                assert "计入 1 次、30 分" in html, name
        api = client.get(f"/api/v1/dashboard/regions/{world.village_a1a.id}/score?{q}").get_json()
        comp = next(c for c in api["components"] if c["key"] == "camera_uptime")
        assert (comp["numerator"], comp["denominator"]) == (totals.up_s, counted)
        for level in (world.town_a1, world.county_a):
            html = client.get(f"/dashboard/r/{level.id}?{q}").get_data(as_text=True)
            if level == world.county_a:
                continue  # a township user sees its own township only
            assert page_component(html, "camera_uptime") == (totals.up_s, counted)
        book = load_workbook(
            io.BytesIO(client.get(f"/dashboard/r/{world.town_a1.id}/export.xlsx?{q}").data)
        )
        sheet = book["监控完好"]
        assert sheet.cell(row=1, column=3).value == "完好时长（时）"
        rows = [
            r
            for r in sheet.iter_rows(min_row=2, values_only=True)
            if r[1] == world.village_a1a.name
        ]
        assert rows and rows[0][2] == round(totals.up_s / 3600, 1)
        assert rows[0][3] == round(counted / 3600, 1)
    # The monthly hall report (page and Excel) shows the same per-camera rates.
    month = _periods(today)[0]
    totals = uptime_bulk([cam.id], month.start, month.end)[cam.id]
    report = client.get(f"/halls/report?region_id={world.town_a1.id}&month={month.key}").get_data(
        as_text=True
    )
    m = re.search(rf'data-camera="{cam.id}" data-intact="([^"]+)"', report)
    assert m and m.group(1) == (
        "—"
        if totals.compliance_intact_rate is None
        else f"{totals.compliance_intact_rate * 100:.1f}%"
    )
    book = load_workbook(
        io.BytesIO(
            client.get(f"/halls/report.xlsx?region_id={world.town_a1.id}&month={month.key}").data
        )
    )
    ws = book.active
    line = next(r for r in ws.iter_rows(min_row=3, values_only=True) if r[3] == "大厅全景")
    assert line[-1] == totals.compliance_intact_rate
