"""Device look-ups for pairing: by serial or claim code, binding, a patient's devices (unbound ones: store.readings)."""

from __future__ import annotations

from datetime import datetime

import psycopg
from psycopg.rows import class_row

from vitalgate.store.db import column
from vitalgate.store.people import bind_device
from vitalgate.store.rows import Binding, BindResult, Device, PatientDevice


async def find_device(conn: psycopg.AsyncConnection, *, serial: str) -> list[Device]:
    """The device with this serial (a list of at most one), with its open binding."""
    async with conn.cursor(row_factory=class_row(Device)) as cur:
        await cur.execute(
            """
            SELECT d.serial, d.kind, d.model, d.manufacturer, d.first_seen_at, d.last_seen_at,
                   b.patient_id AS bound_patient_id, b.valid_from AS bound_since, p.care_team_id AS bound_care_team_id
            FROM devices d
            LEFT JOIN device_bindings b ON b.device_serial = d.serial AND b.valid_to IS NULL
            LEFT JOIN patients p ON p.id = b.patient_id
            WHERE d.serial = %(serial)s
            """,
            {"serial": serial},
        )
        return await cur.fetchall()


async def bind(
    conn: psycopg.AsyncConnection,
    *,
    serial: str,
    kind: str,
    patient_id: int,
    valid_from: datetime | None,
    bound_by: str,
) -> BindResult:
    """Bind (closing any open binding), record who bound it, and file earlier unassigned readings of that time."""
    binding_id = await bind_device(conn, serial, kind, patient_id, valid_from=valid_from)
    await conn.execute("UPDATE device_bindings SET bound_by = %s WHERE id = %s", (bound_by, binding_id))
    # Readings that arrived before anyone paired the device were stored without a patient; once the
    # binding says whose they are, file them (only those measured inside the new binding).
    filed = await column(
        conn,
        "UPDATE readings r SET patient_id = %s FROM device_bindings b"
        " WHERE b.id = %s AND r.device_serial = b.device_serial AND r.patient_id IS NULL AND r.measured_at >= b.valid_from"
        " RETURNING r.id",
        (patient_id, binding_id),
    )
    async with conn.cursor(row_factory=class_row(Binding)) as c:
        await c.execute(
            "SELECT id, device_serial, patient_id, valid_from, valid_to, bound_by FROM device_bindings WHERE id = %s",
            (binding_id,),
        )
        row = await c.fetchone()
    assert row is not None
    return BindResult(row, filed)


async def patient_devices(
    conn: psycopg.AsyncConnection, patient_id: int, *, include_closed: bool = True
) -> list[PatientDevice]:
    """A patient's device bindings (open ones first), with the device's last reading time."""
    async with conn.cursor(row_factory=class_row(PatientDevice)) as cur:
        await cur.execute(
            """
            SELECT b.id AS binding_id, d.serial, d.kind, d.model, d.manufacturer, b.valid_from, b.valid_to,
                   b.bound_by, d.last_seen_at
            FROM device_bindings b JOIN devices d ON d.serial = b.device_serial
            WHERE b.patient_id = %(p)s AND (%(closed)s OR b.valid_to IS NULL)
            ORDER BY (b.valid_to IS NULL) DESC, b.valid_from DESC
            """,
            {"p": patient_id, "closed": include_closed},
        )
        return await cur.fetchall()
