"""The station API against docs/contract.md: a day of reports, re-sends, token isolation.

The central test feeds a whole day through the HTTP API — checks, state
changes, heartbeats with a station outage, and a late buffered upload — and
compares the uptime figures with hand-computed seconds.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from tests import files
from tracker.halls import services
from tracker.halls.models import (
    Camera,
    CameraCheck,
    CameraStateChange,
    CameraStatus,
    HallAlert,
    ServiceHall,
    Station,
    StationHeartbeat,
)

DAY = "2025-11-20"  # a Thursday (working day): open 08:30–12:00 and 13:30–17:30 = 27,000 s
OPEN_S = 27000


def bj(hm: str, day: str = DAY) -> str:
    """A Beijing wall-clock time as the UTC ``Z`` string of the wire."""
    local = datetime.fromisoformat(f"{day}T{hm}:00+08:00")
    return local.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def uid() -> str:
    return str(uuid.uuid4())


@dataclass
class Setup:
    hall: ServiceHall
    cam1: Camera
    cam2: Camera
    station: Station
    token: str
    other_station: Station
    other_token: str
    other_cam: Camera


def make_setup(world: Any) -> Setup:
    """A hall in village A1a with two cameras on one station, and a second station's camera."""
    hall = services.create_hall(world.village_a1a, services.HallData(name="甲村便民服务中心"))
    station, token = services.create_station(f"机房{uid()[:6]}", world.county_a)
    other, other_token = services.create_station(f"机房{uid()[:6]}", world.county_b)
    cam1 = services.create_camera(
        hall,
        services.CameraData(
            name="大厅全景", stream_url="rtsp://admin:pw123@10.0.0.8:554/ch1", station_id=station.id
        ),
    )
    cam2 = services.create_camera(
        hall,
        services.CameraData(
            name="办事窗口", stream_url="rtsp://admin:pw123@10.0.0.8:554/ch2", station_id=station.id
        ),
    )
    hall_b = services.create_hall(world.village_b1a, services.HallData(name="乙村便民服务中心"))
    other_cam = services.create_camera(
        hall_b,
        services.CameraData(
            name="乙村全景", stream_url="rtsp://u:p@10.9.9.9/x", station_id=other.id
        ),
    )
    return Setup(hall, cam1, cam2, station, token, other, other_token, other_cam)


@pytest.fixture
def setup(world: Any, db: Any) -> Setup:
    s = make_setup(world)
    # Commit (to the test's outer transaction): an API error rolls the session back.
    db.session.commit()
    return s


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def state(cam: Camera, hm: str, st: str, cause: str | None = None) -> dict[str, Any]:
    return {
        "uuid": uid(),
        "type": "state",
        "camera_id": cam.id,
        "at": bj(hm),
        "state": st,
        "cause": cause,
    }


def check(cam: Camera, hm: str, verdict: str = "online") -> dict[str, Any]:
    return {
        "uuid": uid(),
        "type": "check",
        "camera_id": cam.id,
        "at": bj(hm),
        "verdict": verdict,
        "elapsed_ms": 312,
        "measurements": {"brightness": 96.1, "pts_advancing": True, "codec": "h264"},
    }


def heartbeats(start: str, end: str) -> list[dict[str, Any]]:
    """One heartbeat a minute in [start, end)."""
    t = datetime.fromisoformat(f"{DAY}T{start}:00+08:00")
    stop = datetime.fromisoformat(f"{DAY}T{end}:00+08:00")
    out = []
    while t < stop:
        out.append(
            {
                "uuid": uid(),
                "at": t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "version": "0.1.0",
                "started_at": bj("06:00"),
                "outbox_depth": 0,
                "cameras": 2,
            }
        )
        t += timedelta(minutes=1)
    return out


def post_reports(client: Any, token: str, items: list[dict[str, Any]]) -> Any:
    return client.post(
        "/api/v1/station/reports",
        json={"sent_at": bj("23:00"), "items": items},
        headers=auth(token),
    )


def send_heartbeats(client: Any, token: str, beats: list[dict[str, Any]]) -> None:
    for hb in beats:
        resp = client.post("/api/v1/station/heartbeat", json=hb, headers=auth(token))
        assert resp.status_code == 200, resp.json
        assert resp.json == {"acknowledged": hb["uuid"], "duplicate": False}


def day_totals(cam: Camera) -> services.UptimeTotals:
    d = date.fromisoformat(DAY)
    return services.uptime_bulk([cam.id], d, d)[cam.id]


