"""Stations in the UI: create (token shown once), rotate, revoke, scope and rights."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from sqlalchemy import select

from tests.tracker.test_station_api import make_setup
from tracker.halls import services
from tracker.halls.models import Station
from tracker.security import hash_token


@pytest.fixture
def setup(world: Any, db: Any) -> Any:
    s = make_setup(world)
    db.session.commit()
    return s


def _token_on(page: str) -> str:
    match = re.search(r'id="token-value" value="([^"]+)"', page)
    assert match, "token not shown"
    return match.group(1)


def test_admin_creates_a_station_and_sees_its_token_and_settings_once(setup, login, world, db):
    client = login(world.users["county_a_admin"])
    resp = client.post(
        "/halls/stations", data={"name": "县机房二号", "region_id": str(world.county_a.id)}
    )
    page = html.unescape(resp.get_data(as_text=True))
    assert resp.status_code == 200
    token = _token_on(page)
    station = db.session.scalar(select(Station).where(Station.name == "县机房二号"))
    assert station is not None and station.token_hash == hash_token(token)
    assert services.station_for_token(token) is station
    # The settings to paste name this tracker and the token, with a copy button.
    assert f'token = "{token}"' in page and 'tracker_url = "http://tracker.test"' in page
    assert 'data-copy="#monitor-settings"' in page
    # The form to make the next station still offers the regions.
    assert f'<option value="{world.county_a.id}"' in page
    # Shown once: the list page afterwards never holds it.
    assert token not in client.get("/halls/stations").get_data(as_text=True)


def test_bad_station_input_stays_beside_the_field(setup, login, world, db):
    client = login(world.users["county_a_admin"])
    resp = client.post(
        "/halls/stations", data={"name": setup.station.name, "region_id": str(world.county_a.id)}
    )
    assert resp.status_code == 422
    page = resp.get_data(as_text=True)
    assert "已有名为" in page and setup.station.name in page and "token-value" not in page
    resp = client.post("/halls/stations", data={"name": "", "region_id": str(world.county_a.id)})
    assert resp.status_code == 422 and "请填写监控站名称" in resp.get_data(as_text=True)
    # A region of another county is not offered and not accepted.
    resp = client.post(
        "/halls/stations", data={"name": "越界", "region_id": str(world.county_b.id)}
    )
    assert resp.status_code == 422
    assert db.session.scalar(select(Station).where(Station.name == "越界")) is None


def test_rotate_and_revoke_from_the_page(setup, login, world, db):
    client = login(world.users["county_a_admin"])
    old = setup.token
    resp = client.post(f"/halls/stations/{setup.station.id}/rotate")
    assert resp.status_code == 200
    new = _token_on(resp.get_data(as_text=True))
    assert new != old
    assert services.station_for_token(old) is None
    assert services.station_for_token(new).id == setup.station.id
    resp = client.post(f"/halls/stations/{setup.station.id}/revoke")
    assert resp.status_code == 302
    assert services.station_for_token(new) is None
    page = client.get("/halls/stations").get_data(as_text=True)
    assert "已停用" in page and "重新启用" in page


def test_station_pages_are_admin_only_and_scoped(setup, login, world, db):
    editor = login(world.users["town_a1_editor"])
    assert editor.get("/halls/stations").status_code == 403
    viewer = login(world.users["county_a_viewer"])
    assert viewer.post(f"/halls/stations/{setup.station.id}/revoke").status_code == 403
    admin = login(world.users["county_a_admin"])
    assert admin.post(f"/halls/stations/{setup.other_station.id}/rotate").status_code == 404
    assert admin.post(f"/halls/stations/{setup.other_station.id}/revoke").status_code == 404
    assert services.station_for_token(setup.other_token) is not None
