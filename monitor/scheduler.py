"""The station daemon: APScheduler drives checks, heartbeats, delivery and camera-list refreshes.

* One interval job per camera at its ``check_interval_s`` with jitter, so a
  thousand cameras do not all open at the top of the minute. ``coalesce`` and a
  ``misfire_grace_time`` of half the interval mean a paused daemon (SIGSTOP, a
  suspended VM, a long GC) runs each camera once when it wakes — no pile-up.
* The first run of each camera is placed so that the cameras of one host (an
  NVR) are spread evenly over their interval, each host at its own phase; the
  interval trigger keeps that spacing afterwards.
* Concurrency is bounded per station by the probe pool and per NVR host by
  :class:`HostLimiter` (``max_concurrent_per_host``, ``host_limits`` per host):
  an NVR serving sixteen cameras over one uplink is not asked for sixteen
  streams at once. A host that answers 453/454/503 is busy, not down: the check
  is retried later and the host's limit is lowered to what it accepted.
* The pool is sized from the cameras, their intervals and the measured probe
  times (``workers = 0``), up to ``max_workers``; missed checks are counted per
  minute with the reason, in the metrics and in ``monitor status``.
* What a camera taught the monitor — its GOP, the RTSP transport that works,
  its usual picture motion — is remembered per camera (outbox ``learn:<id>``).
* Every result goes to the outbox in one transaction with the hysteresis state
  it changed; delivery runs on its own schedule and backs off while the
  tracker is away.
* Evidence snapshots (a ~640 px JPEG and its SHA-256) are queued at the hall's
  opening time, on every confirmed state change and every
  ``snapshot_every_min`` minutes.
* A clock watchdog turns a jump of the wall clock into ``unknown`` states.

SIGTERM lets in-flight checks finish, makes a last delivery attempt, and exits.
"""

from __future__ import annotations

import hashlib
import logging
import math
import random
import signal
import threading
import time
import zlib
from collections import deque
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
from apscheduler.events import EVENT_JOB_MAX_INSTANCES, EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from monitor import __version__, analysis
from monitor.cameras import Camera
from monitor.client import Delivery, TrackerClient, load_cameras
from monitor.config import MonitorConfig
from monitor.metrics import Metrics
from monitor.outbox import Outbox, new_uuid, utc_iso
from monitor.probe import ProbePool, ProbeRequest, ProbeResult
from monitor.redact import redact
from monitor.states import CameraState, ClockWatch, StateChange

log = logging.getLogger(__name__)

OUTBOX_FILE = "outbox.sqlite3"
MAX_MEASUREMENT_KEYS = 40
POOL_HEADROOM = 1.3
"""Workers for 130 % of the measured load: checks wait little, a slow minute does not miss."""
CAPACITY_EVERY_S = 15.0
"""How often the pool is resized and the keeping-up figures are written."""


class HostLimiter:
    """Concurrent probes per host: configured (``host_limits``), learned, or the default.

    :meth:`busy` is called when a host answered that it is out of sessions (RTSP
    453/454, 503): its limit becomes one less than the probes we had at it (at
    least 1), lowered again by each further busy answer, and stays so — an NVR's
    session limit is fixed.
    """

    def __init__(
        self, default: int, configured: dict[str, int], learned: dict[str, int] | None = None
    ) -> None:
        self.default = default
        self.configured = dict(configured)
        self.learned = dict(learned or {})
        self.active: dict[str, int] = {}
        self.waits: dict[str, int] = {}
        self._cond = threading.Condition()

    def limit(self, host: str) -> int:
        """How many probes may run against ``host`` at once."""
        if host in self.configured:
            return self.configured[host]
        return min(self.default, self.learned.get(host, self.default))

    def acquire(self, host: str, stopping: threading.Event) -> bool:
        """Wait for a slot on ``host``; False if the daemon is stopping. Counts the waits."""
        with self._cond:
            waited = False
            while self.active.get(host, 0) >= self.limit(host):
                if not waited:
                    self.waits[host] = self.waits.get(host, 0) + 1
                    waited = True
                if stopping.is_set():
                    return False
                self._cond.wait(1.0)
            self.active[host] = self.active.get(host, 0) + 1
            return True

    def release(self, host: str) -> None:
        """Give the slot back."""
        with self._cond:
            self.active[host] = max(0, self.active.get(host, 0) - 1)
            self._cond.notify_all()

    def busy(self, host: str) -> int:
        """``host`` said it is out of sessions while we held ``active``: learn its limit."""
        with self._cond:
            if host not in self.configured:
                # one session fewer than we held: some of our probes may not have reached
                # SETUP yet, so each busy answer lowers the limit by one more
                held = min(self.limit(host), self.active.get(host, 1))
                self.learned[host] = max(1, held - 1)
            return self.limit(host)


