"""Pool sizing: the station keeps up with its cameras by default, and says so when it cannot."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from monitor.cameras import Camera
from monitor.config import from_mapping
from monitor.scheduler import Daemon

MakeDaemon = Callable[..., Daemon]


@pytest.fixture
def make_daemon(tmp_path: Path) -> Iterator[MakeDaemon]:
    made: list[Daemon] = []

    def make(n: int, **cfg: object) -> Daemon:
        section = {"state_dir": str(tmp_path / f"state{len(made)}"), **cfg}
        d = Daemon(from_mapping(section, env={}))
        d.cameras = {
            i: Camera(id=i, name="", stream_url=f"rtsp://10.0.{i // 200}.{i % 200 + 1}/ch1")
            for i in range(n)
        }
        made.append(d)
        return d

    yield make
    for d in made:
        d.outbox.close()


def test_200_cameras_at_60_s_get_a_pool_that_carries_their_windows(make_daemon: MakeDaemon) -> None:
    d = make_daemon(200)
    cap = d.size_pool()
    # 200 checks a minute of ~3 s each (open + 2 s window) keep ten workers busy
    assert cap["checks_needed_per_min"] == 200
    assert cap["workers_needed"] == pytest.approx(10.0)
    assert cap["workers"] == 14 and cap["window_s"] == 2.0 and cap["keeping_up"]


def test_1000_cameras_drop_the_windows_before_missing_checks(make_daemon: MakeDaemon) -> None:
    d = make_daemon(1000)
    for cam_id in d.cameras:
        d.learned[cam_id] = {"open_s": 0.4}  # measured: open and a key frame in 0.4 s
    cap = d.size_pool()
    assert cap["checks_needed_per_min"] == 1000
    assert cap["window_s"] == 0.0 and d.window_cap == 0.0
    assert cap["workers"] == 10 and cap["keeping_up"]
    assert "帧窗口" in cap["why"]


def test_a_station_that_cannot_keep_up_says_why(make_daemon: MakeDaemon) -> None:
    d = make_daemon(1000, max_workers=4)
    cap = d.size_pool()
    assert cap["workers"] == 4 and not cap["keeping_up"]
    assert "探测进程不够" in cap["why"]
    assert d.outbox.get("capacity")["why"] == cap["why"]


def test_a_fixed_workers_setting_is_kept(make_daemon: MakeDaemon) -> None:
    d = make_daemon(200, workers=3)
    assert d.size_pool()["workers"] == 3
