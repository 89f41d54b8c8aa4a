"""HTTP client of the tracker's station API, and the delivery loop that drains the outbox.

The contract (docs/contract.md) in practice — evidence is never thrown away
because of something between the monitor and the tracker:

* A 2xx answer of the reports endpoint lists what the tracker stored:
  ``acknowledged`` items are deleted from the outbox. ``rejected`` ones are the
  tracker's own per-item refusal: they move to the outbox's dead-letter table
  (``monitor status`` counts them, ``monitor requeue`` sends them again).
* The one-item endpoints (heartbeat, snapshot) refuse their item with the
  contract's error body and one of the item codes in :data:`ITEM_REFUSALS`
  (e.g. ``sha256_mismatch``); that item is dead-lettered too.
* Everything else is "try again later", with exponential backoff (plus
  jitter, so a fleet of stations does not hammer a recovering tracker in step)
  that honours ``Retry-After``: a network error or timeout, every 5xx, and
  every 4xx of the request as a whole — a proxy's 404 during a deploy, a rate
  limiter's 429, a 408, a 413 from a proxy with a smaller body limit (the next
  batches are smaller), a 400/422 of the whole body — as well as a 2xx whose
  body is not the contract's JSON. 401/403 (a wrong or revoked token) are
  retried the same way, logged as "check the station token".

The monitor never sends a batch over the contract's size limit; a single item
that alone exceeds it can never be accepted and is dead-lettered locally.

The camera list is cached (encrypted, see :mod:`monitor.cameras`) in the
outbox database, so the monitor keeps checking its cameras while the tracker
is unreachable.
"""

from __future__ import annotations

import email.utils
import json
import logging
import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import requests

from monitor.cameras import CameraList, open_camera_cache, parse_camera_list, seal_camera_cache
from monitor.outbox import Item, Outbox, utc_iso
from monitor.redact import redact

log = logging.getLogger(__name__)

API = "/api/v1/station"
REPORTS_LIMIT = 1024 * 1024
"""The contract's body limit of ``POST /reports`` (1 MiB)."""
ENVELOPE_BYTES = 256
"""Room for ``{"sent_at": …, "items": [ … ]}`` around the items."""
MAX_RETRY_AFTER_S = 3600.0
"""A ``Retry-After`` further away than this is not believed (a misconfigured proxy)."""
ITEM_REFUSALS = frozenset(
    {"validation_error", "unknown_camera", "future_time", "sha256_mismatch", "not_jpeg"}
)
"""Error codes with which the tracker refuses the one item of a heartbeat/snapshot request."""


class TrackerUnavailable(Exception):
    """Try again later: network error, timeout, 5xx, a whole-request 4xx, a non-contract answer."""

    def __init__(
        self, message: str, *, status: int | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


class TrackerRefused(TrackerUnavailable):
    """401/403: the token was refused (wrong, revoked) — an operator must act; nothing is dropped."""

    def __init__(self, status: int, body: Any, retry_after: float | None = None) -> None:
        code = _error_code(body)
        super().__init__(
            f"tracker answered {status} {code}".strip(), status=status, retry_after=retry_after
        )
        self.code = code
        self.body = body

    @property
    def auth(self) -> bool:
        """Always true: only authentication errors are raised as this class."""
        return True


class ItemRefused(Exception):
    """The tracker refused the one item of a heartbeat/snapshot request for good."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


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


def _error_code(body: Any) -> str:
    """The contract's ``error.code`` of an error body, or ``""``."""
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return str(body["error"].get("code", ""))
    return ""


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date), if any."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), MAX_RETRY_AFTER_S)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    wait = (when - (now or datetime.now(UTC))).total_seconds()
    return min(max(wait, 0.0), MAX_RETRY_AFTER_S)