def test_a_day_of_reports_gives_hand_computed_uptime(client, setup):
    s = setup
    # Morning, delivered live. The monitor process is dead 10:00–11:00 (no heartbeats).
    send_heartbeats(client, s.token, heartbeats("07:00", "10:00") + heartbeats("11:00", "13:00"))
    morning = [
        state(s.cam1, "07:00", "up"),
        state(s.cam2, "07:00", "up"),
        check(s.cam1, "08:59", "unreachable"),
        state(s.cam1, "09:00", "down", "unreachable"),
        state(s.cam1, "09:20", "up"),
        check(s.cam1, "09:21"),
    ]
    resp = post_reports(client, s.token, morning)
    assert resp.status_code == 200, resp.json
    assert sorted(resp.json["acknowledged"]) == sorted(i["uuid"] for i in morning)
    assert resp.json["duplicates"] == [] and resp.json["rejected"] == []

    # The uplink is cut 13:00–15:00; afterwards the afternoon arrives live …
    send_heartbeats(client, s.token, heartbeats("15:00", "18:00"))
    afternoon = [state(s.cam2, "16:00", "down", "no_video")]
    assert post_reports(client, s.token, afternoon).status_code == 200

    # … so before the buffered upload, 13:01:30–15:00 is unknown for both cameras.
    gap_unknown = 5400  # 13:30–15:00 of opening time
    station_dead = 3510  # 10:01:30–11:00 (the 09:59 heartbeat covers 2.5 minutes)
    t1 = day_totals(s.cam1)
    assert t1.unknown_s == station_dead + gap_unknown
    assert t1.down_picture_s == 0

    # The buffered batch (heartbeats and a frozen spell 13:40–14:10) arrives late, out of order.
    late_beats = heartbeats("13:00", "15:00")
    late_items = [
        state(s.cam1, "14:10", "up"),
        state(s.cam1, "13:40", "down", "frozen"),
        check(s.cam1, "13:39", "frozen"),
    ]
    send_heartbeats(client, s.token, list(reversed(late_beats)))
    assert post_reports(client, s.token, late_items).status_code == 200

    t1 = day_totals(s.cam1)
    assert t1.open_s == OPEN_S
    assert t1.unknown_s == station_dead
    assert t1.down_online_s == 1200  # 09:00–09:20
    assert t1.down_picture_s == 1800  # 13:40–14:10
    assert t1.up_s == OPEN_S - 3510 - 1200 - 1800 == 20490
    assert t1.online_rate == pytest.approx(22290 / 23490)
    assert t1.intact_rate == pytest.approx(20490 / 23490)

    t2 = day_totals(s.cam2)
    assert (t2.unknown_s, t2.down_online_s, t2.down_picture_s) == (
        3510,
        5400,
        0,
    )  # down 16:00–17:30
    assert t2.up_s == 18090

    hall = services.hall_uptime(s.hall, date.fromisoformat(DAY), date.fromisoformat(DAY))
    assert (hall.open_s, hall.up_s, hall.unknown_s) == (2 * OPEN_S, 20490 + 18090, 2 * 3510)

    # Re-sending everything changes nothing: every uuid is acknowledged as a duplicate.
    everything = morning + afternoon + late_items
    resp = post_reports(client, s.token, everything)
    assert sorted(resp.json["duplicates"]) == sorted(i["uuid"] for i in everything)
    assert sorted(resp.json["acknowledged"]) == sorted(i["uuid"] for i in everything)
    for hb in late_beats[:3]:
        again = client.post("/api/v1/station/heartbeat", json=hb, headers=auth(s.token))
        assert again.json == {"acknowledged": hb["uuid"], "duplicate": True}
    assert day_totals(s.cam1) == t1
    assert day_totals(s.cam2) == t2


def test_rollups_match_live_figures_and_late_reports_invalidate_them(client, setup, db):
    s = setup
    for cam in (s.cam1, s.cam2):
        cam.created_at = datetime(2025, 1, 1, tzinfo=UTC)
    db.session.commit()
    send_heartbeats(client, s.token, heartbeats("08:00", "18:00"))
    post_reports(client, s.token, [state(s.cam1, "08:00", "up"), state(s.cam2, "08:00", "up")])
    live = day_totals(s.cam1)
    added = services.compute_rollups(days_back=3, today=date.fromisoformat(DAY) + timedelta(days=1))
    assert added >= 2
    assert day_totals(s.cam1) == live
    # A late state item for that day removes the stale rollup; the figure follows the new truth.
    post_reports(
        client, s.token, [state(s.cam1, "09:00", "down", "black"), state(s.cam1, "10:00", "up")]
    )
    t = day_totals(s.cam1)
    assert t.down_picture_s == 3600 and t.up_s == live.up_s - 3600
    d = date.fromisoformat(DAY)
    per_village = services.village_totals(s.hall.region, d, d)
    assert per_village[s.hall.region_id] == t + day_totals(s.cam2)