def check_item(camera_id: int, result: ProbeResult) -> dict[str, Any]:
    """A contract ``check`` item from a probe result (measurements flattened, ≤ 40 keys, no nulls)."""
    measurements: dict[str, Any] = {}
    for key, value in result.measurements.items():
        if value is None or isinstance(value, dict | list | bytes):
            continue
        if isinstance(value, str):
            value = redact(value)[:80]
        measurements[key] = value
        if len(measurements) >= MAX_MEASUREMENT_KEYS - 1:
            break
    if result.error:
        measurements["error"] = redact(result.error)[:120]
    return {
        "uuid": new_uuid(),
        "type": "check",
        "camera_id": camera_id,
        "at": utc_iso(result.started_at),
        "verdict": result.verdict,
        "elapsed_ms": result.elapsed_ms,
        "measurements": measurements,
    }


def spread_offsets(cameras: list[Camera]) -> dict[int, float]:
    """Seconds after now for each camera's first check: one host's cameras evenly over the
    interval, every host at its own phase (so an NVR never sees its cameras in a burst)."""
    by_host: dict[str, list[Camera]] = {}
    for cam in sorted(cameras, key=lambda c: c.id):
        by_host.setdefault(cam.host, []).append(cam)
    offsets: dict[int, float] = {}
    for host, cams in by_host.items():
        phase = (zlib.crc32(host.encode()) % 1000) / 1000
        n = len(cams)
        for k, cam in enumerate(cams):
            offsets[cam.id] = cam.check_interval_s * ((k + phase) / n) % cam.check_interval_s
    return offsets


def state_item(change: StateChange) -> dict[str, Any]:
    """A contract ``state`` item from a confirmed change."""
    return {
        "uuid": new_uuid(),
        "type": "state",
        "camera_id": change.camera_id,
        "at": utc_iso(change.at),
        "state": change.state,
        "cause": change.cause,
    }


