"""The station keeps up by default and stops like systemd stops it.

``monitor run`` with the shipped pool settings (``workers = 0``: sized from the
cameras): SIGTERM to the whole process group (systemd's ``KillMode=control-group``)
lets the checks in progress finish and deliver; ``monitor status`` reports the
checks needed, done and missed per minute.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from datetime import datetime
from pathlib import Path

import pytest

from .contract_tracker import ContractTracker, Store
from .test_daemon import env, wait_for, write_config  # noqa: F401 - env is a fixture

pytestmark = pytest.mark.streams


def _epoch(at: str) -> float:
    return datetime.fromisoformat(at.replace("Z", "+00:00")).timestamp()


def test_sigterm_to_the_process_group_lets_running_checks_finish(
    tmp_path: Path,
    env: tuple[Store, ContractTracker],  # noqa: F811 - the fixture imported above
    monitor_cmd: list[str],
) -> None:
    store, tracker = env
    config = write_config(tmp_path, tracker.url)
    text = config.read_text(encoding="utf-8").replace("workers = 2\n", "workers = 0\n")
    # long windows, so that a SIGTERM finds checks in progress
    config.write_text(text + "max_window_s = 3.0\n", encoding="utf-8")
    for cam in store.cameras:
        cam["thresholds"] = {**cam["thresholds"], "frozen_window_s": 3.0}
    environ = dict(os.environ, MONITOR_CONFIG=str(config))
    environ.pop("MONITOR_TOKEN", None)
    environ.pop("MONITOR_TRACKER_URL", None)
    log = tmp_path / "run.log"
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [*monitor_cmd, "run"], env=environ, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, as under systemd
        )  # fmt: skip
    try:
        # the first round has no previous picture to compare with: 3 s windows, so
        # when the first result arrives the other cameras' checks are in progress
        wait_for(lambda: len(store.checks()) >= 1, 40, "a first check")
        term_at = time.time()
        os.killpg(proc.pid, signal.SIGTERM)
        code = proc.wait(40)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)
    text = log.read_text()
    assert code == 0, text
    assert "probe worker died" not in text and "no verdict" not in text, text
    in_flight = [
        c for c in store.checks()
        if _epoch(c["at"]) < term_at < _epoch(c["at"]) + c["elapsed_ms"] / 1000
    ]  # fmt: skip
    assert in_flight, "the checks running at SIGTERM finished and were delivered"

    status = subprocess.run(
        [*monitor_cmd, "--config", str(config), "status", "--json"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    cap = json.loads(status.stdout)["capacity"]
    # five cameras every 5 s: 60 checks a minute asked for; a pool sized for them
    assert cap["checks_needed_per_min"] == 60
    assert 1 <= cap["workers"] <= cap["max_workers"]
    assert cap["workers_needed"] > 0
    text_status = subprocess.run(
        [*monitor_cmd, "--config", str(config), "status"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert "keeping up:" in text_status.stdout
