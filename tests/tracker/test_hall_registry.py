"""Service halls: registry rules, opening hours, exceptions, scope, excuses through the pages."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import select

from tests.tracker.test_station_api import make_setup
from tracker.halls import services
from tracker.halls.models import HallException, OutageExcuse, ServiceHall
from tracker.workdays import WorkCalendar


def test_hall_only_in_a_village_and_names_unique(world, db):
    with pytest.raises(services.HallError, match="村"):
        services.create_hall(world.town_a1, services.HallData(name="镇大厅"))
    services.create_hall(world.village_a1a, services.HallData(name="便民服务中心"))
    with pytest.raises(services.HallError, match="同名"):
        services.create_hall(world.village_a1a, services.HallData(name="便民服务中心"))


def test_weekly_hours_are_validated(world, db):
    with pytest.raises(services.HallError) as exc:
        services.create_hall(
            world.village_a1a, services.HallData(name="X", weekly_hours={"0": [["09:00", "08:00"]]})
        )
    assert exc.value.field == "weekly_hours"


def test_resolved_calendar_closes_holidays_opens_make_up_days_and_applies_exceptions(world, db):
    hall = services.create_hall(world.village_a1a, services.HallData(name="大厅"))
    services.set_exception(hall, date(2026, 10, 9), [], "停电检修")
    hours = services.hall_hours(hall, date(2026, 10, 1), date(2026, 10, 10), WorkCalendar())
    assert hours[date(2026, 10, 1)] == []  # 国庆
    assert hours[date(2026, 10, 9)] == []  # exception (a Friday)
    assert len(hours[date(2026, 10, 10)]) == 2  # 调休 Saturday
    services.set_exception(
        hall, date(2026, 10, 9), [["09:00", "11:00"]]
    )  # replaces, not duplicates
    assert db.session.query(HallException).filter_by(hall_id=hall.id).count() == 1


def test_an_hours_change_applies_from_its_effective_date_and_recomputes_only_those_days(world, db):
    from tracker.halls.models import CameraDailyRollup

    s = make_setup(world)
    hall = s.hall
    for day in (date(2026, 11, 2), date(2026, 11, 9)):  # two Mondays already rolled up
        db.session.add(
            CameraDailyRollup(
                camera_id=s.cam1.id, day=day, region_id=hall.region_id, open_s=27000, up_s=27000
            )
        )
    db.session.flush()
    weekly = {str(d): [["09:00", "12:00"]] for d in range(5)}
    services.update_hall(
        hall, services.HallData(name=hall.name, weekly_hours=weekly, hours_from=date(2026, 11, 5))
    )
    hours = services.hall_hours(hall, date(2026, 11, 2), date(2026, 11, 9), WorkCalendar())
    assert len(hours[date(2026, 11, 4)]) == 2  # the old schedule, morning and afternoon
    assert len(hours[date(2026, 11, 5)]) == 1  # the new one: mornings only
    assert len(hours[date(2026, 11, 9)]) == 1
    rolled = set(
        db.session.scalars(
            select(CameraDailyRollup.day).where(CameraDailyRollup.camera_id == s.cam1.id)
        )
    )
    assert rolled == {date(2026, 11, 2)}  # the day before the change keeps its roll-up
    # A later edit without touching the hours records no change.
    services.update_hall(hall, services.HallData(name="新名字", weekly_hours=weekly))
    hours = services.hall_hours(hall, date(2026, 11, 4), date(2026, 11, 4), WorkCalendar())
    assert len(hours[date(2026, 11, 4)]) == 2


def test_editor_registers_a_hall_with_hours_and_errors_beside_the_field(login, world, db):
    client = login(world.users["town_a1_editor"])
    form: dict[str, Any] = {
        "region_id": str(world.village_a1b.id),
        "name": "乙村便民服务中心",
        "address": "村委会",
    }
    form.update({f"hours_{d}": "08:30-12:00, 13:30-17:30" for d in range(5)})
    form["hours_2"] = "8点到12点"
    resp = client.post("/halls/new", data=form)
    assert resp.status_code == 422 and "时间段应写成" in resp.get_data(as_text=True)
    assert (
        db.session.scalar(select(ServiceHall).where(ServiceHall.name == "乙村便民服务中心")) is None
    )
    form["hours_2"] = "08:30-12:00"
    resp = client.post("/halls/new", data=form)
    assert resp.status_code == 302
    hall = db.session.scalar(select(ServiceHall).where(ServiceHall.name == "乙村便民服务中心"))
    assert (
        hall is not None
        and hall.weekly_hours["2"] == [["08:30", "12:00"]]
        and hall.weekly_hours["6"] == []
    )


def test_editor_cannot_register_a_hall_in_another_township(login, world):
    client = login(world.users["town_a1_editor"])
    resp = client.post("/halls/new", data={"region_id": str(world.village_b1a.id), "name": "X"})
    # Not a choice of this user: refused by the form, nothing saved.
    assert resp.status_code in (422, 404)


def test_viewer_cannot_write(login, world, db):
    s = make_setup(world)
    db.session.commit()
    client = login(world.users["county_a_viewer"])
    assert client.get("/halls/new").status_code == 403
    assert (
        client.post(f"/halls/{s.hall.id}", data={"day": "2026-12-01", "hours": ""}).status_code
        == 403
    )


def test_village_files_an_excuse_and_the_county_decides(login, world, db, app):
    s = make_setup(world)
    db.session.commit()
    village = login(world.users["village_a1a_editor"])
    form = {
        "kind": "power_cut",
        "start": "2025-11-20T09:00",
        "end": "2025-11-20T08:00",
        "reason": "停电",
    }
    resp = village.post(f"/halls/cameras/{s.cam1.id}", data=form)
    assert resp.status_code == 200 and "结束时间应晚于开始时间" in resp.get_data(as_text=True)
    form["end"] = "2025-11-20T11:00"
    assert village.post(f"/halls/cameras/{s.cam1.id}", data=form).status_code == 302
    excuse = db.session.scalar(select(OutageExcuse).where(OutageExcuse.camera_id == s.cam1.id))
    assert excuse is not None and excuse.status.value == "pending"
    assert excuse.start.hour == 1  # 09:00 Beijing = 01:00 UTC
    # A village editor cannot decide; the county admin can.
    assert (
        village.post(f"/halls/excuses/{excuse.id}/decide", data={"decision": "approve"}).status_code
        == 403
    )
    from flask import g

    # The test's app context outlives requests: forget the village user (scope and login).
    g.pop("scope", None)
    g.pop("_login_user", None)
    with app.test_client() as county_client:
        from flask_login.utils import _create_identifier

        with county_client.application.test_request_context(
            environ_base=county_client.environ_base
        ):
            ident = _create_identifier()
        from tracker.auth.services import start_session

        key = start_session(world.users["county_a_admin"], False, 12, 14)
        with county_client.session_transaction() as sess:
            sess["_user_id"] = key
            sess["_fresh"] = True
            sess["_id"] = ident
        resp = county_client.post(
            f"/halls/excuses/{excuse.id}/decide", data={"decision": "approve", "note": "同意"}
        )
        assert resp.status_code == 302
    db.session.refresh(excuse)
    assert excuse.status.value == "approved" and excuse.decision_note == "同意"


def test_monthly_report_page_and_excel(login, world, db):
    make_setup(world)
    db.session.commit()
    client = login(world.users["county_a_viewer"])
    resp = client.get(f"/halls/report?region_id={world.county_a.id}&month=2025-11")
    assert resp.status_code == 200 and "大厅全景" in resp.get_data(as_text=True)
    resp = client.get(f"/halls/report.xlsx?region_id={world.county_a.id}&month=2025-11")
    assert resp.status_code == 200 and resp.data[:2] == b"PK"
    from io import BytesIO

    from openpyxl import load_workbook

    ws = load_workbook(BytesIO(resp.data)).active
    names = [row[3] for row in ws.iter_rows(min_row=3, values_only=True)]
    assert (
        "大厅全景" in names and "办事窗口" in names and "乙村全景" not in names
    )  # county B is not in county A


def test_uptime_api_answers_seconds_and_rates(login, world, db):
    s = make_setup(world)
    db.session.commit()
    client = login(world.users["county_a_viewer"])
    resp = client.get(f"/api/v1/uptime?hall_id={s.hall.id}&day=2025-11-20")
    assert resp.status_code == 200
    body = resp.json
    assert (
        body["open_s"] == 2 * 27000
        and body["unknown_s"] == 2 * 27000
        and body["online_rate"] is None
    )
    assert client.get("/api/v1/uptime?period=2025-11").status_code == 422
    assert client.get(f"/api/v1/uptime?hall_id={s.hall.id}&period=2025-13").status_code == 422


def test_wall_page_renders_for_a_township(login, world, db):
    s = make_setup(world)
    db.session.commit()
    client = login(world.users["town_a1_editor"])
    resp = client.get("/halls/wall")
    text = resp.get_data(as_text=True)
    assert resp.status_code == 200 and s.hall.name in text and 'http-equiv="refresh"' in text
    assert "乙村便民服务中心" not in text  # another county


def test_home_lists_dark_cameras_for_the_township(login, world, db, client):
    from tests.tracker.test_station_api import auth

    s = make_setup(world)
    db.session.commit()
    item = {"uuid": "9b1deb4d-3b7d-4bad-9bdd-2b0d7b3dcb6d", "type": "state", "camera_id": s.cam1.id,
            "at": "2025-11-20T01:00:00Z", "state": "down", "cause": "no_video"}  # fmt: skip
    town = login(world.users["town_a1_editor"])
    town.post("/api/v1/station/reports", json={"items": [item]}, headers=auth(s.token))
    page = town.get("/").get_data(as_text=True)
    assert "摄像头离线" in page
