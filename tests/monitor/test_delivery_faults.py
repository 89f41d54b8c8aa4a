"""Evidence is never thrown away because of a proxy: only the tracker's own per-item refusal ends an item.

A real local proxy in front of the contract stub answers 404, 429 and 413
for a while; the monitor must keep every item (heartbeats and snapshots
included) and deliver all of them once the proxy forwards again. Items the
tracker refuses go to the dead-letter table, which ``monitor status`` counts
and ``monitor requeue`` sends again.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor.client import Delivery, TrackerClient, load_cameras, parse_retry_after
from monitor.outbox import Outbox, new_uuid, utc_iso

from .contract_tracker import ContractTracker, Store
from .flaky_proxy import FlakyProxy
from .test_delivery import CAMERA, check

JPEG = b"\xff\xd8\xff\xe0" + b"x" * 1000


@pytest.fixture
def store() -> Store:
    return Store(cameras=[dict(CAMERA)], foreign_camera_ids={99})


@pytest.fixture
def tracker(store: Store) -> Iterator[ContractTracker]:
    t = ContractTracker(store).start(lifetime_s=90)
    yield t
    t.stop()


def heartbeat() -> dict:
    return {"uuid": new_uuid(), "at": utc_iso(), "version": "t", "started_at": utc_iso(),
            "outbox_depth": 0, "cameras": 1}  # fmt: skip


def snapshot(camera_id: int = 17, sha: str | None = None) -> dict:
    return {"uuid": new_uuid(), "camera_id": camera_id, "taken_at": utc_iso(),
            "reason": "periodic", "sha256": sha or hashlib.sha256(JPEG).hexdigest()}  # fmt: skip


def delivery_for(box: Outbox, url: str, **kw: float) -> Delivery:
    client = TrackerClient(url, "station-token", timeout_s=2)
    return Delivery(box, client, batch_size=50, base_backoff_s=0.05, max_backoff_s=0.2, **kw)


def test_a_proxy_answering_404_then_429_then_413_loses_no_item(
    tmp_path: Path, tracker: ContractTracker, store: Store
) -> None:
    proxy = FlakyProxy(tracker.url, [("404", 1.5), ("429", 1.5), ("413", 1.5)]).start(60)
    try:
        box = Outbox(tmp_path / "o.sqlite3")
        delivery = delivery_for(box, proxy.url)
        reports = [box.put("report", check()) for _ in range(57)]
        beats = [box.put("heartbeat", heartbeat()) for _ in range(3)]
        snap = box.put("snapshot", snapshot(), JPEG)
        deadline = time.monotonic() + 20
        faulty_rounds = 0
        while box.depth()["total"] and time.monotonic() < deadline:
            delivery.run()
            # The faults come first, back to back: a round that ends with the proxy still
            # misbehaving ran wholly under faults (one whose last fault ran out midway was
            # rightly let through). Under faults nothing leaves the outbox, nothing is
            # dead-lettered.
            if proxy.fault():
                faulty_rounds += 1
                assert box.depth()["total"] == 61 and box.dead_depth()["total"] == 0
            time.sleep(0.05)
        assert faulty_rounds >= 3  # the check above did run, under the faults
    finally:
        proxy.stop()
    faults = {f for f, _, _ in proxy.seen}
    assert {"404", "429", "413"} <= faults  # every fault was actually met
    assert box.depth()["total"] == 0 and box.dead_depth()["total"] == 0
    assert set(reports) <= set(store.items) and len(store.items) == 57
    assert set(beats) == set(store.heartbeats)
    assert set(store.snapshots) == {snap}


def test_retry_after_is_honoured(tmp_path: Path, tracker: ContractTracker) -> None:
    proxy = FlakyProxy(tracker.url, [("429", 30)]).start(30)
    try:
        box = Outbox(tmp_path / "o.sqlite3")
        now = [100.0]
        delivery = delivery_for(box, proxy.url, clock=lambda: now[0])
        box.put("report", check())
        stats = delivery.run()
    finally:
        proxy.stop()
    assert stats.failed and "429" in (stats.error or "")
    # the backoff alone would wait ≤ 0.06 s; the proxy asked for 1 s
    assert delivery.next_attempt >= 101.0
    now[0] = 100.5
    assert not delivery.due()
    now[0] = 101.01
    assert delivery.due()


def test_parse_retry_after_reads_seconds_and_http_dates() -> None:
    from datetime import UTC, datetime

    now = datetime(2026, 11, 26, 8, 0, 0, tzinfo=UTC)
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after("Thu, 26 Nov 2026 08:00:30 GMT", now) == 30.0
    assert parse_retry_after("99999999") == 3600.0  # not believed beyond an hour
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None


def test_a_200_that_is_not_json_keeps_everything(tmp_path: Path, tracker: ContractTracker) -> None:
    proxy = FlakyProxy(tracker.url, [("portal", 30)]).start(30)
    try:
        box = Outbox(tmp_path / "o.sqlite3")
        delivery = delivery_for(box, proxy.url)
        box.put("report", check())
        box.put("heartbeat", heartbeat())
        box.put("snapshot", snapshot(), JPEG)
        stats = delivery.run()
    finally:
        proxy.stop()
    assert stats.failed and delivery.failures == 1
    assert box.depth()["total"] == 3 and box.dead_depth()["total"] == 0


def test_a_tracker_404_for_a_wrong_path_is_retried(
    tmp_path: Path, tracker: ContractTracker, store: Store
) -> None:
    """The tracker's own 404 ``not_found`` for a mistyped URL is not a refusal of the items."""
    box = Outbox(tmp_path / "o.sqlite3")
    delivery = delivery_for(box, tracker.url + "/typo")
    box.put("report", check())
    box.put("heartbeat", heartbeat())
    assert delivery.run().failed
    assert box.depth()["total"] == 2 and box.dead_depth()["total"] == 0 and not store.items


