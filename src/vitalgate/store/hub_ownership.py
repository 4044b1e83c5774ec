"""Device -> hub ownership: which hub may publish a device's readings, and the audited staff move.

Ownership is recorded once: by the hub that registers the device's claim code at pairing
(store.claims), or, for a device without a claim, by the hub whose reading is stored first
(store.readings upsert). Ingest never changes it; a reading from another hub is held for review
(store.holds, reason foreign_hub). Only `move_device` (an API route and `vitalgate admin
move-device`, both audited) gives a device to another hub.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
from psycopg.rows import tuple_row

from vitalgate.store import audit


@dataclass(frozen=True, slots=True)
class HubMove:
    serial: str
    from_hub: str | None
    to_hub: str
    patient_id: int | None  # the device's open binding, for the audit row


async def device_hub(conn: psycopg.AsyncConnection, serial: str) -> str | None:
    """The hub that owns a device (None: unknown device, or no hub yet)."""
    async with conn.cursor(row_factory=tuple_row) as cur:
        await cur.execute("SELECT hub_id FROM devices WHERE serial = %s", (serial,))
        row = await cur.fetchone()
    return None if row is None else row[0]


async def bound_patient(conn: psycopg.AsyncConnection, serial: str) -> int | None:
    """The patient a device is bound to now (None: unbound)."""
    async with conn.cursor(row_factory=tuple_row) as cur:
        await cur.execute(
            "SELECT patient_id FROM device_bindings WHERE device_serial = %s AND valid_to IS NULL", (serial,)
        )
        row = await cur.fetchone()
    return None if row is None else int(row[0])


async def move_device(
    conn: psycopg.AsyncConnection,
    serial: str,
    to_hub: str,
    *,
    reason: str,
    actor: str,
    actor_id: int | None,
    role: str,
    source: str | None,
) -> HubMove:
    """Give a device to another hub, with an audit row; raises LookupError for an unknown device.

    Readings the new hub published before the move stay in the review queue (foreign_hub) for
    staff to release; the caller commits.
    """
    async with conn.cursor(row_factory=tuple_row) as cur:
        await cur.execute(
            "WITH old AS (SELECT serial, hub_id FROM devices WHERE serial = %s FOR UPDATE)"
            " UPDATE devices d SET hub_id = %s, hub_since = now() FROM old WHERE d.serial = old.serial"
            " RETURNING old.hub_id",
            (serial, to_hub),
        )
        row = await cur.fetchone()
    if row is None:
        raise LookupError(f"no device with serial {serial!r}")
    move = HubMove(serial, row[0], to_hub, await bound_patient(conn, serial))
    await audit.record(
        conn,
        actor=actor,
        actor_id=actor_id,
        role=role,
        action="change:device_hub",
        patient_id=move.patient_id,
        source=source,
        detail={"serial": serial, "from_hub": move.from_hub, "to_hub": to_hub, "reason": reason},
    )
    return move
