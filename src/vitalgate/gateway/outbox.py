"""The hub's durable state in SQLite (WAL): device registry, sync cursors and the reading outbox.

A reading is written to the outbox in the same transaction that advances its device's cursor,
so a crash can neither skip a record (cursor ahead of outbox) nor lose one (outbox not written).
`known_readings` remembers ids already queued, so a device that re-sends its whole memory (a
sequence restart, a cuff dump) adds nothing new. The outbox is bounded: past `max_rows` the
oldest rows go and `dropped` counts them (reported in the status, never silent).
SQLite calls are short local writes; they run on the loop on purpose (no threads mixed in).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import structlog

log = structlog.get_logger(__name__)

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
CREATE TABLE IF NOT EXISTS known_readings (
    id          INTEGER PRIMARY KEY,
    reading_id  TEXT NOT NULL UNIQUE,
    address     TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS known_readings_address ON known_readings (address, id);
CREATE TABLE IF NOT EXISTS hub_state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS rejected (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    address  TEXT NOT NULL,
    reason   TEXT NOT NULL,
    raw      TEXT NOT NULL,
    at       TEXT NOT NULL
);
"""
# Columns newer than the step-1 file format, per table. outbox.published_at: when the row was
# last published (PUBACK); the row stays until ingest's commit receipt names it.
_ADDED_COLUMNS = {"devices": {"last_error": "TEXT"}, "outbox": {"published_at": "TEXT"}}
# Ids remembered per device: meters hold at most a few thousand records, so a re-sent memory is
# always recognised; beyond this a re-sent record is a duplicate that ingest drops by id.
KNOWN_PER_DEVICE = 20_000
REJECTED_KEPT = 10_000  # bad device records kept for inspection (newest)


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
    last_error: str | None = None


@dataclass(frozen=True, slots=True)
class OutboxItem:
    seq: int
    reading_id: str
    payload: str


