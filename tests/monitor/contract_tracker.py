"""A tracker stub that speaks docs/contract.md faithfully, for the monitor's delivery tests.

It implements the station API's observable semantics, not the tracker's
internals: bearer-token auth (a token sees only its station's cameras), body
validation with the contract's error shape, UUID idempotency (a re-sent item
is acknowledged again and changes nothing), ``rejected`` for unknown/foreign
cameras and invalid items, the 500-item and 1 MiB limits, heartbeat and
snapshot semantics (JPEG magic bytes, SHA-256 check, 201/200 duplicate).

It can be stopped and started again on the same port with its store intact,
which is how the tests simulate a tracker that is away for a while.

Besides, everything it receives is checked against docs/contract.schema.json
(generated from the real tracker's models); what does not conform is listed
in ``Store.violations``, which tests of the real monitor assert is empty.
"""

from __future__ import annotations

import contextlib
import email.parser
import email.policy
import hashlib
import json
import socket
import threading
import uuid as uuidlib
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .contract_schema import violations

VERDICTS = {"online", "unreachable", "auth_failed", "no_video", "frozen", "black", "blurred"}
STATES = {"up", "down", "unknown"}
MAX_BODY = 1024 * 1024
MAX_ITEMS = 500


@dataclass
class Store:
    """What the tracker holds; survives stop/start of the HTTP server."""

    token: str = "station-token"
    station_id: int = 3
    cameras: list[dict[str, Any]] = field(default_factory=list)
    foreign_camera_ids: set[int] = field(default_factory=set)
    heartbeat_interval_s: int = 60
    items: dict[str, dict[str, Any]] = field(default_factory=dict)
    heartbeats: dict[str, dict[str, Any]] = field(default_factory=dict)
    snapshots: dict[str, dict[str, Any]] = field(default_factory=dict)
    received: Counter[str] = field(default_factory=Counter)
    requests: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)
    # What arrived and does not conform to docs/contract.schema.json, and how much was checked.
    violations: list[str] = field(default_factory=list)
    validated: Counter[str] = field(default_factory=Counter)

    def conform(self, name: str, doc: Any) -> None:
        """Check one received message against the contract's schema."""
        self.validated[name] += 1
        self.violations.extend(violations(name, doc))

    def camera_ids(self) -> set[int]:
        """Ids of the cameras this station may report on."""
        return {int(c["id"]) for c in self.cameras}

    def checks(self) -> list[dict[str, Any]]:
        """Stored check items."""
        return [i for i in self.items.values() if i["type"] == "check"]

    def states(self) -> list[dict[str, Any]]:
        """Stored state items, ordered by ``at`` as the tracker would."""
        return sorted(
            (i for i in self.items.values() if i["type"] == "state"), key=lambda i: i["at"]
        )


def _is_uuid(value: Any) -> bool:
    try:
        uuidlib.UUID(str(value))
    except ValueError:
        return False
    return isinstance(value, str)


