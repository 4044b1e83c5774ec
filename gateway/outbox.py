"""The hub's durable state in SQLite (WAL): device registry, sync cursors and the reading outbox.

A reading is written to the outbox in the same transaction that advances its device's cursor,
so a crash can neither skip a record (cursor ahead of outbox) nor lose one (outbox not written).
SQLite calls are short local writes; they run on the loop on purpose (no threads mixed in).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS devices (
    address       TEXT PRIMARY KEY,
    serial        TEXT NOT NULL,
    kind          TEXT NOT NULL,
    name          TEXT,
    model         TEXT,
    manufacturer  TEXT,
    firmware      TEXT,
    paired_at     TEXT NOT NULL,
    cursor_seq    INTEGER,
    cursor_time   TEXT,
    last_sync_at  TEXT
);
CREATE TABLE IF NOT EXISTS outbox (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    reading_id  TEXT NOT NULL UNIQUE,
    payload     TEXT NOT NULL,
    created_at  TEXT NOT NULL
);
"""


@dataclass(frozen=True, slots=True)
class RegisteredDevice:
    address: str
    serial: str
    kind: str
    name: str | None
    model: str | None
    manufacturer: str | None
    firmware: str | None
    cursor_seq: int | None
    cursor_time: datetime | None
    last_sync_at: str | None


@dataclass(frozen=True, slots=True)
class OutboxItem:
    seq: int
    reading_id: str
    payload: str


class HubStore:
    """Registry + cursors + outbox in one SQLite file."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        # FULL: a reading acknowledged to the device's cursor must survive power loss.
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        self._db.close()

    # -- registry ------------------------------------------------------------------------------

    def register(
        self, *, address: str, serial: str, kind: str, name: str | None, model: str | None,
        manufacturer: str | None, firmware: str | None, now: datetime,
    ) -> None:
        """Add or refresh a paired device (its cursor is kept on re-pairing)."""
        self._db.execute(
            "INSERT INTO devices (address, serial, kind, name, model, manufacturer, firmware, paired_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (address) DO UPDATE SET serial=excluded.serial,"
            " kind=excluded.kind, name=excluded.name, model=excluded.model, manufacturer=excluded.manufacturer,"
            " firmware=excluded.firmware",
            (address, serial, kind, name, model, manufacturer, firmware, now.isoformat()),
        )

    def forget(self, address: str) -> bool:
        """Remove a device from the registry; its unsent readings stay in the outbox."""
        return self._db.execute("DELETE FROM devices WHERE address = ?", (address,)).rowcount > 0

    def devices(self) -> list[RegisteredDevice]:
        rows = self._db.execute(
            "SELECT address, serial, kind, name, model, manufacturer, firmware, cursor_seq, cursor_time, last_sync_at"
            " FROM devices ORDER BY address"
        ).fetchall()
        return [
            RegisteredDevice(*r[:8], datetime.fromisoformat(r[8]) if r[8] else None, r[9]) for r in rows
        ]

    def device(self, address: str) -> RegisteredDevice | None:
        return next((d for d in self.devices() if d.address == address), None)

    # -- sync -----------------------------------------------------------------------------------

    def commit_sync(
        self,
        address: str,
        readings: Iterable[tuple[str, str]],
        *,
        cursor_seq: int | None,
        cursor_time: datetime | None,
        now: datetime,
    ) -> int:
        """Atomically append (reading_id, payload) pairs and advance the device cursor; returns rows added."""
        added = 0
        self._db.execute("BEGIN IMMEDIATE")
        try:
            for reading_id, payload in readings:
                added += self._db.execute(
                    "INSERT OR IGNORE INTO outbox (reading_id, payload, created_at) VALUES (?, ?, ?)",
                    (reading_id, payload, now.isoformat()),
                ).rowcount
            self._db.execute(
                "UPDATE devices SET cursor_seq = COALESCE(?, cursor_seq), cursor_time = COALESCE(?, cursor_time),"
                " last_sync_at = ? WHERE address = ?",
                (cursor_seq, cursor_time.isoformat() if cursor_time else None, now.isoformat(), address),
            )
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        return added

    # -- outbox ---------------------------------------------------------------------------------

    def next_batch(self, limit: int) -> list[OutboxItem]:
        """The oldest unsent readings, in order."""
        rows = self._db.execute("SELECT seq, reading_id, payload FROM outbox ORDER BY seq LIMIT ?", (limit,)).fetchall()
        return [OutboxItem(*r) for r in rows]

    def delete_through(self, items: list[OutboxItem]) -> None:
        """Drop items the broker has acknowledged."""
        self._db.execute("BEGIN IMMEDIATE")
        self._db.executemany("DELETE FROM outbox WHERE seq = ?", [(i.seq,) for i in items])
        self._db.execute("COMMIT")

    def backlog(self) -> int:
        return int(self._db.execute("SELECT count(*) FROM outbox").fetchone()[0])


def dumps(obj: object) -> str:
    return json.dumps(obj, separators=(",", ":"))
