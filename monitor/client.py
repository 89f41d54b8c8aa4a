"""HTTP client of the tracker's station API, and the delivery loop that drains the outbox.

The contract (docs/contract.md) in practice:

* A 2xx answer lists what the tracker stored: ``acknowledged`` items are
  deleted from the outbox, ``rejected`` ones are logged and dropped (they are
  permanently refused — retrying would block the queue forever).
* 5xx, a timeout or a network error means "try again later": the items stay
  and the next attempt waits with exponential backoff (plus jitter, so a fleet
  of stations does not hammer a recovering tracker in step).
* A 4xx on a whole batch means the tracker refused the body as such; the batch
  is halved until the offending item is isolated and dropped, so one bad item
  cannot hold up thousands of good ones. 401/403 (a wrong or revoked token)
  drop nothing: they are retried with backoff until an operator fixes the token.

The camera list is cached in the outbox database, so the monitor keeps
checking its cameras while the tracker is unreachable.
"""

from __future__ import annotations

import logging
import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests

from monitor.cameras import CameraList, parse_camera_list
from monitor.outbox import Item, Outbox, utc_iso
from monitor.redact import redact

log = logging.getLogger(__name__)

API = "/api/v1/station"


class TrackerUnavailable(Exception):
    """Network error, timeout or 5xx: try again later."""


class TrackerRefused(Exception):
    """A 4xx answer to the request as a whole."""

    def __init__(self, status: int, body: Any) -> None:
        code = ""
        if isinstance(body, dict) and isinstance(body.get("error"), dict):
            code = str(body["error"].get("code", ""))
        super().__init__(f"tracker answered {status} {code}".strip())
        self.status = status
        self.code = code
        self.body = body

    @property
    def auth(self) -> bool:
        """The token was refused (wrong, revoked): an operator must act, nothing is dropped."""
        return self.status in (401, 403)


@dataclass
class ReportAnswer:
    """The tracker's answer to a batch of report items."""

    acknowledged: list[str]
    duplicates: list[str]
    rejected: list[dict[str, Any]]


def _short(exc: Exception) -> str:
    """A one-line reason for a network error (requests' messages nest three exceptions deep)."""
    text = str(exc)
    errno = re.search(r"\[Errno -?\d+\] [^'\")]+", text)
    if errno:
        return f"{type(exc).__name__}: {errno.group(0)}"
    return f"{type(exc).__name__}: {text[:160]}"


