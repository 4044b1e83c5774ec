"""Pairing claims: hashes of the codes hubs printed, registered over MQTT; throttled, audited look-ups.

A claim ties a device to the hub that paired it (it also sets the device's hub when it has none;
store.hub_ownership). A claim from a hub that does not own the device is refused, so a hub cannot
take over another hub's meter by registering a code for its serial.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import psycopg
from psycopg.rows import tuple_row

# Failed claim-code attempts a user may make per window before pairing by code answers 429:
# a 60-bit code is not guessable; the limit stops scripted probing and shows up in the audit.
MAX_FAILED_ATTEMPTS = 5
ATTEMPT_WINDOW = timedelta(minutes=15)


@dataclass(frozen=True, slots=True)
class Claim:
    serial: str
    kind: str
    hub_id: str
    used_at: datetime | None


async def register(conn: psycopg.AsyncConnection, *, hub_id: str, serial: str, kind: str, code_hash: bytes) -> bool:
    """Store a hub's claim (replacing its earlier one for the device); False if another hub owns the device."""
    async with conn.cursor(row_factory=tuple_row) as cur:
        await cur.execute(
            "INSERT INTO devices AS d (serial, kind, hub_id, hub_since) VALUES (%s, %s, %s, now())"
            " ON CONFLICT (serial) DO UPDATE SET hub_id = COALESCE(d.hub_id, EXCLUDED.hub_id),"
            " hub_since = CASE WHEN d.hub_id IS NULL THEN now() ELSE d.hub_since END"
            " RETURNING hub_id",
            (serial, kind, hub_id),
        )
        row = await cur.fetchone()
        if row is None or row[0] != hub_id:
            return False
        await cur.execute(
            "INSERT INTO device_claims (device_serial, hub_id, device_kind, code_hash) VALUES (%s, %s, %s, %s)"
            " ON CONFLICT (device_serial) DO UPDATE SET hub_id = EXCLUDED.hub_id, device_kind = EXCLUDED.device_kind,"
            " code_hash = EXCLUDED.code_hash, registered_at = now(), used_at = NULL, used_by = NULL",
            (serial, hub_id, kind, code_hash),
        )
    return True


async def find(conn: psycopg.AsyncConnection, code_hash: bytes) -> Claim | None:
    """The claim whose code hashes to `code_hash`, if any."""
    async with conn.cursor(row_factory=tuple_row) as cur:
        await cur.execute(
            "SELECT device_serial, device_kind, hub_id, used_at FROM device_claims WHERE code_hash = %s", (code_hash,)
        )
        row = await cur.fetchone()
    return None if row is None else Claim(*row)


async def mark_used(conn: psycopg.AsyncConnection, serial: str, username: str) -> None:
    await conn.execute(
        "UPDATE device_claims SET used_at = now(), used_by = %s WHERE device_serial = %s", (username, serial)
    )


async def record_attempt(conn: psycopg.AsyncConnection, user_id: int, *, succeeded: bool) -> None:
    await conn.execute("INSERT INTO claim_attempts (user_id, succeeded) VALUES (%s, %s)", (user_id, succeeded))


async def recent_failures(conn: psycopg.AsyncConnection, user_id: int) -> int:
    """Failed attempts of this user inside the throttle window."""
    async with conn.cursor(row_factory=tuple_row) as cur:
        await cur.execute(
            "SELECT count(*) FROM claim_attempts WHERE user_id = %s AND NOT succeeded AND at > now() - %s",
            (user_id, ATTEMPT_WINDOW),
        )
        row = await cur.fetchone()
    return int(row[0]) if row else 0
