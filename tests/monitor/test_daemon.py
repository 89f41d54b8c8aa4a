"""`monitor run`, `check` and `status` as real processes against the simulator and the contract stub.

Covers: verdicts → confirmed states → delivered; SIGTERM exits cleanly; credentials
never printed; a tracker away plus a ``kill -9`` of the daemon lose nothing and
double-count nothing after the restart.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import time
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from monitor.simulator import SimulatorServer, refusing_url

from .contract_tracker import ContractTracker, Store

pytestmark = pytest.mark.streams

SECRET = "Zx9-very-secret"
THRESHOLDS = {"down_after": 2, "up_after": 2, "frozen_window_s": 1.0}


def cameras(sim: SimulatorServer) -> list[dict[str, Any]]:
    def cam(cid: int, url: str) -> dict[str, Any]:
        return {"id": cid, "name": f"cam {cid}", "stream_url": url, "check_interval_s": 5,
                "snapshot_every_min": 60, "thresholds": THRESHOLDS}  # fmt: skip

    return [
        cam(1, sim.url("live")),
        cam(2, sim.url("frozen")),
        cam(3, refusing_url()),
        cam(4, sim.url("black")),
        cam(5, f"http://demo:{SECRET}@127.0.0.1:{sim.port}/auth"),
    ]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_config(tmp_path: Path, tracker_url: str, metrics_port: int = 0, workers: int = 2) -> Path:
    cfg = tmp_path / "config.toml"
    cfg.write_text(
        f"""
