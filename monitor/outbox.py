"""Local SQLite outbox: everything the monitor produces waits here until the tracker acknowledged it.

Results, state changes, heartbeats and snapshots are written here first, in
one transaction each, and deleted only when the tracker's answer lists their
UUID as acknowledged. An item the tracker refuses for good (an unknown camera,
an invalid item — see docs/contract.md) is not deleted either: it moves to the
``dead`` table, which ``monitor status`` counts and ``monitor requeue`` sends
again once the cause is fixed. A tracker that is down for days, a proxy that
answers 404 during a deploy, a cut uplink or a ``kill -9`` therefore lose
nothing, and a re-sent batch is harmless because the tracker applies each UUID
once.

The file is created owner-only (0600, and so are SQLite's ``-wal``/``-shm``
files, which take the database file's mode): it holds the cached camera list
(stream credentials, encrypted besides — see ``monitor.cameras``) and the
evidence snapshots.

The database runs in WAL mode with ``synchronous=FULL``: a committed item
survives the process being killed and the station losing power. The same file
keeps a small key/value table (cached camera list, confirmed camera states,
time of the last delivery) so the daemon resumes where it stopped.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import uuid as uuidlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

KINDS = ("report", "heartbeat", "snapshot")
"""Outbox item kinds: ``report`` = a check or state item of the reports endpoint."""

SCHEMA = """
CREATE TABLE IF NOT EXISTS items (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    uuid TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL CHECK (kind IN ('report', 'heartbeat', 'snapshot')),
    payload TEXT NOT NULL,
    blob BLOB,
    created_at TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT
);
CREATE INDEX IF NOT EXISTS items_kind_id ON items (kind, id);
CREATE TABLE IF NOT EXISTS dead (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    uuid TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    blob BLOB,
    created_at TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    dead_at TEXT NOT NULL,
    code TEXT NOT NULL,
    message TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS kv (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""


def new_uuid() -> str:
    """A client-generated item UUID (v4 text), as the contract asks."""
    return str(uuidlib.uuid4())


def utc_iso(dt: datetime | None = None) -> str:
    """ISO 8601 UTC with a ``Z`` suffix, second precision (the contract's wire format)."""
    dt = (dt or datetime.now(UTC)).astimezone(UTC)
    return dt.replace(microsecond=0).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class Item:
    """One queued item."""

    id: int
    uuid: str
    kind: str
    payload: dict[str, Any]
    blob: bytes | None
    attempts: int


@dataclass(frozen=True)
class DeadItem:
    """An item the tracker refused for good, kept for ``monitor requeue``."""

    uuid: str
    kind: str
    created_at: str
    dead_at: str
    code: str
    message: str


def _owner_only(path: Path) -> None:
    """Create ``path`` (if missing) readable by its owner only, and tighten an existing one."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    os.close(fd)
    os.chmod(path, 0o600)
    for suffix in ("-wal", "-shm"):
        side = path.with_name(path.name + suffix)
        if side.exists():
            os.chmod(side, 0o600)


class Outbox:
    """A thread-safe handle on the outbox database (one connection, one lock)."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        _owner_only(self.path)
        self._lock = threading.RLock()
        self._db = sqlite3.connect(
            str(self.path), timeout=30, isolation_level=None, check_same_thread=False
        )
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("PRAGMA busy_timeout=30000")
        self._db.executescript(SCHEMA)

    def close(self) -> None:
        """Close the database (checkpointing the WAL)."""
        with self._lock:
            self._db.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    # ------------------------------------------------------------------ items
    def put(self, kind: str, payload: dict[str, Any], blob: bytes | None = None) -> str:
        """Queue one item; its ``uuid`` is taken from the payload or generated into it."""
        return self.put_many([(kind, payload, blob)])[0]

    def put_many(
        self,
        entries: Iterable[tuple[str, dict[str, Any], bytes | None]],
        kv: dict[str, Any] | None = None,
    ) -> list[str]:
        """Queue several items atomically (e.g. a check result and the state change it caused).

        ``kv`` entries are written in the same transaction, so the persisted
        hysteresis state never disagrees with the queued state items.
        """
        now = utc_iso()
        uuids: list[str] = []
        with self._tx() as db:
            for key, value in (kv or {}).items():
                db.execute(
                    "INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    (key, json.dumps(value, ensure_ascii=False)),
                )
            for kind, payload, blob in entries:
                if kind not in KINDS:
                    raise ValueError(f"unknown outbox kind {kind!r}")
                payload.setdefault("uuid", new_uuid())
                uuids.append(payload["uuid"])
                db.execute(
                    "INSERT OR IGNORE INTO items (uuid, kind, payload, blob, created_at) VALUES (?, ?, ?, ?, ?)",
                    (payload["uuid"], kind, json.dumps(payload, ensure_ascii=False), blob, now),
                )
        return uuids

    def peek(self, kind: str, limit: int) -> list[Item]:
        """The oldest ``limit`` items of a kind, without removing them."""
        with self._lock:
            rows = self._db.execute(
                "SELECT id, uuid, kind, payload, blob, attempts FROM items WHERE kind = ? ORDER BY id LIMIT ?",
                (kind, limit),
            ).fetchall()
        return [Item(r[0], r[1], r[2], json.loads(r[3]), r[4], r[5]) for r in rows]

    def remove(self, uuids: Iterable[str]) -> int:
        """Delete acknowledged (or permanently rejected) items; returns how many were deleted."""
        ids = list(uuids)
        if not ids:
            return 0
        deleted = 0
        with self._tx() as db:
            for chunk_start in range(0, len(ids), 500):
                chunk = ids[chunk_start : chunk_start + 500]
                marks = ",".join("?" * len(chunk))
                deleted += db.execute(f"DELETE FROM items WHERE uuid IN ({marks})", chunk).rowcount
        return deleted

    def record_failure(self, uuids: Iterable[str], error: str) -> None:
        """Count a failed delivery attempt on items that stay queued."""
        ids = list(uuids)
        if not ids:
            return
        with self._tx() as db:
            db.executemany(
                "UPDATE items SET attempts = attempts + 1, last_error = ? WHERE uuid = ?",
                [(error[:500], u) for u in ids],
            )

    def bury(self, refusals: dict[str, tuple[str, str]]) -> int:
        """Move refused items (uuid → (code, message)) to the dead-letter table; how many moved."""
        if not refusals:
            return 0
        now = utc_iso()
        moved = 0
        with self._tx() as db:
            for uid, (code, message) in refusals.items():
                moved += db.execute(
                    "INSERT OR REPLACE INTO dead (uuid, kind, payload, blob, created_at, attempts,"
                    " dead_at, code, message)"
                    " SELECT uuid, kind, payload, blob, created_at, attempts + 1, ?, ?, ?"
                    " FROM items WHERE uuid = ?",
                    (now, code[:64], message[:500], uid),
                ).rowcount
                db.execute("DELETE FROM items WHERE uuid = ?", (uid,))
        return moved

    def dead(self, limit: int = 1000) -> list[DeadItem]:
        """The dead-letter items, oldest refusal first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT uuid, kind, created_at, dead_at, code, message FROM dead ORDER BY id LIMIT ?",
                (limit,),
            ).fetchall()
        return [DeadItem(*r) for r in rows]

    def requeue(self, uuids: Iterable[str] | None = None, kind: str | None = None) -> list[str]:
        """Move dead-letter items back into the queue (all, or the given uuids / kind).

        They keep their uuid, so an item the tracker stored after all is
        acknowledged as a duplicate and changes nothing. Returns the uuids moved.
        """
        wanted = None if uuids is None else list(uuids)
        with self._tx() as db:
            sql = "SELECT uuid FROM dead"
            args: list[Any] = []
            if kind is not None:
                sql += " WHERE kind = ?"
                args.append(kind)
            found = [r[0] for r in db.execute(sql + " ORDER BY id", args)]
            if wanted is not None:
                chosen = set(wanted)
                found = [u for u in found if u in chosen]
            for uid in found:
                db.execute(
                    "INSERT OR IGNORE INTO items (uuid, kind, payload, blob, created_at)"
                    " SELECT uuid, kind, payload, blob, created_at FROM dead WHERE uuid = ?",
                    (uid,),
                )
                db.execute("DELETE FROM dead WHERE uuid = ?", (uid,))
        return found

    def dead_depth(self) -> dict[str, int]:
        """Number of dead-letter items per kind, and ``total``."""
        with self._lock:
            rows = self._db.execute("SELECT kind, COUNT(*) FROM dead GROUP BY kind").fetchall()
        return _counts(rows)

    def depth(self) -> dict[str, int]:
        """Number of queued items per kind, and ``total``."""
        with self._lock:
            rows = self._db.execute("SELECT kind, COUNT(*) FROM items GROUP BY kind").fetchall()
        return _counts(rows)

    # ------------------------------------------------------------------ key/value state
    def get(self, key: str, default: Any = None) -> Any:
        """A JSON value of the key/value table."""
        with self._lock:
            row = self._db.execute("SELECT value FROM kv WHERE key = ?", (key,)).fetchone()
        return default if row is None else json.loads(row[0])

    def set(self, key: str, value: Any) -> None:
        """Store a JSON value in the key/value table."""
        self.put_many([], kv={key: value})

    def items_with_prefix(self, prefix: str) -> dict[str, Any]:
        """Every key/value pair whose key starts with ``prefix``."""
        with self._lock:
            rows = self._db.execute(
                "SELECT key, value FROM kv WHERE key >= ? AND key < ?", (prefix, prefix + "\uffff")
            ).fetchall()
        return {k: json.loads(v) for k, v in rows}


def _counts(rows: list[tuple[str, int]]) -> dict[str, int]:
    out = dict.fromkeys(KINDS, 0)
    out.update(dict(rows))
    out["total"] = sum(n for _, n in rows)
    return out


def open_readonly(path: Path | str) -> sqlite3.Connection:
    """A read-only connection for ``monitor status`` (never blocks or alters the daemon's file)."""
    return sqlite3.connect(f"file:{Path(path)}?mode=ro", uri=True, timeout=5)
