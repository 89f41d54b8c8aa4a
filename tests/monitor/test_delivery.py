"""Delivery against a contract-conformant tracker stub: acknowledge, duplicates, rejects, outages."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor.client import Delivery, TrackerClient, load_cameras
from monitor.outbox import Outbox, new_uuid, utc_iso

from .contract_tracker import ContractTracker, Store

CAMERA = {
    "id": 17,
    "name": "大厅全景",
    "hall": {"id": 5, "name": "平安村便民服务中心", "village": "平安村"},
    "stream_url": "rtsp://user:pass@10.0.0.8:554/ch1",
    "rtsp_transport": "udp",
    "check_interval_s": 30,
    "snapshot_every_min": 60,
    "thresholds": {"down_after": 4, "up_after": 2, "frozen_diff": 0.8},
    "opening_hours": {
        "timezone": "Asia/Shanghai",
        "days": [{"date": "2026-11-26", "open": [["08:30", "12:00"], ["13:30", "17:30"]]}],
    },
}


@pytest.fixture
def store() -> Store:
    return Store(cameras=[dict(CAMERA)], foreign_camera_ids={99})


@pytest.fixture
def tracker(store: Store) -> Iterator[ContractTracker]:
    t = ContractTracker(store).start(lifetime_s=60)
    yield t
    t.stop()


def check(camera_id: int = 17, verdict: str = "online") -> dict:
    return {
        "uuid": new_uuid(),
        "type": "check",
        "camera_id": camera_id,
        "at": utc_iso(),
        "verdict": verdict,
        "elapsed_ms": 300,
        "measurements": {"open_ms": 100, "frames": 6, "pts_advancing": True},
    }


def make(tmp_path: Path, tracker_url: str, token: str = "station-token") -> tuple[Outbox, Delivery]:
    box = Outbox(tmp_path / "outbox.sqlite3")
    client = TrackerClient(tracker_url, token, timeout_s=2)
    return box, Delivery(box, client, batch_size=50, base_backoff_s=0.05, max_backoff_s=0.2)


def test_acknowledged_items_leave_the_outbox(
    tmp_path: Path, tracker: ContractTracker, store: Store
) -> None:
    box, delivery = make(tmp_path, tracker.url)
    uuids = [box.put("report", check()) for _ in range(120)]
    stats = delivery.run()
    assert stats.delivered == 120 and not stats.failed
    assert box.depth()["total"] == 0
    assert set(uuids) == set(store.items)
    assert box.get("last_delivery") is not None


def test_a_resent_batch_is_acknowledged_and_counted_once(
    tmp_path: Path, tracker: ContractTracker, store: Store
) -> None:
    box, delivery = make(tmp_path, tracker.url)
    item = check()
    answer = delivery.client.post_reports([item])
    again = delivery.client.post_reports([item])
    assert answer.acknowledged == [item["uuid"]] and again.duplicates == [item["uuid"]]
    assert len(store.checks()) == 1


def test_rejected_items_leave_the_queue_for_the_dead_letter_table(
    tmp_path: Path, tracker: ContractTracker, store: Store
) -> None:
    box, delivery = make(tmp_path, tracker.url)
    good = box.put("report", check())
    foreign = box.put("report", check(camera_id=99))
    stats = delivery.run()
    assert stats.delivered == 1 and stats.rejected == 1
    assert box.depth()["total"] == 0 and [d.uuid for d in box.dead()] == [foreign]
    assert good in store.items and foreign not in store.items


def test_tracker_away_for_a_while_loses_nothing_and_double_counts_nothing(
    tmp_path: Path, store: Store
) -> None:
    first = ContractTracker(store).start(lifetime_s=60)
    port = first.port
    box, delivery = make(tmp_path, first.url)
    sent = [box.put("report", check()) for _ in range(30)]
    assert delivery.run().delivered == 30
    first.stop()  # the tracker goes away

    queued = [box.put("report", check()) for _ in range(70)]
    box.put("heartbeat", {"uuid": new_uuid(), "at": utc_iso(), "version": "t", "started_at": utc_iso(),
                          "outbox_depth": 70, "cameras": 1})  # fmt: skip
    for _ in range(3):
        stats = delivery.run(force=True)
        assert stats.failed and stats.delivered == 0
    assert delivery.failures == 3 and not delivery.due()  # backing off
    assert box.depth()["total"] == 71

    back = ContractTracker(store, port=port).start(lifetime_s=60)
    try:
        deadline = time.monotonic() + 5
        while box.depth()["total"] and time.monotonic() < deadline:
            delivery.run()
            time.sleep(0.05)
    finally:
        back.stop()
    assert box.depth()["total"] == 0
    assert set(sent + queued) == set(store.items)
    assert len(store.checks()) == 100
    assert len(store.heartbeats) == 1


def test_an_answer_lost_on_the_way_back_is_harmless(
    tmp_path: Path, tracker: ContractTracker, store: Store
) -> None:
    """The tracker stored the batch but the monitor never saw the answer: it re-sends, nothing doubles."""
    box, delivery = make(tmp_path, tracker.url)
    uuids = [box.put("report", check()) for _ in range(10)]
    delivery.client.post_reports([i.payload for i in box.peek("report", 10)])  # answer "lost"
    assert delivery.run().delivered == 10
    assert box.depth()["total"] == 0
    assert len(store.checks()) == 10 and all(store.received[u] == 2 for u in uuids)


def test_a_5xx_keeps_everything_and_backs_off(tmp_path: Path, tracker: ContractTracker) -> None:
    box, delivery = make(tmp_path, tracker.url)
    box.put("report", check())
    tracker.fail_with_500 = True
    assert delivery.run().failed
    assert box.depth()["total"] == 1
    tracker.fail_with_500 = False
    time.sleep(0.3)
    assert delivery.run().delivered == 1


def test_a_wrong_token_drops_nothing(
    tmp_path: Path, tracker: ContractTracker, store: Store
) -> None:
    box, delivery = make(tmp_path, tracker.url, token="wrong")
    box.put("report", check())
    stats = delivery.run()
    assert stats.failed and "401" in (stats.error or "")
    assert box.depth()["total"] == 1 and not store.items


def test_snapshots_and_heartbeats_are_delivered(
    tmp_path: Path, tracker: ContractTracker, store: Store
) -> None:
    box, delivery = make(tmp_path, tracker.url)
    jpeg = b"\xff\xd8\xff\xe0" + b"x" * 1000
    snap = {"uuid": new_uuid(), "camera_id": 17, "taken_at": utc_iso(), "reason": "state_change",
            "sha256": hashlib.sha256(jpeg).hexdigest()}  # fmt: skip
    bad = dict(snap, uuid=new_uuid(), sha256="0" * 64)
    box.put("snapshot", snap, jpeg)
    box.put("snapshot", bad, jpeg)
    box.put("heartbeat", {"uuid": new_uuid(), "at": utc_iso(), "version": "t", "started_at": utc_iso(),
                          "outbox_depth": 0, "cameras": 1})  # fmt: skip
    stats = delivery.run()
    assert box.depth()["total"] == 0
    assert set(store.snapshots) == {snap["uuid"]}  # the mismatching one is refused for good
    assert stats.rejected == 1 and len(store.heartbeats) == 1
    assert [(d.uuid, d.code) for d in box.dead()] == [(bad["uuid"], "sha256_mismatch")]


def test_camera_list_is_cached_for_when_the_tracker_is_down(tmp_path: Path, store: Store) -> None:
    t = ContractTracker(store).start(lifetime_s=60)
    box = Outbox(tmp_path / "o.sqlite3")
    fresh, from_tracker = load_cameras(TrackerClient(t.url, "station-token", 2), box)
    t.stop()
    cached, from_tracker_again = load_cameras(TrackerClient(t.url, "station-token", 1), box)
    assert from_tracker and not from_tracker_again
    assert cached == fresh
    cam = cached.cameras[0]
    assert (cam.id, cam.rtsp_transport, cam.thresholds.down_after, cam.thresholds.frozen_diff) == (
        17,
        "udp",
        4,
        0.8,
    )
    assert cam.host == "10.0.0.8" and len(cam.opening_starts) == 2
    assert cached.heartbeat_interval_s == 60
