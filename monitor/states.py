"""Camera states with hysteresis both ways, and the monitor's own blindness.

A single bad check does not make a camera "down" and a single good one does
not bring it back: ``down_after`` consecutive bad checks confirm an outage,
``up_after`` consecutive good checks confirm recovery (per camera, from the
tracker's thresholds). A confirmed change becomes a ``state`` item of the
contract, dated at the *first* check of the confirming streak, so outage
intervals are exact rather than late by the hysteresis.

While a camera is down, a different cause confirmed by its own streak (say a
frozen picture turns into an unreachable camera) is a new ``down`` item with
the new cause, because the tracker counts picture problems (完好率) apart from
connectivity problems (在线率).

Blindness is not an outage: when the monitor cannot trust its own
observations (its clock jumped, its probe worker crashed) it reports
``unknown`` and starts the streaks afresh — it never blames the camera.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

UP, DOWN, UNKNOWN = "up", "down", "unknown"


@dataclass(frozen=True)
class StateChange:
    """A confirmed state change: the payload of a contract ``state`` item."""

    camera_id: int
    state: str
    cause: str | None
    at: datetime


@dataclass
class CameraState:
    """Hysteresis memory of one camera (persisted between runs)."""

    camera_id: int
    state: str = UNKNOWN
    cause: str | None = None
    since: str | None = None
    good_streak: int = 0
    good_since: str | None = None
    bad_streak: int = 0
    bad_since: str | None = None
    cause_streak: int = 0
    cause_streak_verdict: str | None = None
    cause_since: str | None = None
    last_verdict: str | None = None
    last_check: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CameraState:
        """Rebuild from :meth:`to_dict` output (unknown keys ignored)."""
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in known})

    def change_possible(self, down_after: int, up_after: int) -> bool:
        """Could the next check confirm a change? (Then the probe brings a snapshot along.)"""
        next_good = self.state != UP and self.good_streak + 1 >= up_after
        next_bad = self.state != DOWN and self.bad_streak + 1 >= down_after
        next_cause = self.state == DOWN and self.cause_streak + 1 >= down_after
        return next_good or next_bad or next_cause

    def observe(
        self, verdict: str, at: datetime, down_after: int, up_after: int
    ) -> StateChange | None:
        """Feed one check verdict; return the state change it confirms, if any."""
        stamp = at.isoformat()
        self.last_verdict = verdict
        self.last_check = stamp
        if verdict == "online":
            if self.good_streak == 0:
                self.good_since = stamp
            self.good_streak += 1
            self.bad_streak = 0
            self.cause_streak = 0
            self.cause_streak_verdict = None
            if self.state != UP and self.good_streak >= max(1, up_after):
                return self._change(UP, None, self.good_since or stamp)
            return None

        if self.bad_streak == 0:
            self.bad_since = stamp
        self.bad_streak += 1
        self.good_streak = 0
        if verdict == self.cause_streak_verdict:
            self.cause_streak += 1
        else:
            self.cause_streak_verdict = verdict
            self.cause_streak = 1
            self.cause_since = stamp
        need = max(1, down_after)
        if self.state != DOWN and self.bad_streak >= need:
            return self._change(DOWN, verdict, self.bad_since or stamp)
        if self.state == DOWN and verdict != self.cause and self.cause_streak >= need:
            return self._change(DOWN, verdict, self.cause_since or stamp)
        return None

    def blind(self, at: datetime) -> StateChange | None:
        """The monitor cannot vouch for what it saw: go ``unknown`` and forget the streaks."""
        self.good_streak = self.bad_streak = self.cause_streak = 0
        self.cause_streak_verdict = None
        if self.state == UNKNOWN:
            return None
        return self._change(UNKNOWN, None, at.isoformat())

    def _change(self, state: str, cause: str | None, since: str) -> StateChange:
        self.state, self.cause, self.since = state, cause, since
        return StateChange(self.camera_id, state, cause, datetime.fromisoformat(since))


class ClockWatch:
    """Detects a jump of the wall clock against the monotonic clock.

    NTP slews a clock gently; a jump of more than ``tolerance_s`` (a wrong RTC
    after a power cut, a manual change, a resumed VM) means timestamps around it
    cannot be trusted, so every camera goes ``unknown`` until re-confirmed.
    """

    def __init__(
        self,
        tolerance_s: float = 30.0,
        wall: Callable[[], float] = time.time,
        mono: Callable[[], float] = time.monotonic,
    ) -> None:
        self.tolerance_s = tolerance_s
        self._wall, self._mono = wall, mono
        self._offset = wall() - mono()

    def jumped(self) -> float | None:
        """The size of a jump since the last call (seconds, signed), or ``None``."""
        offset = self._wall() - self._mono()
        delta = offset - self._offset
        self._offset = offset
        return delta if abs(delta) > self.tolerance_s else None