class Daemon:
    """One station's monitor: owns the pool, the outbox, the scheduler and the camera states."""

    def __init__(self, cfg: MonitorConfig) -> None:
        self.cfg = cfg
        cfg.state_path.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.outbox = Outbox(cfg.state_path / OUTBOX_FILE)
        self.metrics = Metrics()
        self.client = TrackerClient(cfg.tracker_url, cfg.token, cfg.request_timeout_s)
        self.delivery = Delivery(
            self.outbox,
            self.client,
            batch_size=cfg.batch_size,
            max_backoff_s=cfg.max_backoff_s,
            on_delivered=self._delivered,
        )
        self.started_at = utc_iso()
        self.stopping = threading.Event()
        self.cameras: dict[int, Camera] = {}
        self.states: dict[int, CameraState] = {}
        for value in self.outbox.items_with_prefix("state:").values():
            st = CameraState.from_dict(value)
            self.states[st.camera_id] = st
        self.snapshots_taken: dict[int, dict[str, str]] = {
            int(k.split(":", 1)[1]): v for k, v in self.outbox.items_with_prefix("snap:").items()
        }
        self.thumbs: dict[int, npt.NDArray[np.uint8]] = {}
        self._lock = threading.Lock()
        self.learned: dict[int, dict[str, Any]] = {
            int(k.split(":", 1)[1]): v for k, v in self.outbox.items_with_prefix("learn:").items()
        }
        self.hosts = HostLimiter(
            cfg.max_concurrent_per_host,
            cfg.host_limits,
            {
                k.split(":", 1)[1]: int(v)
                for k, v in self.outbox.items_with_prefix("hostlimit:").items()
            },
        )
        self.busy_streak: dict[int, int] = {}
        self.done_at: deque[float] = deque(maxlen=100_000)
        self.missed_at: deque[tuple[float, str]] = deque(maxlen=100_000)
        self.heartbeat_interval_s = cfg.heartbeat_interval_s
        self.clock = ClockWatch()
        self.pool: ProbePool | None = None
        self.max_workers = cfg.workers or cfg.max_workers
        self.window_cap = cfg.max_window_s
        """The frame window now in use: ``max_window_s``, or 0 while the pool cannot keep up."""
        self.scheduler = BackgroundScheduler(
            executors={
                # a check thread mostly waits (for a host slot, a worker, the camera)
                "checks": ThreadPoolExecutor(max_workers=max(8, self.max_workers * 2)),
                "default": ThreadPoolExecutor(max_workers=4),
            },
            job_defaults={"coalesce": True, "max_instances": 1},
            timezone=UTC,
        )
        self.scheduler.add_listener(self._missed, EVENT_JOB_MISSED | EVENT_JOB_MAX_INSTANCES)

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        """Start workers, load cameras, schedule every job."""
        self.pool = ProbePool(self.cfg.workers or 2)
        if self.cfg.metrics_port:
            self.metrics.serve(self.cfg.metrics_port)
            log.info("metrics on http://127.0.0.1:%d/metrics", self.cfg.metrics_port)
        self.refresh_cameras()
        self.queue_heartbeat()
        sched = self.scheduler
        sched.add_job(
            self.deliver, IntervalTrigger(seconds=self.cfg.delivery_interval_s), id="deliver"
        )
        sched.add_job(
            self.queue_heartbeat, IntervalTrigger(seconds=self.heartbeat_interval_s), id="heartbeat"
        )
        sched.add_job(
            self.refresh_cameras, IntervalTrigger(seconds=self.cfg.camera_refresh_s), id="refresh"
        )
        sched.add_job(self.watch_clock, IntervalTrigger(seconds=5), id="clock")
        sched.add_job(self.size_pool, IntervalTrigger(seconds=CAPACITY_EVERY_S), id="capacity")
        self.size_pool()
        sched.start()
        log.info(
            "monitor %s started: %d cameras, %d probe workers (%s), tracker %s",
            __version__,
            len(self.cameras),
            self.pool.target,
            "fixed" if self.cfg.workers else f"automatic, at most {self.max_workers}",
            redact(self.cfg.tracker_url),
        )

    def stop(self) -> None:
        """Finish in-flight checks, try a last delivery, stop the workers."""
        if self.stopping.is_set():
            return
        self.stopping.set()
        log.info("stopping: waiting for in-flight checks")
        if self.scheduler.running:
            self.scheduler.shutdown(wait=True)
        stats = self.delivery.run(max_rounds=5, force=True)
        log.info(
            "stopped: %d items delivered on the way out, %d left in the outbox",
            stats.delivered,
            self.outbox.depth()["total"],
        )
        if self.pool is not None:
            self.pool.close()
        self.outbox.close()

    def run_forever(self) -> int:
        """Run until SIGTERM/SIGINT; returns the process exit code."""
        stop = threading.Event()

        def on_signal(signum: int, _frame: object) -> None:
            log.info("received %s", signal.Signals(signum).name)
            stop.set()

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        self.start()
        try:
            while not stop.wait(1.0):
                pass
        finally:
            self.stop()
        return 0

    # ------------------------------------------------------------------ cameras
    def refresh_cameras(self) -> None:
        """Fetch (or fall back to the cached) camera list and (re)schedule the checks."""
        cam_list, fresh = load_cameras(self.client, self.outbox, self.cfg.cache_key)
        if cam_list.heartbeat_interval_s:
            self.heartbeat_interval_s = min(
                self.cfg.heartbeat_interval_s, cam_list.heartbeat_interval_s
            )
            job = self.scheduler.get_job("heartbeat")
            if job is not None and job.trigger.interval != timedelta(
                seconds=self.heartbeat_interval_s
            ):
                job.reschedule(IntervalTrigger(seconds=self.heartbeat_interval_s))
        for why in cam_list.skipped:
            log.warning("skipped a malformed camera from the tracker: %s", redact(why))
        new = {c.id: c for c in cam_list.cameras}
        with self._lock:
            old = self.cameras
            self.cameras = new
        for cam_id in set(old) - set(new):
            if self.scheduler.get_job(f"check-{cam_id}"):
                self.scheduler.remove_job(f"check-{cam_id}")
        offsets = spread_offsets(list(new.values()))
        now = datetime.now(UTC)
        for cam in new.values():
            prev = old.get(cam.id)
            job_id = f"check-{cam.id}"
            unchanged = prev is not None and prev.check_interval_s == cam.check_interval_s
            if unchanged and self.scheduler.get_job(job_id):
                continue
            interval = cam.check_interval_s
            self.scheduler.add_job(
                self.check_camera,
                # the start date fixes the phase of every later run, not only the first
                IntervalTrigger(
                    seconds=interval,
                    jitter=min(self.cfg.jitter_s, interval / 10),
                    start_date=now + timedelta(seconds=offsets[cam.id]),
                ),
                args=[cam.id],
                id=job_id,
                executor="checks",
                replace_existing=True,
                misfire_grace_time=max(1, int(interval / 2)),
            )
        self.metrics.cameras.set(len(new))
        if fresh or not old:
            log.info(
                "camera list: %d cameras (%s)", len(new), "from tracker" if fresh else "cached"
            )

    # ------------------------------------------------------------------ checks
    def _snapshot_reason(self, cam: Camera, now: datetime) -> str | None:
        taken = self.snapshots_taken.get(cam.id, {})
        last_opening = taken.get("opening")
        if cam.opening_start_due(
            now, datetime.fromisoformat(last_opening) if last_opening else None
        ):
            return "opening"
        last_periodic = taken.get("any")
        if cam.snapshot_every_min > 0 and (
            last_periodic is None
            or now - datetime.fromisoformat(last_periodic)
            >= timedelta(minutes=cam.snapshot_every_min)
        ):
            return "periodic"
        return None

    def check_camera(self, camera_id: int) -> None:
        """Scheduled job: probe one camera and queue what came of it."""
        if self.stopping.is_set() or self.pool is None:
            return
        cam = self.cameras.get(camera_id)
        if cam is None:
            return
        waits_before = self.hosts.waits.get(cam.host, 0)
        if not self.hosts.acquire(cam.host, self.stopping):
            return
        if self.hosts.waits.get(cam.host, 0) > waits_before:
            self.metrics.host_waits.labels(self.metrics.host_label(cam.host)).inc()
        try:
            if self.stopping.is_set():
                return
            now = datetime.now(UTC)
            with self._lock:
                st = self.states.setdefault(cam.id, CameraState(cam.id))
                t = cam.thresholds
                maybe_change = st.change_possible(t.down_after, t.up_after)
                learned = dict(self.learned.get(cam.id, {}))
            reason = self._snapshot_reason(cam, now)
            want_snapshot = self.cfg.snapshot_width > 0 and (reason is not None or maybe_change)
            transport = (
                learned.get("transport") if learned.get("for") == cam.rtsp_transport else None
            )
            req = ProbeRequest(
                url=cam.stream_url,
                timeout_s=self.cfg.probe_timeout_s,
                rtsp_transport=transport or cam.rtsp_transport,
                thresholds=cam.thresholds,
                snapshot_width=self.cfg.snapshot_width if want_snapshot else 0,
                window_s=min(cam.thresholds.frozen_window_s, self.window_cap),
                gop_s=learned.get("gop_s"),
                motion_baseline=learned.get("motion_baseline"),
                previous=self.thumbs.get(cam.id),
            )
            replaced_before = self.pool.replaced
            result = self.pool.probe(req)
            if self.pool.replaced > replaced_before:
                self.metrics.workers_replaced.inc(self.pool.replaced - replaced_before)
            if result.measurements.get("busy"):
                self._busy(cam, result)
                return
            self.busy_streak.pop(cam.id, None)
            self.record(cam, result, reason)
        except Exception:
            log.exception("check of camera %s failed inside the monitor", camera_id)
            self.metrics.blind.labels("error").inc()
        finally:
            self.hosts.release(cam.host)

    def _busy(self, cam: Camera, result: ProbeResult) -> None:
        """The camera's host is out of sessions: no verdict, a lower host limit, a retry soon."""
        self.metrics.probe_seconds.observe(result.elapsed_ms / 1000)
        self.metrics.host_busy.labels(self.metrics.host_label(cam.host)).inc()
        limit = self.hosts.busy(cam.host)
        self.outbox.set(f"hostlimit:{cam.host}", limit)
        streak = self.busy_streak.get(cam.id, 0) + 1
        self.busy_streak[cam.id] = streak
        delay = min(cam.check_interval_s / 2, 5.0 * 2 ** (streak - 1)) * random.uniform(0.8, 1.2)
        log.info(
            "camera %s: host %s busy (%s) — not a verdict; retry in %.0f s, host limit now %d",
            cam.id,
            redact(cam.host),
            redact(result.error or ""),
            delay,
            limit,
        )
        if not self.stopping.is_set():
            self.scheduler.add_job(
                self.check_camera,
                DateTrigger(run_date=datetime.now(UTC) + timedelta(seconds=delay)),
                args=[cam.id],
                id=f"retry-{cam.id}",
                executor="checks",
                replace_existing=True,
                misfire_grace_time=max(1, int(cam.check_interval_s / 2)),
            )

    def _learn(self, cam: Camera, result: ProbeResult) -> None:
        """Remember the camera's GOP, working transport, usual motion and probe time."""
        m = result.measurements
        with self._lock:
            learned = dict(self.learned.get(cam.id, {}))
            if isinstance(m.get("gop_s"), int | float) and m["gop_s"] > 0:
                learned["gop_s"] = float(m["gop_s"])
            if m.get("transport") in ("tcp", "udp"):
                learned["transport"] = m["transport"]
                learned["for"] = cam.rtsp_transport  # a new setting from the tracker resets it
            motion = m.get("motion")
            if result.verdict == "online" and isinstance(motion, int | float):
                learned["motion_baseline"] = round(
                    analysis.update_baseline(learned.get("motion_baseline"), float(motion)), 4
                )
            # the time a check takes besides its frame window (connect, open, key frame)
            previous = learned.get("open_s")
            window_ms = m.get("window_ms")
            window = float(window_ms) if isinstance(window_ms, int | float) else 0.0
            elapsed = max(0.05, (result.elapsed_ms - window) / 1000)
            learned["open_s"] = round(
                elapsed if previous is None else 0.7 * float(previous) + 0.3 * elapsed, 3
            )
            self.learned[cam.id] = learned
        self.outbox.set(f"learn:{cam.id}", learned)

    def record(self, cam: Camera, result: ProbeResult, reason: str | None) -> StateChange | None:
        """Queue the check item, the state change it confirms and the snapshot it brought."""
        self.metrics.probe_seconds.observe(result.elapsed_ms / 1000)
        if result.verdict is None:
            # the monitor failed, not the camera: no check item, no streak change
            self.metrics.blind.labels("probe_worker").inc()
            log.warning("camera %s: no verdict (%s)", cam.id, redact(result.error))
            return None
        self._compare_with_last_check(cam, result)
        self._learn(cam, result)
        self.done_at.append(time.monotonic())
        self.metrics.checks.labels(result.verdict).inc()
        at = result.started_at or datetime.now(UTC)
        entries: list[tuple[str, dict[str, Any], bytes | None]] = [
            ("report", check_item(cam.id, result), None)
        ]
        with self._lock:
            st = self.states.setdefault(cam.id, CameraState(cam.id))
            change = st.observe(
                result.verdict, at, cam.thresholds.down_after, cam.thresholds.up_after
            )
            kv: dict[str, Any] = {f"state:{cam.id}": st.to_dict()}
            if change is not None:
                entries.append(("report", state_item(change), None))
            snap_reason = "state_change" if change is not None else reason
            if result.snapshot and snap_reason:
                taken = dict(self.snapshots_taken.get(cam.id, {}))
                taken["any"] = utc_iso(at)
                if snap_reason == "opening":
                    taken["opening"] = at.isoformat()
                self.snapshots_taken[cam.id] = taken
                kv[f"snap:{cam.id}"] = taken
                entries.append(
                    (
                        "snapshot",
                        {
                            "uuid": new_uuid(),
                            "camera_id": cam.id,
                            "taken_at": utc_iso(at),
                            "reason": snap_reason,
                            "sha256": hashlib.sha256(result.snapshot).hexdigest(),
                        },
                        result.snapshot,
                    )
                )
            self.outbox.put_many(entries, kv=kv)
        if change is not None:
            log.info(
                "camera %s (%s) is now %s%s since %s",
                cam.id,
                cam.name,
                change.state,
                f" ({change.cause})" if change.cause else "",
                utc_iso(change.at),
            )
        level = logging.DEBUG if result.verdict == "online" else logging.INFO
        log.log(
            level,
            "camera %s: %s in %d ms%s",
            cam.id,
            result.verdict,
            result.elapsed_ms,
            f" — {result.error}" if result.error else "",
        )
        return change

    def _compare_with_last_check(self, cam: Camera, result: ProbeResult) -> None:
        """A single-frame check (no window) is frozen if the picture equals the previous check's."""
        if result.thumb is None:
            return
        previous = self.thumbs.get(cam.id)
        self.thumbs[cam.id] = result.thumb
        if result.verdict != "online" or result.measurements.get("motion") is not None:
            return
        diff = analysis.frozen_across_checks(previous, result.thumb, cam.thresholds)
        if diff is None:
            return
        threshold = analysis.frozen_threshold(
            cam.thresholds, self.learned.get(cam.id, {}).get("motion_baseline")
        )
        assert previous is not None  # frozen_across_checks answered
        block = analysis.block_diff(previous, result.thumb)
        result.measurements["motion_since_last_check"] = round(diff, 3)
        result.measurements["block_motion_since_last_check"] = round(block, 2)
        result.measurements["frozen_threshold"] = round(threshold, 3)
        if diff <= threshold and block <= analysis.BLOCK_FROZEN:
            result.verdict = "frozen"

    # ------------------------------------------------------------------ capacity
    def _missed(self, event: JobExecutionEvent) -> None:
        if not str(event.job_id).startswith(("check-", "retry-")):
            return
        why = "missed" if event.code == EVENT_JOB_MISSED else "still_running"
        self.missed_at.append((time.monotonic(), why))
        self.metrics.checks_missed.labels(why).inc()

    def needed_workers(self, window_s: float) -> tuple[float, float]:
        """(workers busy on average, checks needed per minute) with frame windows of ``window_s``."""
        load = per_minute = 0.0
        for cam in self.cameras.values():
            open_s = float(self.learned.get(cam.id, {}).get("open_s") or 1.0)
            # a camera whose previous picture is held is checked with one key frame
            window = 0.0 if cam.id in self.thumbs else min(cam.thresholds.frozen_window_s, window_s)
            load += (open_s + window) / cam.check_interval_s
            per_minute += 60.0 / cam.check_interval_s
        return load, per_minute

    def size_pool(self) -> dict[str, Any]:
        """Scheduled job: resize the pool to the load and write the keeping-up figures.

        When even ``max_workers`` cannot carry the checks with their frame windows,
        the windows are dropped (one key frame per check; a frozen picture is then
        caught by comparing with the previous check) rather than missing checks.
        """
        load, needed_per_min = self.needed_workers(self.cfg.max_window_s)
        note = ""
        if (
            not self.cfg.workers
            and self.cfg.max_window_s > 0
            and load * POOL_HEADROOM + 1 > self.max_workers
        ):
            load, _ = self.needed_workers(0.0)
            if self.window_cap:
                log.warning(
                    "too many cameras for %d workers with frame windows: windows off",
                    self.max_workers,
                )
            self.window_cap = 0.0
            note = f"帧窗口已关闭以跟上检查（{self.max_workers} 个探测进程不够带窗口检查）"
        else:
            self.window_cap = self.cfg.max_window_s
        wanted = math.ceil(round(load * POOL_HEADROOM, 6)) + 1
        workers = self.cfg.workers or max(1, min(self.max_workers, wanted))
        if self.pool is not None and self.pool.target != workers:
            log.info("probe pool: %d → %d workers (load %.1f)", self.pool.target, workers, load)
            self.pool.resize(workers)
        now = time.monotonic()
        done = sum(1 for t in self.done_at if now - t <= 60)
        recent = [why for t, why in self.missed_at if now - t <= 60]
        why = ""
        if load > workers:
            why = (
                f"探测进程不够：需要约 {math.ceil(load)} 个，上限 {workers} 个"
                f"（max_workers/workers）"
            )
        elif recent:
            limited = sorted(h for h, n in self.hosts.waits.items() if n)
            why = (
                f"主机会话上限：{', '.join(redact(h) for h in limited[:5])}"
                if limited
                else "探测比预计慢（进程池正在扩大）"
            )
        capacity = {
            "at": utc_iso(),
            "workers": workers,
            "max_workers": self.max_workers,
            "workers_needed": round(load, 2),
            "window_s": self.window_cap,
            "checks_needed_per_min": round(needed_per_min, 1),
            "checks_done_per_min": done,
            "missed_per_min": len(recent),
            "keeping_up": not recent and load <= workers,
            "why": "；".join(x for x in (why, note) if x),
        }
        self.metrics.workers.set(workers)
        self.metrics.checks_needed.set(needed_per_min)
        self.metrics.checks_done.set(done)
        self.metrics.missed_per_min.set(len(recent))
        self.outbox.set("capacity", capacity)
        if recent and why:
            log.warning(
                "cannot keep up: %d checks missed in the last minute — %s", len(recent), why
            )
        return capacity

    # ------------------------------------------------------------------ periodic jobs
    def queue_heartbeat(self) -> None:
        """Queue a heartbeat (it goes through the outbox like everything else)."""
        depth = self.outbox.depth()["total"]
        payload = {
            "uuid": new_uuid(),
            "at": utc_iso(),
            "version": __version__,
            "started_at": self.started_at,
            "outbox_depth": depth,
            "cameras": len(self.cameras),
        }
        self.outbox.put_many([("heartbeat", payload, None)], kv={"last_heartbeat": payload["at"]})

    def deliver(self) -> None:
        """Scheduled job: drain the outbox if the backoff allows."""
        self.delivery.run()
        for kind, n in self.outbox.depth().items():
            if kind != "total":
                self.metrics.outbox_depth.labels(kind).set(n)
        for kind, n in self.outbox.dead_depth().items():
            if kind != "total":
                self.metrics.dead_letter.labels(kind).set(n)

    def _delivered(self, kind: str, n: int) -> None:
        self.metrics.delivered.labels(kind).inc(n)
        self.metrics.last_delivery.set_to_current_time()

    def watch_clock(self) -> None:
        """Scheduled job: a wall-clock jump makes every camera ``unknown`` until re-confirmed."""
        jump = self.clock.jumped()
        if jump is None:
            return
        self.mark_blind("clock_jump", f"the station clock jumped by {jump:+.0f} s")

    def mark_blind(self, reason: str, message: str) -> None:
        """Report every camera ``unknown`` from now on (the monitor cannot vouch for them)."""
        log.warning("%s: every camera is unknown until re-confirmed", message)
        self.metrics.blind.labels(reason).inc()
        now = datetime.now(UTC)
        with self._lock:
            entries: list[tuple[str, dict[str, Any], bytes | None]] = []
            kv: dict[str, Any] = {}
            for st in self.states.values():
                change = st.blind(now)
                kv[f"state:{st.camera_id}"] = st.to_dict()
                if change is not None:
                    entries.append(("report", state_item(change), None))
            self.outbox.put_many(entries, kv=kv)