def _is_time(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return dt.tzinfo is not None


def _error(code: str, message: str, fields: dict[str, str] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


def validate_item(item: Any, camera_ids: set[int]) -> tuple[str, str] | None:
    """Why an item must be rejected (code, message), or ``None`` if it is valid."""
    if not isinstance(item, dict):
        return "validation_error", "item is not an object"
    if not isinstance(item.get("camera_id"), int) or item["camera_id"] not in camera_ids:
        return "unknown_camera", "no such camera"
    if not _is_time(item.get("at")):
        return "validation_error", "at must be ISO 8601 with an offset"
    if item.get("type") == "check":
        if item.get("verdict") not in VERDICTS:
            return "validation_error", "unknown verdict"
        if not isinstance(item.get("elapsed_ms"), int):
            return "validation_error", "elapsed_ms must be an integer"
        m = item.get("measurements", {})
        if not isinstance(m, dict) or len(m) > 40:
            return "validation_error", "measurements must be a flat object of at most 40 keys"
        for v in m.values():
            if not isinstance(v, int | float | bool | str) or (isinstance(v, str) and len(v) > 200):
                return (
                    "validation_error",
                    "measurement values must be numbers, booleans or short strings",
                )
        return None
    if item.get("type") == "state":
        if item.get("state") not in STATES:
            return "validation_error", "unknown state"
        cause = item.get("cause")
        if item["state"] == "down" and cause not in VERDICTS - {"online"}:
            return "validation_error", "a down state needs a verdict as cause"
        if item["state"] != "down" and cause is not None:
            return "validation_error", "cause must be null unless down"
        return None
    return "validation_error", "type must be check or state"


class _Handler(BaseHTTPRequestHandler):
    server: ContractTracker
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass

    def _send(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _auth(self) -> bool:
        store = self.server.store
        if self.headers.get("Authorization") != f"Bearer {store.token}":
            self._send(401, _error("unauthorized", "missing or wrong station token"))
            return False
        return True

    def _body(self) -> bytes | None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self.rfile.read(length)
            self._send(413, _error("too_large", "request body over 1 MiB"))
            return None
        return self.rfile.read(length)

    def do_GET(self) -> None:  # noqa: N802
        store = self.server.store
        store.requests[f"GET {self.path}"] += 1
        if self.path != "/api/v1/station/cameras":
            self._send(404, _error("not_found", "no such endpoint"))
            return
        if not self._auth():
            return
        self._send(
            200,
            {
                "station": {"id": store.station_id, "name": "测试机房"},
                "generated_at": "2026-11-26T01:00:00Z",
                "heartbeat_interval_s": store.heartbeat_interval_s,
                "cameras": store.cameras,
            },
        )

    def do_POST(self) -> None:  # noqa: N802
        store = self.server.store
        store.requests[f"POST {self.path}"] += 1
        if self.server.fail_with_500:
            self._body()
            self._send(503, _error("unavailable", "try later"))
            return
        if not self._auth():
            return
        body = self._body()
        if body is None:
            return
        if self.path == "/api/v1/station/reports":
            self._reports(body)
        elif self.path == "/api/v1/station/heartbeat":
            self._heartbeat(body)
        elif self.path == "/api/v1/station/snapshots":
            self._snapshot(body)
        else:
            self._send(404, _error("not_found", "no such endpoint"))

    def _reports(self, body: bytes) -> None:
        store = self.server.store
        try:
            doc = json.loads(body)
        except ValueError:
            self._send(400, _error("bad_json", "body is not JSON"))
            return
        if not isinstance(doc, dict) or not isinstance(doc.get("items"), list):
            self._send(422, _error("validation_error", "body must be an object with an items list"))
            return
        if len(doc["items"]) > MAX_ITEMS:
            self._send(413, _error("too_many_items", "at most 500 items per batch"))
            return
        acknowledged: list[str] = []
        duplicates: list[str] = []
        rejected: list[dict[str, Any]] = []
        cams = store.camera_ids()
        with store.lock:
            store.conform("ReportBatch", doc)
            for item in doc["items"]:
                uid = item.get("uuid") if isinstance(item, dict) else None
                if not _is_uuid(uid):
                    rejected.append(
                        {"uuid": uid, "error": {"code": "validation_error", "message": "uuid"}}
                    )
                    continue
                store.received[uid] += 1
                if uid in store.items:
                    acknowledged.append(uid)
                    duplicates.append(uid)
                    continue
                why = validate_item(item, cams)
                if why is not None:
                    rejected.append({"uuid": uid, "error": {"code": why[0], "message": why[1]}})
                    continue
                store.items[uid] = item
                acknowledged.append(uid)
        self._send(
            200, {"acknowledged": acknowledged, "duplicates": duplicates, "rejected": rejected}
        )

    def _heartbeat(self, body: bytes) -> None:
        store = self.server.store
        try:
            doc = json.loads(body)
        except ValueError:
            self._send(400, _error("bad_json", "body is not JSON"))
            return
        if (
            not isinstance(doc, dict)
            or not _is_uuid(doc.get("uuid"))
            or not _is_time(doc.get("at"))
        ):
            self._send(
                422, _error("validation_error", "uuid and at are required", {"uuid": "required"})
            )
            return
        with store.lock:
            store.conform("Heartbeat", doc)
            store.received[doc["uuid"]] += 1
            duplicate = doc["uuid"] in store.heartbeats
            store.heartbeats.setdefault(doc["uuid"], doc)
        self._send(200, {"acknowledged": doc["uuid"], "duplicate": duplicate})

    def _snapshot(self, body: bytes) -> None:
        store = self.server.store
        ctype = self.headers.get("Content-Type", "")
        if not ctype.startswith("multipart/form-data"):
            self._send(400, _error("validation_error", "multipart/form-data expected"))
            return
        msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            f"Content-Type: {ctype}\r\n\r\n".encode() + body
        )
        fields: dict[str, str] = {}
        image: bytes | None = None
        for part in msg.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True) or b""
            if name == "image":
                image = payload
            elif isinstance(name, str):
                fields[name] = payload.decode()
        missing = [
            k for k in ("uuid", "camera_id", "taken_at", "reason", "sha256") if k not in fields
        ]
        if missing or image is None:
            self._send(
                422,
                _error("validation_error", "missing fields", dict.fromkeys(missing, "required")),
            )
            return
        if fields["reason"] not in ("opening", "state_change", "periodic", "manual"):
            self._send(422, _error("validation_error", "bad reason", {"reason": "invalid"}))
            return
        if not fields["camera_id"].isdigit() or int(fields["camera_id"]) not in store.camera_ids():
            self._send(404, _error("unknown_camera", "no such camera"))
            return
        if not image.startswith(b"\xff\xd8\xff"):
            self._send(422, _error("not_jpeg", "image is not a JPEG", {"image": "not a JPEG"}))
            return
        if hashlib.sha256(image).hexdigest() != fields["sha256"]:
            self._send(422, _error("sha256_mismatch", "sha256 does not match the image"))
            return
        with store.lock:
            store.conform("SnapshotForm", dict(fields, camera_id=int(fields["camera_id"])))
            store.received[fields["uuid"]] += 1
            if fields["uuid"] in store.snapshots:
                self._send(200, {"id": store.snapshots[fields["uuid"]]["id"], "duplicate": True})
                return
            fields["id"] = str(len(store.snapshots) + 1)
            fields["bytes"] = str(len(image))
            store.snapshots[fields["uuid"]] = fields
        self._send(201, {"id": int(fields["id"]), "duplicate": False})


class ContractTracker(ThreadingHTTPServer):
    """The stub's HTTP server on 127.0.0.1; restartable on the same port with the same store."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, store: Store, port: int = 0) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.store = store
        self.fail_with_500 = False
        self._connections: set[socket.socket] = set()
        self._thread: threading.Thread | None = None
        self._timer: threading.Timer | None = None

    def get_request(self) -> tuple[socket.socket, Any]:
        """Remember each connection so :meth:`stop` can cut keep-alive ones too."""
        conn, addr = super().get_request()
        self._connections.add(conn)
        return conn, addr

    @property
    def port(self) -> int:
        """The bound port."""
        return int(self.server_address[1])

    @property
    def url(self) -> str:
        """Base URL (without /api/v1)."""
        return f"http://127.0.0.1:{self.port}"

    def start(self, lifetime_s: float = 300.0) -> ContractTracker:
        """Serve in a daemon thread; stop by itself after ``lifetime_s``."""
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)
        self._thread.start()
        self._timer = threading.Timer(lifetime_s, self.stop)
        self._timer.daemon = True
        self._timer.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the listening socket (clients then get 'connection refused')."""
        if self._timer is not None:
            self._timer.cancel()
        self.shutdown()
        self.server_close()
        for conn in list(self._connections):
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                conn.close()
        self._connections.clear()