class TrackerClient:
    """Thin, typed wrapper of the four station endpoints."""

    def __init__(self, base_url: str, token: str, timeout_s: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout_s = timeout_s
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"
        self.session.headers["User-Agent"] = "village-monitor/0.1"

    def _request(
        self, method: str, path: str, *, one_item: bool = False, **kwargs: Any
    ) -> tuple[int, Any]:
        """Send one request; the JSON body of a 2xx answer, or the exception the answer means.

        ``one_item``: the request carries a single item (heartbeat, snapshot), so
        the tracker's item refusal codes end that item (:class:`ItemRefused`).
        """
        url = self.base_url + API + path
        try:
            resp = self.session.request(method, url, timeout=self.timeout_s, **kwargs)
        except requests.RequestException as exc:
            raise TrackerUnavailable(redact(f"{method} {path}: {_short(exc)}")) from None
        try:
            body = resp.json()
        except ValueError:
            body = None
        status = resp.status_code
        retry_after = parse_retry_after(resp.headers.get("Retry-After"))
        if status in (401, 403):
            raise TrackerRefused(status, body, retry_after)
        if 200 <= status < 300:
            if body is None:
                raise TrackerUnavailable(
                    f"{method} {path}: answer {status} is not JSON", status=status
                )
            return status, body
        code = _error_code(body)
        if one_item and status in (404, 422) and code in ITEM_REFUSALS:
            message = str(body["error"].get("message", ""))
            raise ItemRefused(code, message)
        what = f"{status} {code}".strip() if code else f"{status} (not the tracker's answer)"
        raise TrackerUnavailable(
            f"{method} {path}: answered {what}", status=status, retry_after=retry_after
        )

    def fetch_cameras(self) -> dict[str, Any]:
        """``GET /cameras`` — the raw document."""
        _, body = self._request("GET", "/cameras")
        if not isinstance(body, dict) or not isinstance(body.get("cameras"), list):
            raise TrackerUnavailable("GET /cameras: answer is not a camera list")
        return body

    def post_reports(self, items: list[dict[str, Any]]) -> ReportAnswer:
        """``POST /reports`` with a batch of check/state items."""
        _, body = self._request("POST", "/reports", json={"sent_at": utc_iso(), "items": items})
        if not isinstance(body, dict) or not isinstance(body.get("acknowledged"), list):
            raise TrackerUnavailable("POST /reports: answer is not the contract's report answer")
        return ReportAnswer(
            acknowledged=[str(u) for u in body.get("acknowledged") or []],
            duplicates=[str(u) for u in body.get("duplicates") or []],
            rejected=[r for r in body.get("rejected") or [] if isinstance(r, dict)],
        )

    def post_heartbeat(self, payload: dict[str, Any]) -> None:
        """``POST /heartbeat``; returns once the tracker acknowledged this uuid."""
        _, body = self._request("POST", "/heartbeat", json=payload, one_item=True)
        if not isinstance(body, dict) or body.get("acknowledged") != payload["uuid"]:
            raise TrackerUnavailable("POST /heartbeat: answer does not acknowledge the heartbeat")

    def post_snapshot(self, meta: dict[str, Any], jpeg: bytes) -> None:
        """``POST /snapshots`` (multipart); returns once stored (new or duplicate)."""
        fields = {k: str(meta[k]) for k in ("uuid", "camera_id", "taken_at", "reason", "sha256")}
        files = {"image": (f"{meta['uuid']}.jpg", jpeg, "image/jpeg")}
        _, body = self._request("POST", "/snapshots", data=fields, files=files, one_item=True)
        if not isinstance(body, dict) or not ("id" in body or "duplicate" in body):
            raise TrackerUnavailable("POST /snapshots: answer does not acknowledge the snapshot")


@dataclass
class DeliveryStats:
    """What one delivery round achieved (``rejected`` = moved to the dead-letter table)."""

    delivered: int = 0
    rejected: int = 0
    failed: bool = False
    error: str | None = None
    by_kind: dict[str, int] = field(default_factory=dict)


def _item_bytes(item: Item) -> int:
    """The item's size in the request body (``requests`` sends ASCII-escaped JSON), plus a comma."""
    return len(json.dumps(item.payload).encode()) + 2


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
        # Halved after a 413 (a proxy with a smaller body limit), grown back on success.
        self.report_batch = batch_size
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

    def _failed(self, error: str, retry_after: float | None = None) -> None:
        self.failures += 1
        delay = min(self.max_backoff_s, self.base_backoff_s * 2 ** min(self.failures - 1, 20))
        delay *= random.uniform(0.8, 1.2)
        if retry_after is not None:
            delay = max(delay, retry_after)
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
        """Send queued items until the outbox is empty, a failure occurs or ``max_rounds`` batches
        of a kind went."""
        stats = DeliveryStats()
        if not force and not self.due():
            return stats
        # One kind after the other, each drained first: a snapshot that keeps failing
        # (say, over a proxy's body limit) does not hold up the reports queued behind it.
        try:
            for kind, send in (
                ("report", self._send_reports),
                ("heartbeat", self._send_heartbeats),
                ("snapshot", self._send_snapshots),
            ):
                for _ in range(max_rounds):
                    items = self.outbox.peek(kind, self.report_batch if kind == "report" else 20)
                    if not items:
                        break
                    done, dead = send(items)
                    stats.delivered += done
                    stats.rejected += dead
                    stats.by_kind[kind] = stats.by_kind.get(kind, 0) + done
                    self._succeeded(kind, done)
                    if not (done or dead):
                        break
        except TrackerRefused as exc:
            stats.failed, stats.error = True, str(exc)
            self._failed(f"{exc} — check the station token", exc.retry_after)
        except TrackerUnavailable as exc:
            stats.failed, stats.error = True, str(exc)
            self._failed(str(exc), exc.retry_after)
        return stats

    def _bury(self, refusals: dict[str, tuple[str, str]]) -> int:
        for uid, (code, message) in refusals.items():
            log.error("tracker refused item %s (%s): %s — kept in the dead-letter table", uid,
                      code, redact(message))  # fmt: skip
        return self.outbox.bury(refusals)

    # Each sender returns (acknowledged, dead-lettered) and raises TrackerUnavailable
    # (or TrackerRefused) for "keep everything, try later".
    def _send_reports(self, items: list[Item]) -> tuple[int, int]:
        budget = REPORTS_LIMIT - ENVELOPE_BYTES
        batch: list[Item] = []
        dead: dict[str, tuple[str, str]] = {}
        used = 0
        for item in items:
            size = _item_bytes(item)
            if size > budget:  # the contract can never accept it, whatever is in between
                dead[item.uuid] = ("too_large", f"item alone is {size} bytes, over the 1 MiB limit")
                continue
            if used + size > budget:
                break
            batch.append(item)
            used += size
        buried = self._bury(dead)
        if not batch:
            return 0, buried
        try:
            answer = self.client.post_reports([i.payload for i in batch])
        except TrackerUnavailable as exc:
            if exc.status == 413:  # a proxy with a smaller body limit: smaller batches from now on
                self.report_batch = max(1, len(batch) // 2)
            raise
        sent = {i.uuid for i in batch}
        acked = [u for u in answer.acknowledged if u in sent]
        for r in answer.rejected:
            uid = str(r.get("uuid"))
            if uid in sent and uid not in acked:
                err = r.get("error")
                err = err if isinstance(err, dict) else {}
                dead[uid] = (str(err.get("code", "rejected")), str(err.get("message", "")))
        buried += self._bury({u: why for u, why in dead.items() if u in sent})
        self.outbox.remove(acked)
        missing = sent - set(acked) - set(dead)
        if missing:  # neither stored nor refused: keep them, count the attempt
            self.outbox.record_failure(missing, "not acknowledged")
            if len(missing) == len(sent):
                raise TrackerUnavailable(
                    f"POST /reports: none of {len(sent)} items acknowledged or rejected"
                )
        if self.report_batch < self.batch_size:
            self.report_batch = min(self.batch_size, self.report_batch * 2)
        return len(acked), buried

    def _send_one_by_one(self, items: list[Item], send: Callable[[Item], None]) -> tuple[int, int]:
        done = dead = 0
        for item in items:
            try:
                send(item)
            except ItemRefused as exc:
                dead += self._bury({item.uuid: (exc.code, exc.message)})
                continue
            self.outbox.remove([item.uuid])
            done += 1
        return done, dead

    def _send_heartbeats(self, items: list[Item]) -> tuple[int, int]:
        return self._send_one_by_one(items, lambda i: self.client.post_heartbeat(i.payload))

    def _send_snapshots(self, items: list[Item]) -> tuple[int, int]:
        def send(item: Item) -> None:
            if item.blob is None:
                raise ItemRefused("no_image", "the queued snapshot has no image")
            self.client.post_snapshot(item.payload, item.blob)

        return self._send_one_by_one(items, send)


def load_cameras(
    client: TrackerClient | None, outbox: Outbox, cache_key: str = ""
) -> tuple[CameraList, bool]:
    """The camera list from the tracker, else from the local cache; (list, came_from_tracker).

    A successful fetch refreshes the cache, so a tracker outage at start-up or
    later does not stop the checks. The cache is encrypted with ``cache_key``
    (``[monitor] cache_key``), or with a key derived from the station token
    when none is configured (:func:`monitor.cameras.seal_camera_cache`).
    """
    token = client.token if client is not None else ""
    if client is not None:
        try:
            doc = client.fetch_cameras()
        except TrackerUnavailable as exc:
            log.warning(
                "camera list not available from the tracker (%s); using the cached one", exc
            )
        else:
            outbox.set("cameras", seal_camera_cache(doc, cache_key, token))
            outbox.set("cameras_fetched_at", utc_iso())
            return parse_camera_list(doc), True
    raw = outbox.get("cameras")
    cached = open_camera_cache(raw, cache_key, token)
    if isinstance(raw, dict) and "cameras" in raw:  # a plain cache of an older monitor
        outbox.set("cameras", seal_camera_cache(raw, cache_key, token))
    if cached is None:
        return CameraList(cameras=()), False
    return parse_camera_list(cached), False