def test_refused_items_are_dead_lettered_and_can_be_requeued(
    tmp_path: Path, tracker: ContractTracker, store: Store
) -> None:
    box = Outbox(tmp_path / "o.sqlite3")
    delivery = delivery_for(box, tracker.url)
    good = box.put("report", check())
    foreign = box.put("report", check(camera_id=99))
    bad_snap = box.put("snapshot", snapshot(sha="0" * 64), JPEG)
    stats = delivery.run()
    assert stats.delivered == 1 and stats.rejected == 2
    assert box.depth()["total"] == 0
    assert {(d.uuid, d.code) for d in box.dead()} == {
        (foreign, "unknown_camera"),
        (bad_snap, "sha256_mismatch"),
    }
    assert good in store.items and foreign not in store.items

    # the operator assigns camera 99 to this station, then requeues the reports
    store.cameras.append(dict(CAMERA, id=99))
    assert box.requeue(kind="report") == [foreign]
    assert delivery.run().delivered == 1
    assert foreign in store.items
    assert [d.uuid for d in box.dead()] == [bad_snap]


def test_an_item_over_the_contract_limit_is_dead_lettered_without_blocking_the_rest(
    tmp_path: Path, tracker: ContractTracker, store: Store
) -> None:
    box = Outbox(tmp_path / "o.sqlite3")
    delivery = delivery_for(box, tracker.url)
    good = [box.put("report", check()) for _ in range(6)]
    huge = check()
    huge["padding"] = "y" * (1024 * 1024)  # alone over the 1 MiB limit: no tracker can take it
    box.put("report", huge)
    stats = delivery.run()
    assert stats.delivered == 6 and stats.rejected == 1
    assert set(good) == set(store.items)
    assert [(d.uuid, d.code) for d in box.dead()] == [(huge["uuid"], "too_large")]


def test_a_413_makes_the_next_batches_smaller(tmp_path: Path, tracker: ContractTracker) -> None:
    proxy = FlakyProxy(tracker.url, [("413", 0.3)]).start(30)
    try:
        box = Outbox(tmp_path / "o.sqlite3")
        delivery = delivery_for(box, proxy.url)
        for _ in range(40):
            box.put("report", check())
        assert delivery.run().failed
        assert delivery.report_batch == 20  # half of the 40 the proxy refused
        time.sleep(0.4)
        assert delivery.run(force=True).delivered == 40
        assert delivery.report_batch == 50  # grown back once batches go through
    finally:
        proxy.stop()


def test_a_snapshot_stuck_behind_a_proxy_limit_does_not_hold_up_the_reports(
    tmp_path: Path, tracker: ContractTracker, store: Store
) -> None:
    proxy = FlakyProxy(tracker.url, [("413", 30)], only="/snapshots").start(30)
    try:
        box = Outbox(tmp_path / "o.sqlite3")
        delivery = delivery_for(box, proxy.url)
        snap = box.put("snapshot", snapshot(), JPEG)  # queued first
        reports = [box.put("report", check()) for _ in range(300)]
        beat = box.put("heartbeat", heartbeat())
        stats = delivery.run()
    finally:
        proxy.stop()
    assert stats.failed and "413" in (stats.error or "")
    assert stats.delivered == 301 and set(reports) == set(store.items) and beat in store.heartbeats
    assert [i.uuid for i in box.peek("snapshot", 5)] == [snap]  # kept, retried later
    assert box.dead_depth()["total"] == 0


# ---------------------------------------------------------------- the camera cache at rest


