"""Concurrent retries of one batch are applied exactly once (real connections, real commits).

Unlike the other tests this one cannot run inside a rolled-back transaction:
the point is several requests on their own connections at the same time. It
commits its own small world and deletes it again afterwards.
"""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, or_, select

from tracker.extensions import db
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
from tracker.models import AuditLog, Region, RegionLevel
from tracker.org.services import create_region


def _cleanup(ids: dict[str, Any]) -> None:
    from tracker.notifications.models import Notification

    cams = ids.get("cams", [])
    db.session.execute(delete(CameraStateChange).where(CameraStateChange.camera_id.in_(cams)))
    db.session.execute(delete(CameraCheck).where(CameraCheck.camera_id.in_(cams)))
    alerts = or_(HallAlert.camera_id.in_(cams), HallAlert.station_id == ids.get("station"))
    db.session.execute(delete(HallAlert).where(alerts, HallAlert.parent_id.is_not(None)))
    db.session.execute(delete(HallAlert).where(alerts))
    db.session.execute(delete(CameraStatus).where(CameraStatus.camera_id.in_(cams)))
    db.session.execute(
        delete(StationHeartbeat).where(StationHeartbeat.station_id == ids.get("station"))
    )
    db.session.execute(delete(Camera).where(Camera.id.in_(cams)))
    db.session.execute(delete(ServiceHall).where(ServiceHall.id == ids.get("hall")))
    db.session.execute(delete(Station).where(Station.id == ids.get("station")))
    regions = ids.get("regions", [])
    db.session.execute(delete(Notification).where(Notification.region_id.in_(regions)))
    db.session.execute(
        delete(AuditLog).where(
            or_(
                AuditLog.region_id.in_(regions),
                (AuditLog.entity == "hall_station")
                & (AuditLog.entity_id == str(ids.get("station"))),
            )
        )
    )
    for rid in reversed(regions):
        db.session.execute(delete(Region).where(Region.id == rid))
    db.session.commit()


def test_concurrent_retries_of_one_batch_store_each_item_once(app: Any) -> None:
    tag = uuid.uuid4().hex[:6]
    ids: dict[str, Any] = {}
    with app.app_context():
        try:
            city = create_region(f"并发市{tag}", RegionLevel.city)
            county = create_region("并发县", RegionLevel.county, city)
            town = create_region("并发镇", RegionLevel.township, county)
            village = create_region("并发村", RegionLevel.village, town)
            ids["regions"] = [city.id, county.id, town.id, village.id]
            station, token = services.create_station(f"并发机房{tag}", county)
            ids["station"] = station.id
            hall = services.create_hall(village, services.HallData(name="并发大厅"))
            ids["hall"] = hall.id
            cams = [
                services.create_camera(
                    hall,
                    services.CameraData(
                        name=f"c{i}", stream_url="rtsp://10.0.0.1/x", station_id=station.id
                    ),
                )
                for i in range(3)
            ]
            ids["cams"] = [c.id for c in cams]
            db.session.commit()

            base = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
            items = []
            for i, cam in enumerate(cams):
                items.append(
                    {
                        "uuid": str(uuid.uuid4()),
                        "type": "state",
                        "camera_id": cam.id,
                        "at": (base + timedelta(seconds=i)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                        "state": "down",
                        "cause": "unreachable",
                    }  # fmt: skip
                )
                items.append(
                    {
                        "uuid": str(uuid.uuid4()),
                        "type": "check",
                        "camera_id": cam.id,
                        "at": base.strftime("%Y-%m-%dT%H:%M:%SZ"),
                        "verdict": "unreachable",
                    }  # fmt: skip
                )
            answers: list[int] = []
            bodies: list[str] = []
            barrier = threading.Barrier(6)

            def send() -> None:
                client = app.test_client()
                barrier.wait()
                try:
                    _post(client)
                except Exception as exc:  # recorded: the assertion below shows it
                    bodies.append(repr(exc))

            def _post(client: Any) -> None:
                resp = client.post(
                    "/api/v1/station/reports",
                    json={"items": items},
                    headers={"Authorization": f"Bearer {token}"},
                )
                answers.append(resp.status_code)
                bodies.append(resp.get_data(as_text=True)[:300])

            threads = [threading.Thread(target=send) for _ in range(6)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(60)
            # Every retry is answered 200 (new or duplicate) — and nothing is counted twice.
            assert answers == [200] * 6, bodies
            db.session.rollback()  # end this session's read snapshot (SQLite WAL)
            n_states = db.session.scalar(
                select(func.count(CameraStateChange.id)).where(
                    CameraStateChange.camera_id.in_(ids["cams"])
                )
            )
            n_checks = db.session.scalar(
                select(func.count(CameraCheck.id)).where(CameraCheck.camera_id.in_(ids["cams"]))
            )
            assert (n_states, n_checks) == (3, 3), bodies
            # One outage alert per camera at most (here: one station summary, three suppressed).
            downs = db.session.scalar(
                select(func.count(HallAlert.id)).where(
                    HallAlert.camera_id.in_(ids["cams"]), HallAlert.kind == "down"
                )
            )
            assert downs == 3
        finally:
            db.session.rollback()
            _cleanup(ids)