def test_resent_batch_is_stored_once(client, setup, db):
    s = setup
    items = [state(s.cam1, "08:00", "up"), check(s.cam1, "08:01")]
    for _ in range(3):
        assert post_reports(client, s.token, items).status_code == 200
    n_states = db.session.query(CameraStateChange).filter_by(camera_id=s.cam1.id).count()
    n_checks = db.session.query(CameraCheck).filter_by(camera_id=s.cam1.id).count()
    assert (n_states, n_checks) == (1, 1)


def test_duplicate_uuid_inside_one_batch_is_stored_once(client, setup, db):
    s = setup
    item = state(s.cam1, "08:00", "up")
    resp = post_reports(client, s.token, [item, dict(item)])
    assert resp.json["acknowledged"] == [item["uuid"]]
    assert db.session.query(CameraStateChange).filter_by(uuid=item["uuid"]).count() == 1


def test_item_uuids_are_unique_per_station_not_globally(client, setup, db):
    """Station 2 may draw a uuid station 1 used: it is stored for station 2, not a duplicate."""
    import io

    s = setup
    st1 = state(s.cam1, "08:00", "up")
    ck1 = check(s.cam1, "08:01")
    hb1 = heartbeats("08:00", "08:01")[0]
    st2 = dict(state(s.other_cam, "08:00", "down", "unreachable"), uuid=st1["uuid"])
    ck2 = dict(check(s.other_cam, "08:01", "unreachable"), uuid=ck1["uuid"])
    hb2 = dict(heartbeats("08:02", "08:03")[0], uuid=hb1["uuid"])
    assert post_reports(client, s.token, [st1, ck1]).json["duplicates"] == []
    answer = post_reports(client, s.other_token, [st2, ck2]).json
    assert set(answer["acknowledged"]) == {st1["uuid"], ck1["uuid"]}
    assert answer["duplicates"] == [] and answer["rejected"] == []
    for token, hb in ((s.token, hb1), (s.other_token, hb2)):
        resp = client.post("/api/v1/station/heartbeat", json=hb, headers=auth(token))
        assert resp.json == {"acknowledged": hb1["uuid"], "duplicate": False}
    snap_uuid = uid()
    jpeg = files.jpeg(b"1" * 100)
    ids = []
    for token, cam in ((s.token, s.cam1), (s.other_token, s.other_cam)):
        resp = client.post(
            "/api/v1/station/snapshots",
            data={
                "uuid": snap_uuid,
                "camera_id": str(cam.id),
                "taken_at": bj("09:00"),
                "reason": "manual",
                "sha256": hashlib.sha256(jpeg).hexdigest(),
                "image": (io.BytesIO(jpeg), "x.jpg", "image/jpeg"),
            },  # fmt: skip
            headers=auth(token),
            content_type="multipart/form-data",
        )
        assert resp.status_code == 201 and resp.json["duplicate"] is False, resp.json
        ids.append(resp.json["id"])
    assert ids[0] != ids[1]
    # within one station a uuid is still applied once
    again = post_reports(client, s.other_token, [st2]).json
    assert again["duplicates"] == [st1["uuid"]]
    assert db.session.query(CameraStateChange).filter_by(uuid=st1["uuid"]).count() == 2
    assert db.session.query(CameraCheck).filter_by(uuid=ck1["uuid"]).count() == 2
    assert db.session.query(StationHeartbeat).filter_by(uuid=hb1["uuid"]).count() == 2
    assert db.session.get(CameraStatus, s.other_cam.id).state.value == "down"