def test_the_cached_camera_list_is_encrypted_and_the_file_owner_only(
    tmp_path: Path, tracker: ContractTracker
) -> None:
    box = Outbox(tmp_path / "o.sqlite3")
    fresh, _ = load_cameras(TrackerClient(tracker.url, "station-token", 2), box)

    def files_are_sealed_and_owner_only() -> set[str]:
        files = [p for p in tmp_path.iterdir() if p.name.startswith("o.sqlite3")]
        for p in files:
            assert b"user:pass" not in p.read_bytes() and "平安村".encode() not in p.read_bytes()
            assert stat.S_IMODE(p.stat().st_mode) == 0o600, p
        return {p.name for p in files}

    assert files_are_sealed_and_owner_only() >= {"o.sqlite3", "o.sqlite3-wal"}  # while open
    box.close()
    assert "o.sqlite3" in files_are_sealed_and_owner_only()
    # readable again with the same token (or key) while the tracker is away
    tracker.stop()
    box = Outbox(tmp_path / "o.sqlite3")
    cached, from_tracker = load_cameras(TrackerClient(tracker.url, "station-token", 1), box)
    assert not from_tracker and cached == fresh
    # another token cannot read it: no cameras, no crash
    other, _ = load_cameras(TrackerClient(tracker.url, "another-token", 1), box)
    assert other.cameras == ()


def test_a_configured_cache_key_seals_the_cache(tmp_path: Path, tracker: ContractTracker) -> None:
    from cryptography.fernet import Fernet

    key = Fernet.generate_key().decode()
    box = Outbox(tmp_path / "o.sqlite3")
    client = TrackerClient(tracker.url, "station-token", 2)
    load_cameras(client, box, key)
    tracker.stop()
    assert load_cameras(client, box, key)[0].cameras[0].id == 17
    assert load_cameras(client, box)[0].cameras == ()  # the token alone does not open it


def test_a_plain_cache_of_an_older_monitor_is_sealed_on_first_read(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "o.sqlite3")
    box.set("cameras", {"cameras": [CAMERA], "heartbeat_interval_s": 60})
    client = TrackerClient("http://127.0.0.1:9", "station-token", 0.5)
    cams, _ = load_cameras(client, box)
    assert cams.cameras[0].id == 17
    assert "user:pass" not in json.dumps(box.get("cameras"))
    assert load_cameras(client, box)[0].cameras[0].id == 17


def test_an_existing_outbox_file_is_tightened_to_0600(tmp_path: Path) -> None:
    path = tmp_path / "o.sqlite3"
    Outbox(path).close()
    os.chmod(path, 0o644)
    Outbox(path).close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


# ---------------------------------------------------------------- the commands


def _monitor(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, MONITOR_STATE_DIR=str(tmp_path), MONITOR_TOKEN="station-token")
    return subprocess.run(
        [sys.executable, "-m", "monitor.cli", "--config", str(tmp_path / "none.toml"), *args],
        capture_output=True,
        text=True,
        timeout=30,
        env=env,
    )


def test_status_counts_dead_letters_and_requeue_sends_them_again(
    tmp_path: Path, tracker: ContractTracker, store: Store
) -> None:
    box = Outbox(tmp_path / "outbox.sqlite3")
    load_cameras(TrackerClient(tracker.url, "station-token", 2), box)
    foreign = box.put("report", check(camera_id=99))
    delivery_for(box, tracker.url).run()
    box.close()

    status = _monitor(tmp_path, "status", "--json")
    assert status.returncode == 0, status.stderr
    doc = json.loads(status.stdout)
    assert doc["dead_letter"] == 1 and doc["dead_letter_by_kind"] == {"report": 1}
    assert doc["dead_letter_by_code"] == [{"kind": "report", "code": "unknown_camera", "count": 1}]
    assert doc["outbox_depth"] == 0
    assert doc["cameras"][0]["name"] == "大厅全景"  # the sealed cache opens with the token
    assert "pass" not in doc["cameras"][0]["stream_url"]
    text = _monitor(tmp_path, "status")
    assert "dead letters (refused by the tracker): 1" in text.stdout
    blind = subprocess.run(  # without the daemon's token the sealed list cannot be read
        [sys.executable, "-m", "monitor.cli", "--config", str(tmp_path / "none.toml"), "status"],
        capture_output=True, text=True, timeout=30,
        env={k: v for k, v in os.environ.items() if k != "MONITOR_TOKEN"} | {"MONITOR_STATE_DIR": str(tmp_path)},
    )  # fmt: skip
    assert blind.returncode == 0 and "encrypted" in blind.stdout and "大厅全景" not in blind.stdout

    listed = _monitor(tmp_path, "requeue", "--list")
    assert foreign in listed.stdout and "unknown_camera" in listed.stdout
    assert _monitor(tmp_path, "requeue").returncode == 2  # nothing named
    assert _monitor(tmp_path, "requeue", new_uuid()).returncode == 1
    moved = _monitor(tmp_path, "requeue", foreign)
    assert moved.returncode == 0 and "1 items back" in moved.stdout

    box = Outbox(tmp_path / "outbox.sqlite3")
    assert [i.uuid for i in box.peek("report", 10)] == [foreign]
    assert box.dead_depth()["total"] == 0
