"""Picture checks on synthetic frames: black/covered, blurred, frozen vs a quiet live hall."""

from __future__ import annotations

import numpy as np
import pytest

from monitor import analysis
from monitor.analysis import Thresholds

T = Thresholds()
RNG = np.random.default_rng(42)


def scene(h: int = 180, w: int = 320) -> np.ndarray:
    """A sharp, textured hall: tiles plus a gradient."""
    yy, xx = np.mgrid[0:h, 0:w]
    img = 60 + (((yy // 12) + (xx // 12)) % 2) * 90 + xx * 60 // w
    return img.astype(np.uint8)


def noisy(img: np.ndarray, sigma: float) -> np.ndarray:
    return np.clip(img + RNG.normal(0, sigma, img.shape), 0, 255).astype(np.uint8)


def blur(img: np.ndarray, k: int = 15) -> np.ndarray:
    f = img.astype(np.float32)
    kernel = np.ones(k, np.float32) / k
    for axis in (0, 1):
        f = np.apply_along_axis(
            lambda v: np.convolve(np.pad(v, k // 2, mode="edge"), kernel, "valid"), axis, f
        )
    return f.astype(np.uint8)


def verdict(frames: list[np.ndarray], pts: list[float | None] | None = None) -> str:
    m = analysis.measure(frames, pts or [100.0 * i for i in range(1, len(frames) + 1)])
    return analysis.picture_verdict(m, T)


def test_a_sharp_moving_scene_is_online() -> None:
    base = scene()
    frames = [np.roll(base, 4 * i, axis=1) for i in range(5)]
    assert verdict(frames) == "online"


def test_a_quiet_empty_hall_with_sensor_noise_is_not_frozen() -> None:
    base = scene()
    frames = [noisy(base, 2.0) for _ in range(6)]
    m = analysis.measure(frames, [100.0 * i for i in range(1, 7)])
    assert m.motion is not None and m.motion > T.frozen_diff
    assert analysis.picture_verdict(m, T) == "online"


def test_an_exactly_repeated_picture_is_frozen() -> None:
    frame = noisy(scene(), 2.0)
    assert verdict([frame.copy() for _ in range(6)]) == "frozen"


def off_by_one(frame: np.ndarray, share: float) -> np.ndarray:
    """``frame`` with ``share`` of its pixels one grey level up: re-quantisation noise."""
    f = frame.astype(np.int16)
    f[RNG.random(f.shape) < share] += 1
    return np.clip(f, 0, 255).astype(np.uint8)


def test_a_frozen_encoder_re_quantising_a_still_picture_is_frozen() -> None:
    frame = noisy(scene(), 2.0)
    # measured between the I-frames of frozen H.264/H.265 encoders: 0.0-0.05 grey levels
    frames = [frame] + [off_by_one(frame, 0.02) for _ in range(3)]
    m = analysis.measure(frames, [1000.0 * i for i in range(1, 5)])
    assert m.motion is not None and m.motion <= 0.05
    assert analysis.picture_verdict(m, T) == "frozen"


@pytest.mark.parametrize("share", [0.09, 0.3, 0.6])
def test_a_quiet_live_hall_on_a_low_bitrate_main_stream_is_online(share: float) -> None:
    # a live, empty hall measured 0.09-0.61 between frames: the threshold sits below it
    frame = noisy(scene(), 2.0)
    frames = [frame] + [off_by_one(frame, share) for _ in range(3)]
    m = analysis.measure(frames, [1000.0 * i for i in range(1, 5)])
    assert m.motion is not None and m.motion >= 0.09
    assert analysis.picture_verdict(m, T) == "online"


def test_the_threshold_sits_in_the_gap_with_a_wide_margin() -> None:
    # between I-frames (what a probe compares): frozen encoders 0.0-0.046, the quiet
    # hall of tests/monitor/rtsp_server.py ≥ 0.9 (0.12-0.48 between its P-frames)
    limit = analysis.frozen_threshold(T)
    assert 3 * 0.046 <= limit <= 0.9 / 3


def test_a_camera_may_lower_the_threshold_but_not_raise_it_into_live_halls() -> None:
    frame = scene()
    frames = [noisy(frame, 0.6) for _ in range(4)]
    m = analysis.measure(frames, [1.0, 2.0, 3.0, 4.0])
    assert analysis.picture_verdict(m, Thresholds(frozen_diff=0.01)) == "online"
    # the tracker's old default of 0.5 (and anything larger) is capped
    assert analysis.frozen_threshold(Thresholds(frozen_diff=2.0)) == analysis.FROZEN_DIFF_CAP
    assert analysis.picture_verdict(m, Thresholds(frozen_diff=2.0)) == "online"


def test_a_hall_that_is_always_still_adapts_its_threshold() -> None:
    frame = noisy(scene(), 2.0)
    frames = [frame] + [off_by_one(frame, 0.12) for _ in range(3)]  # motion ~0.1-0.2
    m = analysis.measure(frames, [1000.0 * i for i in range(1, 5)])
    baseline = None
    for _ in range(10):
        baseline = analysis.update_baseline(baseline, 0.2)
    limit = analysis.frozen_threshold(T, baseline)
    assert limit == pytest.approx(0.05)
    assert analysis.picture_verdict(m, T, limit) == "online"
    frozen = analysis.measure([frame, frame, frame], [1.0, 2.0, 3.0])
    assert analysis.picture_verdict(frozen, T, limit) == "frozen"


def test_stuck_timestamps_with_near_identical_pictures_are_frozen() -> None:
    frame = scene()
    frames = [frame] + [off_by_one(frame, 0.09) for _ in range(3)]  # above the threshold alone
    m = analysis.measure(frames, [500.0, 500.0, 500.0, 500.0])
    assert m.motion is not None and m.motion > analysis.frozen_threshold(T)
    assert m.pts_advancing is False
    assert analysis.is_frozen(m, T)


def test_a_single_frame_cannot_prove_a_freeze() -> None:
    assert verdict([scene()]) == "online"


def test_a_black_picture_is_black() -> None:
    dark = np.clip(RNG.normal(5, 1.5, (180, 320)), 0, 255).astype(np.uint8)
    assert verdict([dark, dark]) == "black"


def test_a_covered_lens_is_black_even_when_bright() -> None:
    cloth = np.full((180, 320), 200, np.uint8)
    assert verdict([cloth, noisy(cloth, 1.0)]) == "black"


def test_a_dark_but_lit_hall_at_night_is_not_black() -> None:
    yy, xx = np.mgrid[0:180, 0:320]
    dim = np.where(((yy // 12) + (xx // 12)) % 2 == 0, 3, 33).astype(np.uint8)  # mean 18, edges
    frames = [noisy(dim, 1.5) for _ in range(4)]
    m = analysis.measure(frames)
    assert m.brightness < T.black_brightness
    assert not analysis.is_black(m, T)


def test_a_defocused_picture_is_blurred() -> None:
    smooth = blur(blur(scene()))  # two box passes ≈ a defocused lens
    frames = [noisy(smooth, 1.0) for _ in range(4)]
    m = analysis.measure(frames)
    assert m.sharpness < T.blur_sharpness
    assert analysis.picture_verdict(m, T) == "blurred"


def test_laplacian_variance_is_zero_on_a_flat_picture_and_high_on_edges() -> None:
    assert analysis.laplacian_variance(np.full((10, 10), 77, np.uint8)) == 0.0
    assert analysis.laplacian_variance(scene()) > 100


def test_black_wins_over_frozen() -> None:
    dark = np.zeros((90, 160), np.uint8)
    assert verdict([dark] * 4) == "black"


@pytest.mark.parametrize(
    ("pts", "expected"),
    [([1.0, 2.0], True), ([5.0, 5.0], False), ([0.0, 0.0], None), ([None, 3.0], None)],
)
def test_timestamps_advancing(pts: list[float | None], expected: bool | None) -> None:
    assert analysis.timestamps_advancing(pts) is expected


def test_thresholds_from_the_contract_json() -> None:
    t = Thresholds.from_mapping({"down_after": 5, "frozen_diff": 1, "unknown_key": "ignored"})
    assert t.down_after == 5 and t.frozen_diff == 1.0 and isinstance(t.frozen_diff, float)
    with pytest.raises(ValueError, match="black_brightness"):
        Thresholds.from_mapping({"black_brightness": "dark"})


def test_an_unchanged_picture_since_the_last_check_is_caught_without_a_window() -> None:
    frame = noisy(scene(), 2.0)
    assert analysis.frozen_across_checks(frame, frame.copy(), T) == 0.0
    # a quiet hall a minute later: only sensor noise, still above frozen_diff
    later = noisy(scene(), 2.0)
    diff = analysis.frozen_across_checks(frame, later, T)
    assert diff is not None and diff > T.frozen_diff
    assert analysis.frozen_across_checks(None, frame, T) is None


def test_a_ticking_on_screen_clock_in_a_still_hall_is_life() -> None:
    frame = noisy(scene(), 2.0)
    later = frame.astype(np.int16)
    later[20:26, 100:106] += 40  # the strokes of the seconds digit changed
    later = np.clip(later, 0, 255).astype(np.uint8)
    m = analysis.measure([frame, later], [1000.0, 61000.0])
    assert m.motion is not None and m.motion < analysis.frozen_threshold(T)  # the mean barely moves
    assert m.block_motion is not None and m.block_motion > analysis.BLOCK_FROZEN
    assert analysis.picture_verdict(m, T) == "online"
