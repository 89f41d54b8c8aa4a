"""The hall's resident services (场所功能提升): rules, the hall page beside the cameras,
the Excel export, the API."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from openpyxl import load_workbook

from tests.factories import on_test_day
from tracker import clock
from tracker.halls import resident
from tracker.halls import services as halls
from tracker.halls.models import ActivityUnit, ResidentKind


def _hall(world, village=None):
    return halls.create_hall(village or world.village_a1a, halls.HallData(name="便民服务中心"))


def _input(**kw) -> resident.ResidentInput:
    data = {
        "kind": ResidentKind.ecommerce,
        "name": "农村电商服务站",
        "provider": "县电商公共服务中心",
        "since": clock.today() - timedelta(days=100),
        "unit": ActivityUnit.transactions,
        "opening_hours": "工作日 08:30-17:00",
        "contact_phone": "13912345678",
    }
    data.update(kw)
    return resident.ResidentInput(**data)


def test_a_service_keeps_one_figure_a_month(world, db):
    service = resident.create_service(_hall(world), _input())
    month = clock.today().replace(day=1)
    resident.record_activity(service, month, 40)
    resident.record_activity(service, month, 42)  # a correction
    assert [(m.month, m.value) for m in service.months] == [(month, 42)]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": " "}, "name"),
        ({"provider": ""}, "provider"),
        ({"since": timedelta(days=1)}, "since"),
        ({"until": timedelta(days=-200)}, "until"),
        ({"contact_phone": "abc"}, "contact_phone"),
    ],
)
def test_bad_service_input_names_its_field(world, db, change, field):
    with pytest.raises(resident.ResidentError) as err:
        resident.create_service(_hall(world), _input(**on_test_day(change)))
    assert err.value.field == field


def test_months_outside_the_service_are_refused(world, db):
    service = resident.create_service(_hall(world), _input(since=date(2025, 5, 10)))
    for month in (date(2025, 4, 1), clock.today().replace(day=1) + timedelta(days=40)):
        with pytest.raises(resident.ResidentError) as err:
            resident.record_activity(service, month, 3)
        assert err.value.field == "month"
    resident.record_activity(service, date(2025, 5, 1), 3)
    with pytest.raises(resident.ResidentError) as err:
        resident.update_service(service, _input(since=date(2025, 7, 1)))
    assert err.value.field == "since"


def test_the_hall_page_shows_services_beside_cameras(world, db, login):
    hall = _hall(world)
    service = resident.create_service(hall, _input())
    resident.record_activity(service, clock.today().replace(day=1), 77)
    db.session.commit()
    client = login(world.users["town_a1_editor"])
    html = client.get(f"/halls/{hall.id}").get_data(as_text=True)
    assert "入驻服务" in html and "农村电商服务站" in html and "77" in html
    english = client.get(f"/halls/{hall.id}?lang=en").get_data(as_text=True)
    assert "Resident services" in english
    detail = client.get(f"/halls/services/{service.id}").get_data(as_text=True)
    assert "139****5678" in detail and "13912345678" not in detail


def test_the_activity_form_answers_422_beside_the_field(world, db, login):
    service = resident.create_service(_hall(world), _input())
    db.session.commit()
    client = login(world.users["town_a1_editor"])
    resp = client.post(f"/halls/services/{service.id}", data={"month": "2026-13", "value": "5"})
    assert resp.status_code == 422 and "月份" in resp.get_data(as_text=True)
    resp = client.post(
        f"/halls/services/{service.id}", data={"month": f"{clock.today():%Y-%m}", "value": "5"}
    )
    assert resp.status_code == 302


def test_the_export_has_a_column_a_month_and_masks_phones(world, db, login):
    hall = _hall(world)
    service = resident.create_service(hall, _input())
    resident.record_activity(service, clock.today().replace(day=1), 12)
    db.session.commit()
    client = login(world.users["town_a1_editor"])
    resp = client.get(f"/halls/services.xlsx?hall_id={hall.id}")
    ws = load_workbook(io.BytesIO(resp.data)).active
    rows = list(ws.iter_rows(values_only=True))
    header = rows[1]
    assert header[-1] == f"{clock.today():%Y-%m}" and rows[2][-1] == 12
    assert not any("13912345678" in str(c) for r in rows for c in r)
    assert (
        client.get(f"/halls/services.xlsx?hall_id={_hall(world, world.village_b1a).id}").status_code
        == 404
    )


def test_the_api_registers_lists_and_types_in(world, db, login):
    hall = _hall(world)
    db.session.commit()
    client = login(world.users["town_a1_editor"])
    body = {
        "hall_id": hall.id,
        "kind": "bank",
        "name": "助农取款点",
        "provider": "吉林银行",
        "since": (clock.today() - timedelta(days=40)).isoformat(),
        "unit": "transactions",
    }
    resp = client.post("/api/v1/hall-services", json=body)
    assert resp.status_code == 201, resp.get_json()
    sid = resp.get_json()["id"]
    bad = client.post("/api/v1/hall-services", json={**body, "since": "2999-01-01"})
    assert bad.status_code == 422
    month = f"{clock.today():%Y-%m}"
    resp = client.post(f"/api/v1/hall-services/{sid}/months", json={"month": month, "value": 9})
    assert resp.status_code == 200 and resp.get_json()["months"] == [{"month": month, "value": 9}]
    bad = client.post(f"/api/v1/hall-services/{sid}/months", json={"month": "2026-Q1", "value": 9})
    assert bad.status_code == 422 and "month" in bad.get_json()["error"]["fields"]
    listed = client.get(f"/api/v1/hall-services?hall_id={hall.id}").get_json()
    assert listed["total"] == 1 and listed["items"][0]["kind_label"] == "银行（金融）服务点"
    viewer = login(world.users["county_a_viewer"])
    assert viewer.post("/api/v1/hall-services", json=body).status_code == 403
