"""The station's camera list as the tracker sends it (``GET /api/v1/station/cameras``).

Parsed into typed objects once, here, so the rest of the daemon does not
poke at JSON. Opening hours are resolved by the tracker (holidays, make-up
workdays, per-hall exceptions); the monitor only needs the start of each
opening interval, for the opening-time evidence snapshot.

The list is cached in the outbox so the checks go on while the tracker is
away. Its stream URLs carry the cameras' credentials, so the cache is sealed
with Fernet (AES-128-CBC + HMAC-SHA256, from ``cryptography``) under
``[monitor] cache_key`` / ``MONITOR_CACHE_KEY`` — or, when no key is
configured, under a key derived (HKDF-SHA256) from the station token, which
never lives in the state directory either. A copy of the outbox file alone
therefore reveals no stream password; a changed key or token only means the
cache is refetched.
"""

from __future__ import annotations

import base64
import json
import logging
import urllib.parse
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from monitor.analysis import Thresholds

log = logging.getLogger(__name__)

CACHE_FORMAT = "fernet-v1"


@dataclass(frozen=True)
class Camera:
    """One camera assigned to this station."""

    id: int
    name: str
    stream_url: str
    rtsp_transport: str = "tcp"
    check_interval_s: float = 60.0
    snapshot_every_min: float = 60.0
    thresholds: Thresholds = field(default_factory=Thresholds)
    hall: str = ""
    opening_starts: tuple[datetime, ...] = ()

    @property
    def host(self) -> str:
        """The host serving the stream (an NVR usually serves many cameras)."""
        return urllib.parse.urlsplit(self.stream_url).hostname or "local"

    def opening_start_due(self, now: datetime, since: datetime | None) -> datetime | None:
        """The latest opening start in ``(since, now]`` within the last 2 hours, if any."""
        due = None
        for start in self.opening_starts:
            if (
                start <= now
                and (since is None or start > since)
                and now - start <= timedelta(hours=2)
            ):
                due = start if due is None or start > due else due
        return due


def _opening_starts(hours: Any) -> tuple[datetime, ...]:
    if not isinstance(hours, dict):
        return ()
    try:
        tz = ZoneInfo(str(hours.get("timezone") or "Asia/Shanghai"))
    except (ZoneInfoNotFoundError, ValueError):
        tz = ZoneInfo("Asia/Shanghai")
    starts: list[datetime] = []
    for day in hours.get("days") or []:
        try:
            d = date.fromisoformat(day["date"])
            for interval in day.get("open") or []:
                starts.append(datetime.combine(d, time.fromisoformat(interval[0]), tz))
        except (KeyError, TypeError, ValueError, IndexError):
            continue
    return tuple(sorted(starts))


def parse_camera(data: dict[str, Any]) -> Camera:
    """One camera object of the contract (raises ``ValueError`` on a malformed one)."""
    try:
        cam_id = int(data["id"])
        url = str(data["stream_url"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"camera without a valid id/stream_url: {exc}") from None
    hall = data.get("hall") or {}
    transport = str(data.get("rtsp_transport") or "tcp").lower()
    return Camera(
        id=cam_id,
        name=str(data.get("name") or f"camera {cam_id}"),
        stream_url=url,
        rtsp_transport=transport if transport in ("tcp", "udp") else "tcp",
        check_interval_s=max(5.0, float(data.get("check_interval_s") or 60)),
        # 0 = no periodic snapshots (opening time and state changes still apply)
        snapshot_every_min=float(
            60 if data.get("snapshot_every_min") is None else data["snapshot_every_min"]
        ),
        thresholds=Thresholds.from_mapping(data.get("thresholds")),
        hall=str(hall.get("name", "")) if isinstance(hall, dict) else "",
        opening_starts=_opening_starts(data.get("opening_hours")),
    )


@dataclass(frozen=True)
class CameraList:
    """The parsed answer of the cameras endpoint."""

    cameras: tuple[Camera, ...]
    heartbeat_interval_s: float | None = None
    station: str = ""
    skipped: tuple[str, ...] = ()


def parse_camera_list(data: dict[str, Any]) -> CameraList:
    """Parse the whole cameras document; malformed cameras are skipped and named."""
    cams: list[Camera] = []
    skipped: list[str] = []
    for raw in data.get("cameras") or []:
        try:
            cams.append(parse_camera(raw))
        except (ValueError, TypeError, AttributeError) as exc:
            skipped.append(str(exc))
    hb = data.get("heartbeat_interval_s")
    station = data.get("station") or {}
    return CameraList(
        cameras=tuple(cams),
        heartbeat_interval_s=float(hb) if isinstance(hb, int | float) and hb > 0 else None,
        station=str(station.get("name", "")) if isinstance(station, dict) else "",
        skipped=tuple(skipped),
    )


# ---------------------------------------------------------------- the encrypted cache


def cache_cipher(cache_key: str, token: str) -> Fernet | None:
    """The cipher of the cached camera list: the configured key, else one derived from the token."""
    if cache_key:
        return Fernet(cache_key.encode())
    if not token:
        return None
    derived = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=b"village-monitor", info=b"camera-cache v1"
    ).derive(token.encode())
    return Fernet(base64.urlsafe_b64encode(derived))


def seal_camera_cache(doc: dict[str, Any], cache_key: str, token: str) -> dict[str, Any]:
    """The value stored in the outbox for a camera document: encrypted, never the plain URLs."""
    cipher = cache_cipher(cache_key, token)
    if cipher is None:  # no key and no token: nothing to encrypt with, so cache nothing
        return {"format": CACHE_FORMAT, "sealed": None}
    sealed = cipher.encrypt(json.dumps(doc, ensure_ascii=False).encode())
    return {"format": CACHE_FORMAT, "sealed": sealed.decode()}


def open_camera_cache(value: Any, cache_key: str, token: str) -> dict[str, Any] | None:
    """The camera document of a cached value, or ``None`` (no cache, other key, damaged).

    A plain document (cached by a monitor before encryption) is still read;
    :func:`monitor.client.load_cameras` seals it again at once.
    """
    if not isinstance(value, dict):
        return None
    if "cameras" in value:
        return value
    if value.get("format") != CACHE_FORMAT or not isinstance(value.get("sealed"), str):
        return None
    cipher = cache_cipher(cache_key, token)
    if cipher is None:
        return None
    try:
        doc = json.loads(cipher.decrypt(value["sealed"].encode()))
    except (InvalidToken, ValueError):
        log.warning("the cached camera list cannot be decrypted (cache key or token changed?)")
        return None
    return doc if isinstance(doc, dict) else None
