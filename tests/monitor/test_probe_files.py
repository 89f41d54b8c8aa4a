"""Local files work too (for testing and for a recorded clip), and a missing one is no_video."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from monitor.probe import ProbePool, ProbeRequest


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        pytest.skip("ffmpeg not installed")
    path = tmp_path_factory.mktemp("clip") / "hall.mp4"
    subprocess.run(
        [ffmpeg, "-loglevel", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=10",
         "-t", "3", "-c:v", "libx264", "-preset", "ultrafast", str(path)],
        check=True,
        timeout=60,
    )  # fmt: skip
    return path


def test_a_video_file_is_probed_by_frame_count_and_is_online(pool: ProbePool, clip: Path) -> None:
    r = pool.probe(ProbeRequest(str(clip), timeout_s=2.0))
    assert r.verdict == "online", (r.error, r.measurements)
    assert r.measurements["frames"] >= 3 and r.elapsed_ms < 2000


def test_a_missing_file_is_no_video(pool: ProbePool, tmp_path: Path) -> None:
    r = pool.probe(ProbeRequest(str(tmp_path / "nope.mp4"), timeout_s=1.0))
    assert r.verdict == "no_video"
