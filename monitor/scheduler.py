"""The station daemon: APScheduler drives checks, heartbeats, delivery and camera-list refreshes.

* One interval job per camera at its ``check_interval_s`` with jitter, so a
  thousand cameras do not all open at the top of the minute. ``coalesce`` and a
  ``misfire_grace_time`` of half the interval mean a paused daemon (SIGSTOP, a
  suspended VM, a long GC) runs each camera once when it wakes — no pile-up.
* Concurrency is bounded per station by the probe pool (``workers`` processes)
  and per NVR host by a semaphore (``max_concurrent_per_host``): an NVR serving
  sixteen cameras over one uplink is not asked for sixteen streams at once.
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
import random
import signal
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
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
        self._host_limits: dict[str, threading.BoundedSemaphore] = {}
        self.heartbeat_interval_s = cfg.heartbeat_interval_s
        self.clock = ClockWatch()
        self.pool: ProbePool | None = None
        self.scheduler = BackgroundScheduler(
            executors={
                "checks": ThreadPoolExecutor(max_workers=cfg.workers * 2),
                "default": ThreadPoolExecutor(max_workers=4),
            },
            job_defaults={"coalesce": True, "max_instances": 1},
            timezone=UTC,
        )

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        """Start workers, load cameras, schedule every job."""
        self.pool = ProbePool(self.cfg.workers)
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
        sched.start()
        log.info(
            "monitor %s started: %d cameras, %d probe workers, tracker %s",
            __version__,
            len(self.cameras),
            self.cfg.workers,
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
        for cam in new.values():
            prev = old.get(cam.id)
            job_id = f"check-{cam.id}"
            unchanged = prev is not None and prev.check_interval_s == cam.check_interval_s
            if unchanged and self.scheduler.get_job(job_id):
                continue
            interval = cam.check_interval_s
            self.scheduler.add_job(
                self.check_camera,
                IntervalTrigger(seconds=interval, jitter=min(self.cfg.jitter_s, interval / 4)),
                args=[cam.id],
                id=job_id,
                executor="checks",
                replace_existing=True,
                misfire_grace_time=max(1, int(interval / 2)),
                # spread the first round over a few seconds instead of all at once
                next_run_time=datetime.now(UTC)
                + timedelta(seconds=random.uniform(0, min(interval, 5.0))),
            )
        self.metrics.cameras.set(len(new))
        if fresh or not old:
            log.info(
                "camera list: %d cameras (%s)", len(new), "from tracker" if fresh else "cached"
            )

    def _host_limit(self, host: str) -> threading.BoundedSemaphore:
        with self._lock:
            sem = self._host_limits.get(host)
            if sem is None:
                sem = threading.BoundedSemaphore(self.cfg.max_concurrent_per_host)
                self._host_limits[host] = sem
            return sem

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
        sem = self._host_limit(cam.host)
        if not sem.acquire(blocking=False):
            self.metrics.host_waits.labels(self.metrics.host_label(cam.host)).inc()
            while not sem.acquire(timeout=1.0):
                if self.stopping.is_set():
                    return
        try:
            if self.stopping.is_set():
                return
            now = datetime.now(UTC)
            with self._lock:
                st = self.states.setdefault(cam.id, CameraState(cam.id))
                t = cam.thresholds
                maybe_change = st.change_possible(t.down_after, t.up_after)
            reason = self._snapshot_reason(cam, now)
            want_snapshot = self.cfg.snapshot_width > 0 and (reason is not None or maybe_change)
            req = ProbeRequest(
                url=cam.stream_url,
                timeout_s=self.cfg.probe_timeout_s,
                rtsp_transport=cam.rtsp_transport,
                thresholds=cam.thresholds,
                snapshot_width=self.cfg.snapshot_width if want_snapshot else 0,
                window_s=min(cam.thresholds.frozen_window_s, self.cfg.max_window_s),
            )
            replaced_before = self.pool.replaced
            result = self.pool.probe(req)
            if self.pool.replaced > replaced_before:
                self.metrics.workers_replaced.inc(self.pool.replaced - replaced_before)
            self.record(cam, result, reason)
        except Exception:
            log.exception("check of camera %s failed inside the monitor", camera_id)
            self.metrics.blind.labels("error").inc()
        finally:
            sem.release()

    def record(self, cam: Camera, result: ProbeResult, reason: str | None) -> StateChange | None:
        """Queue the check item, the state change it confirms and the snapshot it brought."""
        self.metrics.probe_seconds.observe(result.elapsed_ms / 1000)
        if result.verdict is None:
            # the monitor failed, not the camera: no check item, no streak change
            self.metrics.blind.labels("probe_worker").inc()
            log.warning("camera %s: no verdict (%s)", cam.id, redact(result.error))
            return None
        self._compare_with_last_check(cam, result)
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
        result.measurements["motion_since_last_check"] = round(diff, 3)
        if diff <= cam.thresholds.frozen_diff:
            result.verdict = "frozen"

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