[monitor]
tracker_url = "{tracker_url}"
token = "station-token"
state_dir = "{tmp_path / "state"}"
workers = {workers}
max_concurrent_per_host = {workers}
probe_timeout_s = 1.0
heartbeat_interval_s = 2
delivery_interval_s = 0.5
jitter_s = 0.5
camera_refresh_s = 60
request_timeout_s = 2
max_backoff_s = 1
snapshot_width = 160
metrics_port = {metrics_port}
""",
        encoding="utf-8",
    )
    return cfg


class Daemon:
    """A `monitor run` process with its log in a file."""

    def __init__(self, cmd: list[str], config: Path, log: Path) -> None:
        env = dict(os.environ, MONITOR_CONFIG=str(config))
        env.pop("MONITOR_TOKEN", None)
        env.pop("MONITOR_TRACKER_URL", None)
        self.log = log
        self._out = log.open("ab")
        self.proc = subprocess.Popen(
            [*cmd, "run"], env=env, stdout=self._out, stderr=subprocess.STDOUT
        )

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait(5)
            self._out.close()


def wait_for(cond: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def latest_states(store: Store) -> dict[int, tuple[str, str | None]]:
    out: dict[int, tuple[str, str | None]] = {}
    for item in store.states():
        out[item["camera_id"]] = (item["state"], item["cause"])
    return out


@pytest.fixture
def env(sim: SimulatorServer) -> Iterator[tuple[Store, ContractTracker]]:
    store = Store(cameras=cameras(sim), heartbeat_interval_s=2)
    tracker = ContractTracker(store).start(lifetime_s=120)
    yield store, tracker
    tracker.stop()


def test_daemon_confirms_states_delivers_and_stops_cleanly(
    tmp_path: Path, env: tuple[Store, ContractTracker], monitor_cmd: list[str]
) -> None:
    store, tracker = env
    metrics_port = free_port()
    # a worker and a host slot per camera: no check is queued behind another when the daemon
    # is stopped, so the only checks after waking are the ones the schedule owes
    config = write_config(tmp_path, tracker.url, metrics_port, workers=len(store.cameras))
    daemon = Daemon(monitor_cmd, config, tmp_path / "run.log")
    expected = {1: ("up", None), 2: ("down", "frozen"), 3: ("down", "unreachable"),
                4: ("down", "black"), 5: ("down", "auth_failed")}  # fmt: skip
    try:
        wait_for(lambda: latest_states(store) == expected, 40, f"states {expected}")
        wait_for(
            lambda: len(store.heartbeats) >= 1 and len(store.snapshots) >= 1,
            10,
            "heartbeat+snapshot",
        )
        with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5) as resp:
            metrics = resp.read().decode()
        for name in ('monitor_checks_total{verdict="frozen"}', "monitor_probe_duration_seconds_bucket",
                     "monitor_outbox_depth", "monitor_last_delivery_timestamp_seconds",
                     "monitor_dead_letter"):  # fmt: skip
            assert name in metrics, name
        assert SECRET not in metrics

        # a paused daemon (SIGSTOP for 2+ intervals) runs each camera once on waking: no pile-up
        daemon.proc.send_signal(signal.SIGSTOP)
        time.sleep(11)
        resumed = time.time()
        daemon.proc.send_signal(signal.SIGCONT)
        time.sleep(3.5)
        # A check's "at" is its start to the second (the contract's wire format), so up to
        # 1 s early. The run owed on waking starts within ~1.5 s of it; the next scheduled
        # one at least 3 s after (misfire grace 2 s of the 5 s interval), i.e. at >= +2 here.
        after = [c for c in store.checks() if resumed - 1 <= _epoch(c["at"]) < resumed + 2]
        per_camera = Counter(c["camera_id"] for c in after)
        assert len(per_camera) >= 2, per_camera  # it did resume
        assert max(per_camera.values()) <= 1, per_camera
    finally:
        code = daemon.stop(signal.SIGTERM)
    log = daemon.log.read_text()
    assert code == 0, log
    assert "stopped:" in log
    assert SECRET not in log
    # every report batch, heartbeat and snapshot the monitor sent conforms to the contract's schema
    assert store.violations == [], store.violations[:5]
    assert min(store.validated[k] for k in ("ReportBatch", "Heartbeat", "SnapshotForm")) >= 1
    for f in (tmp_path / "state").glob("outbox.sqlite3*"):  # the camera cache is sealed at rest
        assert SECRET.encode() not in f.read_bytes(), f
    reasons = {s["reason"] for s in store.snapshots.values()}
    assert "state_change" in reasons
    # every camera's states: first a confirmation, never the same state twice in a row
    for cid in expected:
        seq = [(i["state"], i["cause"]) for i in store.states() if i["camera_id"] == cid]
        assert all(a != b for a, b in zip(seq, seq[1:], strict=False)), seq

    status = subprocess.run(
        [*monitor_cmd, "--config", str(config), "status", "--json"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert status.returncode == 0, status.stderr
    doc = json.loads(status.stdout)
    states = {c["id"]: c["state"] for c in doc["cameras"]}
    assert states == {1: "up", 2: "down", 3: "down", 4: "down", 5: "down"}
    assert SECRET not in status.stdout
    assert doc["last_delivery"] is not None


def _epoch(at: str) -> float:
    return datetime.fromisoformat(at.replace("Z", "+00:00")).timestamp()


def pending_uuids(state_dir: Path) -> set[str]:
    db = sqlite3.connect(f"file:{state_dir / 'outbox.sqlite3'}?mode=ro", uri=True)
    try:
        return {r[0] for r in db.execute("SELECT uuid FROM items")}
    finally:
        db.close()


def test_tracker_away_and_kill_9_lose_nothing_and_double_count_nothing(
    tmp_path: Path, env: tuple[Store, ContractTracker], monitor_cmd: list[str]
) -> None:
    store, tracker = env
    port = tracker.port
    config = write_config(tmp_path, tracker.url)
    daemon = Daemon(monitor_cmd, config, tmp_path / "run.log")
    try:
        wait_for(lambda: len(store.checks()) >= 3, 30, "first deliveries")
        tracker.stop()  # the tracker goes away; results pile up in the outbox
        wait_for(lambda: len(pending_uuids(tmp_path / "state")) >= 8, 30, "a backlog in the outbox")
    finally:
        daemon.stop(signal.SIGKILL)  # kill -9 mid-work
    backlog = pending_uuids(tmp_path / "state")
    assert backlog and not backlog & set(store.items)

    back = ContractTracker(store, port=port).start(lifetime_s=90)
    again = Daemon(monitor_cmd, config, tmp_path / "run2.log")
    try:
        stored = lambda: set(store.items) | set(store.heartbeats) | set(store.snapshots)  # noqa: E731
        wait_for(lambda: backlog <= stored(), 30, "the backlog to be delivered after the restart")
    finally:
        code = again.stop(signal.SIGTERM)
        back.stop()
    assert code == 0
    # nothing double-counted: one stored item per uuid (the stub keys by uuid), and the
    # restarted daemon resumed its hysteresis instead of re-announcing every state
    for cid in range(1, 6):
        seq = [(i["state"], i["cause"]) for i in store.states() if i["camera_id"] == cid]
        assert all(a != b for a, b in zip(seq, seq[1:], strict=False)), (cid, seq)
    assert all(store.received[u] >= 1 for u in backlog)


def test_check_cli_exit_codes_and_json(sim: SimulatorServer, monitor_cmd: list[str]) -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*monitor_cmd, "check", *args], capture_output=True, text=True, timeout=30
        )

    ok = run(sim.url("live"), "--json", "--timeout", "1", "--window", "0.5")
    assert ok.returncode == 0, ok.stderr
    doc = json.loads(ok.stdout)
    assert doc["verdict"] == "online" and isinstance(doc["elapsed_ms"], int)
    bad = run(f"http://demo:{SECRET}@127.0.0.1:{sim.port}/auth", "--json", "--timeout", "1")
    assert bad.returncode == 1 and json.loads(bad.stdout)["verdict"] == "auth_failed"
    assert SECRET not in bad.stdout + bad.stderr
    garbage = run(f"http://u:{SECRET}@127.0.0.1:{sim.port}/garbage", "--timeout", "1")
    assert garbage.returncode == 1 and "no_video" in garbage.stdout
    assert SECRET not in garbage.stdout + garbage.stderr  # nor in FFmpeg's/OpenCV's own logs
    usage = run("--timeout", "soon")
    assert usage.returncode == 2