class HubStore:
    """Registry + cursors + outbox in one SQLite file."""

    def __init__(self, path: Path, *, max_rows: int | None = None) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.max_rows = max_rows
        # timeout: the CLI (pair/status) and a running hub may write the same file.
        self._db = sqlite3.connect(path, isolation_level=None, timeout=10.0)
        self._db.execute("PRAGMA journal_mode=WAL")
        # FULL: a reading acknowledged to the device's cursor must survive power loss.
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)
        for table, columns in _ADDED_COLUMNS.items():
            have = {row[1] for row in self._db.execute(f"PRAGMA table_info({table})")}
            for column, kind in columns.items():
                if column not in have:
                    self._db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")

    def close(self) -> None:
        self._db.close()

    # -- registry ------------------------------------------------------------------------------

    def register(
        self,
        *,
        address: str,
        serial: str,
        kind: str,
        name: str | None,
        model: str | None,
        manufacturer: str | None,
        firmware: str | None,
        now: datetime,
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
        """Remove a device and its cursor; its unsent readings stay in the outbox and are published."""
        self._db.execute("BEGIN IMMEDIATE")
        gone = self._db.execute("DELETE FROM devices WHERE address = ?", (address,)).rowcount > 0
        self._db.execute("DELETE FROM known_readings WHERE address = ?", (address,))
        self._db.execute("COMMIT")
        return gone

    def devices(self) -> list[RegisteredDevice]:
        rows = self._db.execute(
            "SELECT address, serial, kind, name, model, manufacturer, firmware, cursor_seq, cursor_time,"
            " last_sync_at, last_error FROM devices ORDER BY address"
        ).fetchall()
        return [_registered(r) for r in rows]

    def device(self, address: str) -> RegisteredDevice | None:
        return next((d for d in self.devices() if d.address == address), None)

    def record_error(self, address: str, error: str | None) -> None:
        """Remember why the last sync attempt failed (None clears it); shown by `gateway status`."""
        self._db.execute(
            "UPDATE devices SET last_error = ? WHERE address = ?", (error[:300] if error else None, address)
        )

    # -- sync -----------------------------------------------------------------------------------

    def commit_sync(
        self,
        address: str,
        readings: Iterable[tuple[str, str]],
        *,
        cursor_seq: int | None,
        cursor_time: datetime | None,
        now: datetime,
        rejected: Iterable[tuple[str, str]] = (),
    ) -> int:
        """Atomically queue new (reading_id, payload) pairs, keep rejects, advance the cursor; returns rows added."""
        added = 0
        at = now.isoformat()
        self._db.execute("BEGIN IMMEDIATE")
        try:
            for reading_id, payload in readings:
                if self._db.execute(
                    "INSERT OR IGNORE INTO known_readings (reading_id, address) VALUES (?, ?)", (reading_id, address)
                ).rowcount:
                    added += self._db.execute(
                        "INSERT OR IGNORE INTO outbox (reading_id, payload, created_at) VALUES (?, ?, ?)",
                        (reading_id, payload, at),
                    ).rowcount
            self._db.executemany(
                "INSERT INTO rejected (address, reason, raw, at) VALUES (?, ?, ?, ?)",
                [(address, reason, raw, at) for reason, raw in rejected],
            )
            self._db.execute(
                "UPDATE devices SET cursor_seq = COALESCE(?, cursor_seq), cursor_time = COALESCE(?, cursor_time),"
                " last_sync_at = ?, last_error = NULL WHERE address = ?",
                (cursor_seq, cursor_time.isoformat() if cursor_time else None, at, address),
            )
            dropped = self._enforce_bound() if added else 0
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        if added:
            self._prune(address)
        if dropped:
            log.error(
                "gateway.outbox_overflow",
                dropped=dropped,
                dropped_total=self.dropped(),
                max_rows=self.max_rows,
                advice="The broker has been unreachable for long: readings are being lost. Restore the network.",
            )
        return added

    def _enforce_bound(self) -> int:
        """Inside a transaction: drop the oldest rows beyond max_rows, count them; returns rows dropped."""
        if self.max_rows is None:
            return 0
        excess = self.backlog() - self.max_rows
        if excess <= 0:
            return 0
        self._db.execute("DELETE FROM outbox WHERE seq IN (SELECT seq FROM outbox ORDER BY seq LIMIT ?)", (excess,))
        self._add_state("dropped", excess)
        return excess

    def _prune(self, address: str) -> None:
        self._db.execute(
            "DELETE FROM known_readings WHERE address = ? AND id < (SELECT id FROM known_readings WHERE address = ?"
            " ORDER BY id DESC LIMIT 1 OFFSET ?)",
            (address, address, KNOWN_PER_DEVICE),
        )
        self._db.execute(
            "DELETE FROM rejected WHERE id < (SELECT id FROM rejected ORDER BY id DESC LIMIT 1 OFFSET ?)",
            (REJECTED_KEPT,),
        )

    def rejected(self, limit: int = 50) -> list[tuple[str, str, str, str]]:
        """Newest rejected device records: (address, reason, raw hex, at)."""
        return self._db.execute(
            "SELECT address, reason, raw, at FROM rejected ORDER BY id DESC LIMIT ?", (limit,)
        ).fetchall()

    # -- outbox ---------------------------------------------------------------------------------

    def next_batch(self, limit: int, *, resend_before: datetime | None = None) -> list[OutboxItem]:
        """The oldest readings to publish, in order: never published, or published before `resend_before`
        and still without a commit receipt."""
        rows = self._db.execute(
            "SELECT seq, reading_id, payload FROM outbox WHERE published_at IS NULL OR published_at < ?"
            " ORDER BY seq LIMIT ?",
            (resend_before.isoformat() if resend_before else "", limit),
        ).fetchall()
        return [OutboxItem(*r) for r in rows]

    def mark_published(self, items: list[OutboxItem], *, now: datetime) -> None:
        """The broker acknowledged these (PUBACK): keep them until their receipt, re-publish after a timeout."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            resent = self._db.execute(
                f"SELECT count(*) FROM outbox WHERE published_at IS NOT NULL AND seq IN ({_marks(len(items))})",
                [i.seq for i in items],
            ).fetchone()[0]
            self._db.executemany(
                "UPDATE outbox SET published_at = ? WHERE seq = ?", [(now.isoformat(), i.seq) for i in items]
            )
            self._add_state("published", len(items) - resent)
            if resent:
                self._add_state("republished", resent)
            self._set_state("last_publish_at", now.isoformat())
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise

    def confirm(self, reading_ids: Iterable[str]) -> int:
        """Ingest committed these readings: drop them from the outbox; returns rows dropped."""
        ids = list(reading_ids)
        self._db.execute("BEGIN IMMEDIATE")
        try:
            gone = self._db.executemany("DELETE FROM outbox WHERE reading_id = ?", [(i,) for i in ids]).rowcount
            self._add_state("confirmed", gone)
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        return gone

    def next_resend_at(self, timeout_s: float) -> datetime | None:
        """When the oldest published-but-unconfirmed row becomes due again (None: nothing waits)."""
        row = self._db.execute("SELECT min(published_at) FROM outbox WHERE published_at IS NOT NULL").fetchone()
        return datetime.fromisoformat(row[0]) + timedelta(seconds=timeout_s) if row and row[0] else None

    def backlog(self) -> int:
        """Readings not yet confirmed by a commit receipt (published or not)."""
        return int(self._db.execute("SELECT count(*) FROM outbox").fetchone()[0])

    def unconfirmed(self) -> int:
        """Readings published (PUBACK) and still waiting for their commit receipt."""
        return int(self._db.execute("SELECT count(*) FROM outbox WHERE published_at IS NOT NULL").fetchone()[0])

    # -- counters -------------------------------------------------------------------------------

    def dropped(self) -> int:
        """Readings discarded by the outbox bound, ever."""
        return int(self._state("dropped") or 0)

    def published(self) -> int:
        """Readings published at least once (PUBACK), ever."""
        return int(self._state("published") or 0)

    def confirmed(self) -> int:
        """Readings whose commit receipt came (and left the outbox), ever."""
        return int(self._state("confirmed") or 0)

    def republished(self) -> int:
        """Re-publications after a receipt timeout, ever."""
        return int(self._state("republished") or 0)

    def last_publish_at(self) -> datetime | None:
        value = self._state("last_publish_at")
        return datetime.fromisoformat(value) if value else None

    def note_status(self, *, online: bool, now: datetime) -> None:
        """Remember what the publisher last told the broker (read by `gateway status` in another process)."""
        self._set_state("status", f"{'online' if online else 'offline'}|{now.isoformat()}")

    def last_status(self) -> tuple[bool, datetime] | None:
        """(online, when) of the last status the hub published, or None."""
        value = self._state("status")
        if not value:
            return None
        state, _, at = value.partition("|")
        return state == "online", datetime.fromisoformat(at)

    def _state(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM hub_state WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def _set_state(self, key: str, value: str) -> None:
        self._db.execute(
            "INSERT INTO hub_state (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    def _add_state(self, key: str, amount: int) -> None:
        self._set_state(key, str(int(self._state(key) or 0) + amount))


def _marks(n: int) -> str:
    return ",".join("?" * n)


def dumps(obj: object) -> str:
    return json.dumps(obj, separators=(",", ":"))


def _registered(row: tuple[Any, ...]) -> RegisteredDevice:
    """A devices row (address .. last_error, in RegisteredDevice's field order) as a RegisteredDevice."""
    address, serial, kind, name, model, manufacturer, firmware, cursor_seq, cursor_time, last_sync_at, last_error = row
    return RegisteredDevice(
        address,
        serial,
        kind,
        name,
        model,
        manufacturer,
        firmware,
        cursor_seq,
        datetime.fromisoformat(cursor_time) if cursor_time else None,
        last_sync_at,
        last_error,
    )