def test_token_cannot_touch_another_stations_cameras(client, setup, db):
    s = setup
    cams = client.get("/api/v1/station/cameras", headers=auth(s.other_token)).json["cameras"]
    assert [c["id"] for c in cams] == [s.other_cam.id]
    foreign = state(s.cam1, "08:00", "down", "unreachable")
    resp = post_reports(client, s.other_token, [foreign])
    assert resp.status_code == 200
    assert resp.json["acknowledged"] == []
    assert resp.json["rejected"][0]["uuid"] == foreign["uuid"]
    assert resp.json["rejected"][0]["error"]["code"] == "unknown_camera"
    assert db.session.query(CameraStateChange).filter_by(camera_id=s.cam1.id).count() == 0
    jpeg = files.jpeg(b"foreign")
    resp = client.post(
        "/api/v1/station/snapshots",
        data={
            "uuid": uid(),
            "camera_id": str(s.cam1.id),
            "taken_at": bj("09:00"),
            "reason": "manual",
            "sha256": hashlib.sha256(jpeg).hexdigest(),
            "image": (__import__("io").BytesIO(jpeg), "x.jpg", "image/jpeg"),
        },
        headers=auth(s.other_token),
        content_type="multipart/form-data",
    )
    assert resp.status_code == 404 and resp.json["error"]["code"] == "unknown_camera"


def test_cameras_document_follows_the_contract(client, setup):
    s = setup
    resp = client.get("/api/v1/station/cameras", headers=auth(s.token))
    assert resp.status_code == 200
    doc = resp.json
    assert doc["station"] == {"id": s.station.id, "name": s.station.name}
    assert doc["heartbeat_interval_s"] == 60
    assert doc["generated_at"].endswith("Z")
    cam = next(c for c in doc["cameras"] if c["id"] == s.cam1.id)
    assert (
        cam["stream_url"] == "rtsp://admin:pw123@10.0.0.8:554/ch1"
    )  # only the own station sees it
    assert cam["hall"] == {"id": s.hall.id, "name": s.hall.name, "village": "村甲一甲"}
    assert cam["rtsp_transport"] == "tcp"
    assert set(cam["thresholds"]) >= {
        "down_after",
        "up_after",
        "black_brightness",
        "frozen_window_s",
    }
    days = cam["opening_hours"]["days"]
    assert cam["opening_hours"]["timezone"] == "Asia/Shanghai" and len(days) == 8
    assert all(set(d) == {"date", "open"} for d in days)


def test_missing_or_wrong_token_is_401(client, setup):
    assert client.get("/api/v1/station/cameras").status_code == 401
    resp = client.get("/api/v1/station/cameras", headers=auth("st_nope"))
    assert resp.status_code == 401 and resp.json["error"]["code"] == "unauthorized"


def test_invalid_items_are_rejected_one_by_one_with_field_messages(client, setup):
    s = setup
    good = state(s.cam1, "08:00", "up")
    no_cause = state(s.cam1, "09:00", "down")
    bad_verdict = check(s.cam1, "09:00", "exploded")
    naive = {**state(s.cam1, "10:00", "up"), "at": "2025-11-20T10:00:00"}
    future = {**state(s.cam1, "10:00", "up"), "at": "2099-01-01T00:00:00Z"}
    resp = post_reports(client, s.token, [good, no_cause, bad_verdict, naive, future, "junk"])
    assert resp.status_code == 200
    assert resp.json["acknowledged"] == [good["uuid"]]
    rejected = {r["uuid"]: r["error"] for r in resp.json["rejected"]}
    assert "items[1].cause" in str(rejected[no_cause["uuid"]]["fields"]) or "cause" in str(
        rejected[no_cause["uuid"]]
    )
    assert "items[2].check.verdict" in rejected[bad_verdict["uuid"]]["fields"]
    assert rejected[future["uuid"]]["code"] == "future_time"
    assert len(resp.json["rejected"]) == 5


def test_body_that_is_not_a_batch_is_4xx_as_a_whole(client, setup):
    s = setup
    resp = client.post("/api/v1/station/reports", json={"nope": 1}, headers=auth(s.token))
    assert resp.status_code == 422 and resp.json["error"]["fields"]["items"] == "必填"
    resp = client.post(
        "/api/v1/station/reports",
        data="not json",
        content_type="application/json",
        headers=auth(s.token),
    )
    assert resp.status_code == 400
    too_many = [state(s.cam1, "08:00", "up") for _ in range(501)]
    resp = post_reports(client, s.token, too_many)
    assert resp.status_code == 422 and "items" in resp.json["error"]["fields"]


def test_oversized_body_is_413(client, setup):
    s = setup
    big = {"items": [], "padding": "x" * (1024 * 1024 + 10)}
    resp = client.post("/api/v1/station/reports", json=big, headers=auth(s.token))
    assert resp.status_code == 413 and resp.json["error"]["code"] == "too_large"


