"""Camera alerts: one per outage, station summaries, escalation, channel delivery with retries."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.tracker.test_station_api import auth, make_setup, post_reports, uid
from tracker.halls import alerts, services
from tracker.halls.models import AlertKind, HallAlert
from tracker.notifications import delivery
from tracker.notifications.models import OutboxMessage, OutStatus


def recent(hm: str) -> str:
    """A time today-ish in the past, on the wire."""
    t = datetime.now(UTC) - timedelta(hours=2) + timedelta(minutes=int(hm))
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def st(cam: Any, minute: str, state: str, cause: str | None = None) -> dict[str, Any]:
    return {
        "uuid": uid(),
        "type": "state",
        "camera_id": cam.id,
        "at": recent(minute),
        "state": state,
        "cause": cause,
    }


def test_down_alert_reaches_webhook_dingtalk_and_wecom_and_the_inbox(
    client, world, db, channels, hook
):
    s = make_setup(world)
    db.session.commit()
    post_reports(client, s.token, [st(s.cam1, "0", "up"), st(s.cam1, "10", "down", "unreachable")])
    alert = db.session.query(HallAlert).filter_by(camera_id=s.cam1.id, kind=AlertKind.down).one()
    assert alert.open and not alert.suppressed
    from tracker.notifications.models import Notification

    inbox = db.session.query(Notification).filter_by(dedupe_key=f"hall_alert:{alert.id}").all()
    users = {n.user_id for n in inbox}
    assert world.users["town_a1_editor"].id in users and world.users["county_a_viewer"].id in users
    assert world.users["town_b1_editor"].id not in users  # another township
    sent, failed = delivery.deliver_due()
    assert (sent, failed) == (3, 0)
    paths = sorted(p for p, _ in hook.received)
    assert paths == ["/dingtalk", "/generic", "/wecom"]
    generic = next(b for p, b in hook.received if p == "/generic")
    assert (
        generic["kind"] == "camera_down"
        and generic["alert_kind"] == "down"
        and generic["camera_id"] == s.cam1.id
        and generic["cause"] == "unreachable"
    )
    robot = next(b for p, b in hook.received if p == "/dingtalk")
    assert robot["msgtype"] == "text" and "摄像头离线" in robot["text"]["content"]
    assert "pw123" not in json.dumps([b for _, b in hook.received], ensure_ascii=False)


def test_failed_delivery_is_retried_with_backoff(client, world, db, channels, hook, app):
    s = make_setup(world)
    db.session.commit()
    app.config["SETTINGS"].alerts.dingtalk_webhook = ""
    app.config["SETTINGS"].alerts.wecom_webhook = ""
    post_reports(client, s.token, [st(s.cam1, "0", "down", "no_video")])
    hook.fail_first = 1
    assert delivery.deliver_due() == (0, 1)
    row = db.session.query(OutboxMessage).one()
    assert row.status == OutStatus.pending and row.attempts == 1 and row.last_error == "HTTP 503"
    assert delivery.deliver_due() == (0, 0)  # not due yet
    assert delivery.deliver_due(now=datetime.now(UTC) + timedelta(minutes=2)) == (1, 0)
    assert row.status == OutStatus.sent


def test_many_cameras_of_one_station_down_together_give_one_summary(client, world, db, app):
    s = make_setup(world)
    cam3 = services.create_camera(
        s.hall,
        services.CameraData(name="三号", stream_url="rtsp://10.0.0.9/3", station_id=s.station.id),
    )
    db.session.commit()
    items = [st(c, "5", "down", "unreachable") for c in (s.cam1, s.cam2, cam3)]
    post_reports(client, s.token, items)
    summary = (
        db.session.query(HallAlert)
        .filter_by(kind=AlertKind.station_down, station_id=s.station.id)
        .one()
    )
    assert "监控站" in summary.title and "网络" in summary.body
    per_camera = (
        db.session.query(HallAlert).filter_by(kind=AlertKind.down, station_id=s.station.id).all()
    )
    assert len(per_camera) == 3 and all(
        a.suppressed and a.parent_id == summary.id for a in per_camera
    )
    post_reports(client, s.token, [st(c, "50", "up") for c in (s.cam1, s.cam2, cam3)])
    kinds = sorted(
        a.kind.value
        for a in db.session.query(HallAlert).filter_by(suppressed=False, station_id=s.station.id)
    )
    assert kinds == ["station_down", "station_recovery"]


def test_unknown_state_neither_opens_nor_closes_an_alert(client, world, db):
    s = make_setup(world)
    db.session.commit()
    post_reports(client, s.token, [st(s.cam1, "0", "down", "black")])
    post_reports(client, s.token, [st(s.cam1, "5", "unknown")])
    alert = db.session.query(HallAlert).filter_by(camera_id=s.cam1.id).one()
    assert alert.kind == AlertKind.down and alert.open


def test_a_hall_dark_for_n_opening_hours_is_escalated_once(client, world, db, app):
    s = make_setup(world)
    db.session.commit()
    # Both cameras down from 08:00 Beijing on a working day; escalate after 4 opening hours.
    at = "2025-11-20T00:00:00Z"
    post_reports(
        client,
        s.token,
        [
            {
                "uuid": uid(),
                "type": "state",
                "camera_id": c.id,
                "at": at,
                "state": "down",
                "cause": "unreachable",
            }
            for c in (s.cam1, s.cam2)
        ],
    )
    noon = datetime(2025, 11, 20, 4, 0, tzinfo=UTC)  # 12:00 Beijing: 3.5 opening hours
    assert alerts.escalate(now=noon) == []
    later = datetime(2025, 11, 20, 6, 0, tzinfo=UTC)  # 14:00 Beijing: 4 opening hours
    first = alerts.escalate(now=later)
    assert len(first) == 1 and first[0].kind == AlertKind.escalation
    assert alerts.escalate(now=later + timedelta(hours=1)) == []


def test_excuse_filed_and_approved_changes_only_the_compliance_figure(client, world, db):
    from datetime import date

    s = make_setup(world)
    db.session.commit()
    day = date(2025, 11, 20)
    post_reports(
        client,
        s.token,
        [
            {
                "uuid": uid(),
                "type": "state",
                "camera_id": s.cam1.id,
                "at": "2025-11-20T00:00:00Z",
                "state": "up",
            },
            {
                "uuid": uid(),
                "type": "state",
                "camera_id": s.cam1.id,
                "at": "2025-11-20T01:00:00Z",
                "state": "down",
                "cause": "unreachable",
            },
            {
                "uuid": uid(),
                "type": "state",
                "camera_id": s.cam1.id,
                "at": "2025-11-20T03:00:00Z",
                "state": "up",
            },
        ],
    )
    t = datetime(2025, 11, 20, 0, 0, tzinfo=UTC)
    while t < datetime(2025, 11, 20, 4, 0, tzinfo=UTC):  # heartbeats 08:00–12:00 Beijing
        services.record_heartbeat(s.station, {"uuid": uid(), "at": t})
        t += timedelta(minutes=1)
    before = services.uptime_bulk([s.cam1.id], day, day)[s.cam1.id]
    excuse = services.file_excuse(
        s.cam1,
        datetime(2025, 11, 20, 1, 0, tzinfo=UTC),
        datetime(2025, 11, 20, 2, 0, tzinfo=UTC),
        services.ExcuseKind.power_cut,
        "停电",
        world.users["village_a1a_editor"],
    )
    with pytest.raises(services.HallError):
        services.decide_excuse(excuse, True, world.users["village_a1a_editor"])  # not own
    services.decide_excuse(excuse, True, world.users["county_a_admin"])
    after = services.uptime_bulk([s.cam1.id], day, day)[s.cam1.id]
    assert after.down_online_s == before.down_online_s == 7200
    assert after.online_rate == before.online_rate
    assert after.excused_online_s == 3600
    assert after.compliance_online_rate > before.online_rate  # type: ignore[operator]
    with pytest.raises(services.HallError):
        services.decide_excuse(excuse, False, world.users["county_a_admin"])  # decided already


def test_recipients_token_header_is_unused(client):
    # The user token loader ignores station paths: a station token is not a user.
    assert client.get("/api/v1/halls", headers=auth("st_x")).status_code == 401


def test_email_channel_sends_one_message_per_recipient(client, world, db, smtp):
    world.users["town_a1_editor"].email = "town@example.cn"
    s = make_setup(world)
    db.session.commit()
    post_reports(client, s.token, [st(s.cam1, "0", "down", "auth_failed")])
    rows = db.session.query(OutboxMessage).filter_by(channel="email").all()
    assert [r.target for r in rows] == ["town@example.cn"]
    assert delivery.deliver_due() == (1, 0)
    assert len(smtp.messages) == 1 and "town@example.cn" in smtp.messages[0]


def _station_with_cameras(world: Any, n: int) -> Any:
    s = make_setup(world)
    cams = [s.cam1, s.cam2]
    for i in range(n - 2):
        cams.append(
            services.create_camera(
                s.hall,
                services.CameraData(
                    name=f"机位{i + 3}", stream_url=f"rtsp://10.0.1.{i}/x", station_id=s.station.id
                ),
            )
        )
    return s, cams


def _summaries(db: Any, station_id: int) -> list[HallAlert]:
    return (
        db.session.query(HallAlert)
        .filter_by(kind=AlertKind.station_down, station_id=station_id)
        .all()
    )


def test_a_few_dark_cameras_of_a_big_station_are_camera_alerts_not_a_station_alert(
    client, world, db
):
    s, cams = _station_with_cameras(world, 40)
    db.session.commit()
    post_reports(client, s.token, [st(c, "5", "down", "unreachable") for c in cams[:3]])
    assert _summaries(db, s.station.id) == []
    downs = db.session.query(HallAlert).filter_by(kind=AlertKind.down).all()
    assert len(downs) == 3 and not any(a.suppressed for a in downs)


def test_the_station_alert_fires_when_the_dark_share_is_reached(client, world, db):
    s, cams = _station_with_cameras(world, 10)
    db.session.commit()
    post_reports(client, s.token, [st(c, "5", "down", "unreachable") for c in cams[:4]])
    assert _summaries(db, s.station.id) == []  # 4 of 10 < 0.5
    post_reports(client, s.token, [st(cams[4], "6", "down", "unreachable")])
    (summary,) = _summaries(db, s.station.id)  # 5 of 10 = 0.5
    assert "5/10" in summary.body
    late = db.session.query(HallAlert).filter_by(camera_id=cams[4].id, kind=AlertKind.down).one()
    assert late.suppressed and late.parent_id == summary.id


def test_picture_faults_do_not_make_a_station_alert(client, world, db):
    s, cams = _station_with_cameras(world, 4)
    db.session.commit()
    post_reports(client, s.token, [st(c, "5", "down", "frozen") for c in cams[:3]])
    assert _summaries(db, s.station.id) == []


def test_the_dark_share_is_configurable(client, world, db, app):
    s, cams = _station_with_cameras(world, 10)
    db.session.commit()
    app.config["SETTINGS"].cameras.station_outage_share = 0.2
    post_reports(client, s.token, [st(c, "5", "down", "unreachable") for c in cams[:2]])
    assert len(_summaries(db, s.station.id)) == 1
