"""Cameras: credentials encrypted at rest, masked everywhere, scoped pages and API."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select, text

from tests.tracker.test_station_api import make_setup
from tracker.halls import services
from tracker.halls.models import Camera
from tracker.models import AuditLog


@pytest.fixture
def setup(world: Any, db: Any) -> Any:
    s = make_setup(world)
    db.session.commit()
    return s


def test_stream_url_is_encrypted_at_rest_and_masked_for_display(setup, db):
    raw = db.session.execute(
        text("SELECT stream_url_encrypted, stream_url_masked FROM camera WHERE id = :i"),
        {"i": setup.cam1.id},
    ).one()
    assert "pw123" not in raw[0] and "admin" not in raw[0]
    assert raw[1] == "rtsp://***:***@10.0.0.8:554/ch1"
    assert services.decrypt_url(setup.cam1) == "rtsp://admin:pw123@10.0.0.8:554/ch1"


def test_audit_log_never_holds_the_stream_url(setup, db):
    rows = db.session.scalars(select(AuditLog).where(AuditLog.entity == "camera")).all()
    assert rows
    dumped = json.dumps([r.after for r in rows], ensure_ascii=False)
    assert "pw123" not in dumped and "stream_url_encrypted" not in dumped


def test_pages_and_user_api_show_only_the_masked_url(setup, login, world):
    client = login(world.users["city_admin"])
    for url in (
        f"/halls/cameras/{setup.cam1.id}",
        f"/halls/{setup.hall.id}",
        f"/halls/cameras/{setup.cam1.id}/edit",
        f"/api/v1/cameras/{setup.cam1.id}",
        f"/api/v1/halls/{setup.hall.id}",
        "/api/v1/halls",
    ):
        resp = client.get(url)
        assert resp.status_code == 200, url
        body = resp.get_data(as_text=True)
        assert "pw123" not in body, url
        assert "***:***@10.0.0.8" in body, url


def test_camera_out_of_scope_is_404(setup, login, world):
    client = login(world.users["town_b1_editor"])
    assert client.get(f"/halls/cameras/{setup.cam1.id}").status_code == 404
    assert client.get(f"/api/v1/cameras/{setup.cam1.id}").status_code == 404
    assert client.get(f"/halls/{setup.hall.id}").status_code == 404
    assert client.get(f"/api/v1/uptime?camera_id={setup.cam1.id}&period=2025-11").status_code == 404


def test_only_admins_edit_cameras(setup, login, world):
    client = login(world.users["town_a1_editor"])
    assert client.get(f"/halls/cameras/{setup.cam1.id}/edit").status_code == 403
    assert client.get(f"/halls/{setup.hall.id}/cameras/new").status_code == 403


def test_admin_adds_a_camera_and_bad_input_goes_next_to_the_field(setup, login, world, db):
    client = login(world.users["county_a_admin"])
    form = {
        "name": "后门",
        "position": "后门上方",
        "stream_url": "ftp://nope",
        "station_id": "0",
        "check_interval_s": "60",
        "snapshot_every_min": "60",
        "rtsp_transport": "tcp",
        "active": "y",
    }
    resp = client.post(f"/halls/{setup.hall.id}/cameras/new", data=form)
    assert resp.status_code == 422
    assert "视频流地址应以 rtsp://" in resp.get_data(as_text=True)
    assert db.session.scalar(select(Camera).where(Camera.name == "后门")) is None
    form["stream_url"] = "rtsp://u:secret9@10.2.2.2/live"
    resp = client.post(f"/halls/{setup.hall.id}/cameras/new", data=form)
    assert resp.status_code == 302
    cam = db.session.scalar(select(Camera).where(Camera.name == "后门"))
    assert cam is not None and cam.stream_url_masked == "rtsp://***:***@10.2.2.2/live"
    # Editing without a new URL keeps the old one.
    form.update(stream_url="", name="后门二", check_interval_s="5")
    resp = client.post(f"/halls/cameras/{cam.id}/edit", data=form)
    assert resp.status_code == 422 and "10–3600" in resp.get_data(as_text=True)
    form["check_interval_s"] = "120"
    assert client.post(f"/halls/cameras/{cam.id}/edit", data=form).status_code == 302
    db.session.refresh(cam)
    assert cam.name == "后门二" and services.decrypt_url(cam) == "rtsp://u:secret9@10.2.2.2/live"


def test_thresholds_are_validated(setup):
    with pytest.raises(services.HallError, match="1–20"):
        services.update_camera(
            setup.cam1, services.CameraData(name="大厅全景", thresholds={"down_after": 0})
        )
    with pytest.raises(services.HallError, match="不认识"):
        services.update_camera(
            setup.cam1, services.CameraData(name="大厅全景", thresholds={"x": 1})
        )


def test_station_token_is_stored_as_its_sha256_and_rotation_revokes_the_old_one(world, db):
    from tracker.security import hash_token

    station, token = services.create_station("测试机房XYZ", world.county_a)
    assert station.token_hash == hash_token(token) and token not in station.token_hash
    assert services.station_for_token(token) is station
    new = services.rotate_station_token(station)
    assert services.station_for_token(token) is None
    assert services.station_for_token(new) is station
    with pytest.raises(services.HallError, match="已有"):
        services.create_station("测试机房XYZ", world.county_a)