def test_snapshot_upload_checks_jpeg_and_sha256_and_is_idempotent(client, setup, app):
    s = setup
    jpeg = files.jpeg(bytes(range(256)) * 8)
    digest = hashlib.sha256(jpeg).hexdigest()
    snap_uuid = uid()

    def upload(data: bytes, sha: str, u: str = snap_uuid) -> Any:
        import io

        return client.post(
            "/api/v1/station/snapshots",
            data={
                "uuid": u,
                "camera_id": str(s.cam1.id),
                "taken_at": bj("08:30"),
                "reason": "opening",
                "sha256": sha,
                "image": (io.BytesIO(data), "s.jpg", "image/jpeg"),
            },
            headers=auth(s.token),
            content_type="multipart/form-data",
        )

    resp = upload(jpeg, "0" * 64)
    assert resp.status_code == 422 and resp.json["error"]["code"] == "sha256_mismatch"
    resp = upload(b"GIF89a" + b"0" * 50, hashlib.sha256(b"GIF89a" + b"0" * 50).hexdigest())
    assert resp.status_code == 422 and resp.json["error"]["code"] == "not_jpeg"
    resp = upload(jpeg, digest)
    assert resp.status_code == 201, resp.json
    first = resp.json
    assert first["duplicate"] is False
    with app.app_context():
        assert services.snapshot_path(digest).read_bytes() == jpeg
    again = upload(jpeg, digest)
    assert again.status_code == 200 and again.json == {"id": first["id"], "duplicate": True}
    big = files.jpeg(pad=1024 * 1024 + 1)
    assert upload(big, hashlib.sha256(big).hexdigest(), uid()).status_code == 413
    resp = client.post(
        "/api/v1/station/snapshots",
        data={"uuid": "x"},
        headers=auth(s.token),
        content_type="multipart/form-data",
    )
    assert resp.status_code == 422 and "uuid" in resp.json["error"]["fields"]


def test_heartbeat_updates_station_and_validates(client, setup, db):
    s = setup
    hb = heartbeats("08:00", "08:01")[0]
    assert (
        client.post("/api/v1/station/heartbeat", json=hb, headers=auth(s.token)).status_code == 200
    )
    db.session.refresh(s.station)
    assert s.station.software_version == "0.1.0"
    assert db.session.query(StationHeartbeat).filter_by(station_id=s.station.id).count() == 1
    resp = client.post("/api/v1/station/heartbeat", json={"uuid": "nope"}, headers=auth(s.token))
    assert resp.status_code == 422 and {"uuid", "at"} <= set(resp.json["error"]["fields"])


def test_confirmed_down_and_recovery_raise_one_alert_each(client, setup, db):
    s = setup
    post_reports(client, s.token, [state(s.cam1, "08:00", "up")])
    post_reports(client, s.token, [state(s.cam1, "09:00", "down", "unreachable")])
    post_reports(
        client, s.token, [state(s.cam1, "09:05", "down", "frozen")]
    )  # same outage, new cause
    post_reports(client, s.token, [state(s.cam1, "09:30", "up")])
    kinds = [
        a.kind.value
        for a in db.session.query(HallAlert).filter_by(camera_id=s.cam1.id).order_by(HallAlert.id)
    ]
    assert kinds == ["down", "recovery"]


def test_station_endpoints_are_in_the_openapi_document(client):
    doc = client.get("/api/v1/openapi.json").json
    for path in ("cameras", "reports", "heartbeat", "snapshots"):
        assert f"/api/v1/station/{path}" in doc["paths"]
    snap = doc["paths"]["/api/v1/station/snapshots"]["post"]
    assert "multipart/form-data" in snap["requestBody"]["content"]
    assert snap["security"] == [{"station": []}]


def test_the_camera_page_names_the_state_cause_and_last_verdict_in_chinese(
    client, setup, db, login, world
):
    resp = post_reports(
        client,
        setup.token,
        [
            state(setup.cam1, "09:00", "down", "frozen"),
            check(setup.cam1, "09:01", "frozen"),
        ],
    )
    assert resp.status_code == 200, resp.get_json()
    from flask import g

    g.pop("scope", None)
    g.pop("_login_user", None)
    page = login(world.users["county_a_admin"]).get(f"/halls/cameras/{setup.cam1.id}").text
    assert "故障 · 画面冻结" in page and "（画面冻结）" in page
    assert "frozen" not in page.split("<main", 1)[1].split("</main>", 1)[0]