class TrackerClient:
    """Thin, typed wrapper of the four station endpoints."""

    def __init__(self, base_url: str, token: str, timeout_s: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"
        self.session.headers["User-Agent"] = "village-monitor/0.1"

    def _request(self, method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
        url = self.base_url + API + path
        try:
            resp = self.session.request(method, url, timeout=self.timeout_s, **kwargs)
        except requests.RequestException as exc:
            raise TrackerUnavailable(redact(f"{method} {path}: {_short(exc)}")) from None
        try:
            body = resp.json()
        except ValueError:
            body = None
        if resp.status_code >= 500:
            raise TrackerUnavailable(f"{method} {path}: tracker answered {resp.status_code}")
        if resp.status_code >= 400:
            raise TrackerRefused(resp.status_code, body)
        return resp.status_code, body

    def fetch_cameras(self) -> dict[str, Any]:
        """``GET /cameras`` — the raw document."""
        _, body = self._request("GET", "/cameras")
        if not isinstance(body, dict) or not isinstance(body.get("cameras"), list):
            raise TrackerUnavailable("GET /cameras: answer is not a camera list")
        return body

    def post_reports(self, items: list[dict[str, Any]]) -> ReportAnswer:
        """``POST /reports`` with a batch of check/state items."""
        _, body = self._request("POST", "/reports", json={"sent_at": utc_iso(), "items": items})
        if not isinstance(body, dict):
            raise TrackerUnavailable("POST /reports: answer is not a JSON object")
        return ReportAnswer(
            acknowledged=[str(u) for u in body.get("acknowledged") or []],
            duplicates=[str(u) for u in body.get("duplicates") or []],
            rejected=[r for r in body.get("rejected") or [] if isinstance(r, dict)],
        )

    def post_heartbeat(self, payload: dict[str, Any]) -> bool:
        """``POST /heartbeat``; True when the tracker acknowledged this uuid."""
        _, body = self._request("POST", "/heartbeat", json=payload)
        return isinstance(body, dict) and body.get("acknowledged") == payload["uuid"]

    def post_snapshot(self, meta: dict[str, Any], jpeg: bytes) -> bool:
        """``POST /snapshots`` (multipart); True when stored (new or duplicate)."""
        fields = {k: str(meta[k]) for k in ("uuid", "camera_id", "taken_at", "reason", "sha256")}
        files = {"image": (f"{meta['uuid']}.jpg", jpeg, "image/jpeg")}
        _, body = self._request("POST", "/snapshots", data=fields, files=files)
        return isinstance(body, dict) and ("id" in body or "duplicate" in body)


@dataclass
class DeliveryStats:
    """What one delivery round achieved."""

    delivered: int = 0
    rejected: int = 0
    failed: bool = False
    error: str | None = None
    by_kind: dict[str, int] = field(default_factory=dict)


class Delivery:
    """Drains the outbox towards the tracker, with exponential backoff after failures."""

    def __init__(
        self,
        outbox: Outbox,
        client: TrackerClient,
        *,
        batch_size: int = 200,
        base_backoff_s: float = 2.0,
        max_backoff_s: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
        on_delivered: Callable[[str, int], None] | None = None,
    ) -> None:
        self.outbox = outbox
        self.client = client
        self.batch_size = batch_size
        self.base_backoff_s = base_backoff_s
        self.max_backoff_s = max_backoff_s
        self.clock = clock
        self.on_delivered = on_delivered
        self.failures = 0
        self.next_attempt = 0.0
        self.last_error: str | None = None

    def due(self) -> bool:
        """Whether the backoff allows an attempt now."""
        return self.clock() >= self.next_attempt

    def _failed(self, error: str) -> None:
        self.failures += 1
        delay = min(self.max_backoff_s, self.base_backoff_s * 2 ** min(self.failures - 1, 20))
        delay *= random.uniform(0.8, 1.2)
        self.next_attempt = self.clock() + delay
        if error != self.last_error or self.failures in (1, 10) or self.failures % 100 == 0:
            log.warning(
                "delivery failed (%d in a row, next try in %.0f s): %s", self.failures, delay, error
            )
        self.last_error = error

    def _succeeded(self, kind: str, n: int) -> None:
        if self.failures:
            log.info("tracker reachable again after %d failed attempts", self.failures)
        self.failures = 0
        self.next_attempt = 0.0
        self.last_error = None
        if n:
            self.outbox.set("last_delivery", utc_iso())
            if self.on_delivered:
                self.on_delivered(kind, n)

    def run(self, max_rounds: int = 50, force: bool = False) -> DeliveryStats:
        """Send queued items until the outbox is empty, a failure occurs or ``max_rounds`` batches went."""
        stats = DeliveryStats()
        if not force and not self.due():
            return stats
        try:
            for _ in range(max_rounds):
                progressed = False
                for kind, send in (
                    ("report", self._send_reports),
                    ("heartbeat", self._send_heartbeats),
                    ("snapshot", self._send_snapshots),
                ):
                    items = self.outbox.peek(kind, self.batch_size if kind == "report" else 20)
                    if not items:
                        continue
                    done, dropped = send(items)
                    stats.delivered += done
                    stats.rejected += dropped
                    stats.by_kind[kind] = stats.by_kind.get(kind, 0) + done
                    self._succeeded(kind, done)
                    progressed = progressed or bool(done or dropped)
                if not progressed:
                    break
        except TrackerUnavailable as exc:
            stats.failed, stats.error = True, str(exc)
            self._failed(str(exc))
        except TrackerRefused as exc:  # only auth problems reach here
            stats.failed, stats.error = True, str(exc)
            self._failed(f"{exc} — check the station token")
        return stats

    # Each sender returns (acknowledged, dropped) and raises TrackerUnavailable/
    # TrackerRefused(auth) for "keep everything, try later".
    def _send_reports(self, items: list[Item]) -> tuple[int, int]:
        try:
            answer = self.client.post_reports([i.payload for i in items])
        except TrackerRefused as exc:
            if exc.auth:
                raise
            if len(items) == 1:
                log.error("tracker refused report item %s for good: %s", items[0].uuid, exc)
                self.outbox.remove([items[0].uuid])
                return 0, 1
            mid = len(items) // 2
            a1, d1 = self._send_reports(items[:mid])
            a2, d2 = self._send_reports(items[mid:])
            return a1 + a2, d1 + d2
        sent = {i.uuid for i in items}
        acked = [u for u in answer.acknowledged if u in sent]
        rejected = [str(r.get("uuid")) for r in answer.rejected if r.get("uuid") in sent]
        for r in answer.rejected:
            log.error("tracker rejected item %s: %s", r.get("uuid"), redact(r.get("error")))
        self.outbox.remove(acked + rejected)
        missing = sent - set(acked) - set(rejected)
        if missing:  # neither stored nor refused: keep them, count the attempt
            self.outbox.record_failure(missing, "not acknowledged")
        return len(acked), len(rejected)

    def _send_heartbeats(self, items: list[Item]) -> tuple[int, int]:
        done = dropped = 0
        for item in items:
            try:
                ok = self.client.post_heartbeat(item.payload)
            except TrackerRefused as exc:
                if exc.auth:
                    raise
                log.error("tracker refused heartbeat %s: %s", item.uuid, exc)
                self.outbox.remove([item.uuid])
                dropped += 1
                continue
            if ok:
                self.outbox.remove([item.uuid])
                done += 1
        return done, dropped

    def _send_snapshots(self, items: list[Item]) -> tuple[int, int]:
        done = dropped = 0
        for item in items:
            if item.blob is None:
                self.outbox.remove([item.uuid])
                dropped += 1
                continue
            try:
                ok = self.client.post_snapshot(item.payload, item.blob)
            except TrackerRefused as exc:
                if exc.auth:
                    raise
                log.error("tracker refused snapshot %s: %s", item.uuid, exc)
                self.outbox.remove([item.uuid])
                dropped += 1
                continue
            if ok:
                self.outbox.remove([item.uuid])
                done += 1
        return done, dropped


def load_cameras(client: TrackerClient | None, outbox: Outbox) -> tuple[CameraList, bool]:
    """The camera list from the tracker, else from the local cache; (list, came_from_tracker).

    A successful fetch refreshes the cache, so a tracker outage at start-up or
    later does not stop the checks.
    """
    if client is not None:
        try:
            doc = client.fetch_cameras()
        except (TrackerUnavailable, TrackerRefused) as exc:
            log.warning(
                "camera list not available from the tracker (%s); using the cached one", exc
            )
        else:
            outbox.set("cameras", doc)
            outbox.set("cameras_fetched_at", utc_iso())
            return parse_camera_list(doc), True
    cached = outbox.get("cameras")
    if not isinstance(cached, dict):
        return CameraList(cameras=()), False
    return parse_camera_list(cached), False
