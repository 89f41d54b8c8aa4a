"""Picture checks on decoded frames — pure numpy, no camera, no cv2.

A probe hands this module a short window of greyscale frames (``uint8`` 2-D
arrays, already reduced to an analysis width) plus their stream timestamps, and
gets back measurements and a verdict. Everything here is a pure function so the
rules are tested on synthetic frames (see ``tests/monitor/test_analysis.py``).

Why these measures:

* brightness = mean grey level, contrast = standard deviation: a covered lens or
  a dead sensor is dark *and* flat; a dark but lit hall at night still has contrast.
* sharpness = variance of the 4-neighbour Laplacian (at half resolution, so sensor
  noise does not pass for detail): a defocused or smeared lens loses high frequencies.
* motion = the largest mean absolute difference between consecutive analysed
  frames of the window — key frames only for H.264/H.265 (the probe decodes
  nothing else), every few frames for MJPEG. A frozen MJPEG repeats identical
  bytes (exactly 0); a frozen encoder re-quantises the same still input into
  I-frames that differ by ≤ 0.05 grey levels (measured: 0.0–0.046 H.264 and
  H.265, 0.006–0.022 on real NVRs), while a quiet, empty hall on a low-bitrate
  main stream differs by 0.09–0.61 between consecutive frames and ~0.9 between
  I-frames (sensor noise re-encoded). The threshold therefore sits at
  :data:`FROZEN_DIFF_CAP` (0.15) at most, whatever larger ``frozen_diff`` a
  camera carries, and adapts down to a quarter of the camera's own usual
  motion, so a hall that is always still never reads as frozen.
  A change confined to one 16 × 16 block (:data:`BLOCK_FROZEN`: the camera's
  on-screen clock, a person far away) is life whatever the mean.
  Stream timestamps that do not advance are a second, independent sign of a freeze.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

Frame = npt.NDArray[np.uint8]

VERDICTS = ("online", "unreachable", "auth_failed", "no_video", "frozen", "black", "blurred")
"""Every verdict a check may yield (the contract's list, in this order)."""

PICTURE_PROBLEMS = ("frozen", "black", "blurred")
"""Verdicts about the picture of a camera that does deliver video (count against 完好率 only)."""


@dataclass(frozen=True)
class Thresholds:
    """Per-camera thresholds, as sent by the tracker in ``thresholds`` (docs/contract.md)."""

    down_after: int = 3
    up_after: int = 2
    black_brightness: float = 20.0
    black_contrast: float = 8.0
    blur_sharpness: float = 15.0
    frozen_diff: float = 0.15
    frozen_window_s: float = 2.0

    @classmethod
    def from_mapping(cls, data: Mapping[str, object] | None) -> Thresholds:
        """Build thresholds from the contract's JSON object, ignoring unknown keys, keeping defaults."""
        if not data:
            return cls()
        kwargs: dict[str, object] = {}
        for name, default in cls().__dict__.items():
            if name in data and data[name] is not None:
                value = data[name]
                if isinstance(value, bool) or not isinstance(value, int | float):
                    raise ValueError(f"threshold {name!r} must be a number, got {value!r}")
                kwargs[name] = type(default)(value)
        return cls(**kwargs)  # type: ignore[arg-type]


@dataclass
class PictureMeasurements:
    """What the picture checks measured over one window of frames."""

    frames: int
    brightness: float
    contrast: float
    sharpness: float
    motion: float | None
    pts_advancing: bool | None
    block_motion: float | None = None
    extra: dict[str, float | bool | str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, float | int | bool | str | None]:
        """Flat dict in the contract's ``measurements`` shape (rounded for humans)."""
        out: dict[str, float | int | bool | str | None] = {
            "frames": self.frames,
            "brightness": round(self.brightness, 2),
            "contrast": round(self.contrast, 2),
            "sharpness": round(self.sharpness, 2),
            "motion": None if self.motion is None else round(self.motion, 3),
            "block_motion": None if self.block_motion is None else round(self.block_motion, 2),
            "pts_advancing": self.pts_advancing,
        }
        out.update(self.extra)
        return out


def brightness(frame: Frame) -> float:
    """Mean grey level, 0–255."""
    return float(frame.mean())


def contrast(frame: Frame) -> float:
    """Standard deviation of the grey levels."""
    return float(frame.std())


def _half(frame: Frame) -> npt.NDArray[np.float32]:
    """2×2 block means: halves sensor noise (σ) while keeping the edges of a focused picture."""
    h, w = (frame.shape[0] // 2) * 2, (frame.shape[1] // 2) * 2
    f = frame[:h, :w].astype(np.float32)
    return (f[0::2, 0::2] + f[1::2, 0::2] + f[0::2, 1::2] + f[1::2, 1::2]) / 4.0


def laplacian_variance(frame: Frame) -> float:
    """Variance of the 4-neighbour Laplacian (a focus measure), taken at half resolution.

    Sensor noise alone gives a Laplacian variance of 20·σ² at full resolution —
    enough to make a defocused, noisy camera look sharp; averaging 2×2 blocks
    first cuts that by four without touching real edges.
    """
    f = _half(frame) if min(frame.shape[:2]) >= 8 else frame.astype(np.float32)
    if f.shape[0] < 3 or f.shape[1] < 3:
        return 0.0
    lap = f[:-2, 1:-1] + f[2:, 1:-1] + f[1:-1, :-2] + f[1:-1, 2:] - 4.0 * f[1:-1, 1:-1]
    return float(lap.var())


def mean_abs_diff(a: Frame, b: Frame) -> float:
    """Mean absolute grey-level difference of two equally sized frames."""
    if a.shape != b.shape:
        raise ValueError(f"frame shapes differ: {a.shape} vs {b.shape}")
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean())


def motion(frames: Sequence[Frame]) -> float | None:
    """Largest difference between consecutive frames, or ``None`` with fewer than two frames."""
    if len(frames) < 2:
        return None
    return max(mean_abs_diff(a, b) for a, b in zip(frames, frames[1:], strict=False))


def timestamps_advancing(pts_ms: Sequence[float | None]) -> bool | None:
    """Whether stream timestamps moved forward across the window; ``None`` if unknown.

    Timestamps of 0 or ``None`` are what a backend reports when it has none, so
    they make the answer unknown rather than "stuck".
    """
    known = [p for p in pts_ms if p is not None and p > 0]
    if len(known) < 2:
        return None
    return known[-1] > known[0]


BLOCK = 16
"""Side in pixels (at the analysis width) of the blocks of :func:`block_motion`."""

BLOCK_FROZEN = 2.0
"""A block changing by more than this many grey levels on average is life, whatever the mean.

A camera's on-screen clock ticking in a still hall changes the whole picture by
0.03 grey levels but its block by 3–6; a person far away likewise. A frozen
encoder's re-quantisation stays below 1 in every block."""


def block_diff(a: Frame, b: Frame) -> float:
    """The largest mean absolute difference of one :data:`BLOCK` × :data:`BLOCK` block."""
    if a.shape != b.shape:
        raise ValueError(f"frame shapes differ: {a.shape} vs {b.shape}")
    h, w = (a.shape[0] // BLOCK) * BLOCK, (a.shape[1] // BLOCK) * BLOCK
    if h == 0 or w == 0:
        return mean_abs_diff(a, b)
    d = np.abs(a[:h, :w].astype(np.int16) - b[:h, :w].astype(np.int16)).astype(np.float32)
    return float(d.reshape(h // BLOCK, BLOCK, w // BLOCK, BLOCK).mean(axis=(1, 3)).max())


def block_motion(frames: Sequence[Frame]) -> float | None:
    """The largest :func:`block_diff` between consecutive frames (``None`` with one frame)."""
    if len(frames) < 2:
        return None
    return max(block_diff(a, b) for a, b in zip(frames, frames[1:], strict=False))


def measure(frames: Sequence[Frame], pts_ms: Sequence[float | None] = ()) -> PictureMeasurements:
    """Measure a window of greyscale frames (the last one is the picture judged for black/blur)."""
    if not frames:
        raise ValueError("measure() needs at least one frame")
    last = frames[-1]
    return PictureMeasurements(
        frames=len(frames),
        brightness=brightness(last),
        contrast=contrast(last),
        sharpness=laplacian_variance(last),
        motion=motion(frames),
        block_motion=block_motion(frames),
        pts_advancing=timestamps_advancing(pts_ms),
    )


def is_black(m: PictureMeasurements, t: Thresholds) -> bool:
    """Dark and flat: lens covered, sensor dead, or a black test picture.

    A picture flatter than half the contrast threshold counts as covered whatever
    its brightness (a cloth or a sheet of paper over the lens).
    """
    flat = m.contrast < t.black_contrast
    return (flat and m.brightness < t.black_brightness) or m.contrast < t.black_contrast / 2


FROZEN_DIFF_CAP = 0.15
"""Largest frozen threshold in grey levels: 3× a frozen encoder's worst, below a quiet hall's least."""

BASELINE_SHARE = 0.25
"""A camera is frozen below this share of its own usual motion (its adaptive baseline)."""


def frozen_threshold(t: Thresholds, baseline: float | None = None) -> float:
    """The frozen threshold for one camera: ``frozen_diff`` capped, lowered by a still baseline."""
    threshold = min(t.frozen_diff, FROZEN_DIFF_CAP)
    if baseline is not None and baseline > 0:
        threshold = min(threshold, BASELINE_SHARE * baseline)
    return threshold


def update_baseline(baseline: float | None, motion: float, weight: float = 0.2) -> float:
    """The camera's usual motion, an exponential average over its live checks.

    Only online checks feed it (a frozen picture must not teach the monitor that
    frozen is normal); a single very busy check moves it by at most ``weight``.
    """
    if baseline is None or baseline <= 0:
        return motion
    return (1 - weight) * baseline + weight * motion


def is_frozen(m: PictureMeasurements, t: Thresholds, threshold: float | None = None) -> bool:
    """The picture did not change across the window.

    Two signals, either suffices: the analysed frames differ by no more than the
    threshold (:func:`frozen_threshold`; an exact repeat is 0; a still, live hall
    shows re-encoded sensor noise above it), or the stream timestamps did not
    advance while the picture stayed within twice that difference. A single
    frame cannot prove a freeze.
    """
    limit = frozen_threshold(t) if threshold is None else threshold
    if m.motion is None:
        return False
    if m.block_motion is not None and m.block_motion > BLOCK_FROZEN:
        return False  # something changed somewhere: a clock, a person far away
    if m.motion <= limit:
        return True
    return m.pts_advancing is False and m.motion <= 2 * limit


def is_blurred(m: PictureMeasurements, t: Thresholds) -> bool:
    """Too few high frequencies for a focused picture."""
    return m.sharpness < t.blur_sharpness


def frozen_across_checks(previous: Frame | None, current: Frame, t: Thresholds) -> float | None:
    """Difference between this check's picture and the previous check's, or ``None``.

    Used when a check decoded a single frame (no window, so no ``motion``): a
    picture that has not changed since the last check, a minute or more ago, is
    frozen. Both pictures are at the analysis size, the same scale as the window's
    ``motion``, so the camera's ``frozen_diff`` means the same thing in both.
    """
    if previous is None or previous.shape != current.shape:
        return None
    return mean_abs_diff(previous, current)


def picture_verdict(m: PictureMeasurements, t: Thresholds, threshold: float | None = None) -> str:
    """``online`` or the picture problem, most telling first: black, frozen, blurred."""
    if is_black(m, t):
        return "black"
    if is_frozen(m, t, threshold):
        return "frozen"
    if is_blurred(m, t):
        return "blurred"
    return "online"
