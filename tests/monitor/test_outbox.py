"""The SQLite outbox: nothing lost, nothing duplicated — including across a real kill -9."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from monitor.outbox import Outbox, open_readonly


def test_items_stay_until_removed_in_order(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "o.sqlite3")
    uuids = [box.put("report", {"type": "check", "n": i}) for i in range(5)]
    assert box.depth()["report"] == 5
    assert [i.uuid for i in box.peek("report", 3)] == uuids[:3]
    assert box.remove(uuids[:2]) == 2
    assert [i.payload["n"] for i in box.peek("report", 10)] == [2, 3, 4]


def test_a_uuid_is_queued_once(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "o.sqlite3")
    box.put("heartbeat", {"uuid": "7d3c5c4e-2a53-4c8e-9d1e-3c1f1c1f1c1f"})
    box.put("heartbeat", {"uuid": "7d3c5c4e-2a53-4c8e-9d1e-3c1f1c1f1c1f"})
    assert box.depth()["total"] == 1


def test_failed_attempts_are_counted_and_kept(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "o.sqlite3")
    u = box.put("report", {"type": "check"})
    box.record_failure([u], "tracker down")
    box.record_failure([u], "tracker down")
    (item,) = box.peek("report", 1)
    assert item.attempts == 2


def test_items_and_state_are_written_in_one_transaction(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "o.sqlite3")
    box.put_many([("report", {"type": "state"}, None)], kv={"state:1": {"state": "down"}})
    assert box.get("state:1") == {"state": "down"}
    assert box.items_with_prefix("state:") == {"state:1": {"state": "down"}}


def test_snapshot_blobs_survive_reopening(tmp_path: Path) -> None:
    path = tmp_path / "o.sqlite3"
    box = Outbox(path)
    box.put("snapshot", {"camera_id": 1}, b"\xff\xd8\xff-jpeg")
    box.close()
    (item,) = Outbox(path).peek("snapshot", 5)
    assert item.blob == b"\xff\xd8\xff-jpeg"


def test_wal_mode_is_on(tmp_path: Path) -> None:
    Outbox(tmp_path / "o.sqlite3")
    db = sqlite3.connect(tmp_path / "o.sqlite3")
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


WRITER = textwrap.dedent(
    """
    import sys
    from monitor.outbox import Outbox
    box = Outbox(sys.argv[1])
    i = 0
    while True:
        u = box.put_many([("report", {"type": "check", "n": i}, None)], kv={"last": i})[0]
        print(u, flush=True)  # printed only after the commit returned
        i += 1
    """
)


def test_kill_9_of_a_writer_loses_no_committed_item(tmp_path: Path) -> None:
    path = tmp_path / "o.sqlite3"
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path)], stdout=subprocess.PIPE, text=True
    )
    committed: list[str] = []
    assert proc.stdout is not None
    deadline = time.monotonic() + 20
    while len(committed) < 150 and time.monotonic() < deadline:
        committed.append(proc.stdout.readline().strip())
    proc.send_signal(signal.SIGKILL)
    proc.wait(5)
    assert len(committed) >= 150
    db = open_readonly(path)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    db.close()
    box = Outbox(path)  # reopening recovers the WAL
    stored = {i.uuid for i in box.peek("report", 100_000)}
    assert set(committed) <= stored
    assert len(stored) == len({i.payload["n"] for i in box.peek("report", 100_000)})
