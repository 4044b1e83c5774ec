"""The hub's pairing claims: the hash of each printed claim code, until the server confirms it stored it.

`gateway pair` draws a random code, prints it once and keeps only its hash here. The publisher
registers pending claims over the hub's own MQTT identity (contract.DeviceClaim on
vitalgate/v1/{gateway_id}/claims) and re-sends them until a commit receipt lists the serial.
Its own SQLite connection to the hub file (WAL): `gateway pair` runs beside a running hub.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS claims (
    serial        TEXT PRIMARY KEY,
    kind          TEXT NOT NULL,
    code_hash     TEXT NOT NULL,
    paired_at     TEXT NOT NULL,
    sent_at       TEXT,
    confirmed_at  TEXT
);
"""


@dataclass(frozen=True, slots=True)
class PendingClaim:
    serial: str
    kind: str
    code_hash: str
    paired_at: datetime


class HubClaims:
    """Claims table of the hub's SQLite file."""

    def __init__(self, path: Path) -> None:
        self._db = sqlite3.connect(path, isolation_level=None, timeout=10.0)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        self._db.close()

    def add(self, serial: str, kind: str, code_hash: str, *, now: datetime) -> None:
        """A new code for a device replaces its earlier one (re-pairing), to be registered again."""
        self._db.execute(
            "INSERT INTO claims (serial, kind, code_hash, paired_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (serial) DO UPDATE SET kind = excluded.kind, code_hash = excluded.code_hash,"
            " paired_at = excluded.paired_at, sent_at = NULL, confirmed_at = NULL",
            (serial, kind, code_hash, now.isoformat()),
        )

    def due(self, resend_before: datetime) -> list[PendingClaim]:
        """Unconfirmed claims never sent, or sent before `resend_before`."""
        rows = self._db.execute(
            "SELECT serial, kind, code_hash, paired_at FROM claims WHERE confirmed_at IS NULL"
            " AND (sent_at IS NULL OR sent_at < ?) ORDER BY paired_at LIMIT 256",
            (resend_before.isoformat(),),
        ).fetchall()
        return [PendingClaim(r[0], r[1], r[2], datetime.fromisoformat(r[3])) for r in rows]

    def mark_sent(self, serials: list[str], *, now: datetime) -> None:
        self._db.executemany("UPDATE claims SET sent_at = ? WHERE serial = ?", [(now.isoformat(), s) for s in serials])

    def confirm(self, serials: list[str], *, now: datetime) -> int:
        """The server stored these claims; returns how many were pending."""
        return self._db.executemany(
            "UPDATE claims SET confirmed_at = ? WHERE serial = ? AND confirmed_at IS NULL",
            [(now.isoformat(), s) for s in serials],
        ).rowcount

    def pending(self) -> int:
        return int(self._db.execute("SELECT count(*) FROM claims WHERE confirmed_at IS NULL").fetchone()[0])
