"""Care teams, users, patients and device bindings."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import class_row, tuple_row

from vitalgate.store.db import scalar
from vitalgate.store.rows import Patient


async def create_care_team(conn: psycopg.AsyncConnection, name: str) -> int:
    """Create (or find) a care team by name."""
    row = await scalar(
        conn,
        "INSERT INTO care_teams (name) VALUES (%s) ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name RETURNING id",
        (name,),
    )
    return _returned(row)


async def create_user(
    conn: psycopg.AsyncConnection,
    username: str,
    display_name: str,
    role: str,
    *,
    password_hash: str | None = None,
    care_team_id: int | None = None,
    on_duty: bool = True,
) -> int:
    """Create a user and, for staff, add them to a care team."""
    row = await scalar(
        conn,
        "INSERT INTO users (username, display_name, role, password_hash, on_duty) VALUES (%s, %s, %s, %s, %s)"
        " RETURNING id",
        (username, display_name, role, password_hash, on_duty),
    )
    user_id = _returned(row)
    if care_team_id is not None:
        await add_team_member(conn, care_team_id, user_id)
    return user_id


async def add_team_member(conn: psycopg.AsyncConnection, care_team_id: int, user_id: int) -> None:
    """Put a staff user in a care team (idempotent)."""
    await conn.execute(
        "INSERT INTO care_team_members (care_team_id, user_id) VALUES (%s, %s) ON CONFLICT DO NOTHING",
        (care_team_id, user_id),
    )


async def leave_all_teams(conn: psycopg.AsyncConnection, user_id: int) -> None:
    """Take a staff user out of every care team (their open tasks stay assigned)."""
    await conn.execute("DELETE FROM care_team_members WHERE user_id = %s", (user_id,))


async def upsert_user(
    conn: psycopg.AsyncConnection,
    username: str,
    display_name: str,
    role: str,
    *,
    password_hash: str | None,
    care_team_id: int | None = None,
) -> int:
    """Create a user or reset an existing one's name, role and password (demo and bootstrap)."""
    row = await scalar(
        conn,
        "INSERT INTO users (username, display_name, role, password_hash) VALUES (%s, %s, %s, %s)"
        " ON CONFLICT (username) DO UPDATE SET display_name = EXCLUDED.display_name, role = EXCLUDED.role,"
        " password_hash = EXCLUDED.password_hash RETURNING id",
        (username, display_name, role, password_hash),
    )
    user_id = _returned(row)
    if care_team_id is not None:
        await add_team_member(conn, care_team_id, user_id)
    return user_id


async def create_patient(
    conn: psycopg.AsyncConnection,
    display_name: str,
    care_team_id: int,
    *,
    external_ref: str | None = None,
    tags: list[str] | None = None,
    user_id: int | None = None,
) -> int:
    """Create a patient in a care team."""
    row = await scalar(
        conn,
        "INSERT INTO patients (display_name, care_team_id, external_ref, tags, user_id)"
        " VALUES (%s, %s, %s, %s, %s) RETURNING id",
        (display_name, care_team_id, external_ref, tags or [], user_id),
    )
    return _returned(row)


async def bind_device(
    conn: psycopg.AsyncConnection,
    serial: str,
    kind: str,
    patient_id: int,
    *,
    valid_from: datetime | None = None,
    model: str | None = None,
    manufacturer: str | None = None,
) -> int:
    """Bind a device to a patient from valid_from on, closing any open binding of that device."""
    await conn.execute(
        "INSERT INTO devices (serial, kind, model, manufacturer) VALUES (%s, %s, %s, %s)"
        " ON CONFLICT (serial) DO UPDATE SET model = COALESCE(EXCLUDED.model, devices.model),"
        " manufacturer = COALESCE(EXCLUDED.manufacturer, devices.manufacturer)",
        (serial, kind, model, manufacturer),
    )
    await conn.execute(
        "UPDATE device_bindings SET valid_to = COALESCE(%s, now()) WHERE device_serial = %s AND valid_to IS NULL",
        (valid_from, serial),
    )
    row = await scalar(
        conn,
        "INSERT INTO device_bindings (device_serial, patient_id, valid_from) VALUES (%s, %s, COALESCE(%s, now()))"
        " RETURNING id",
        (serial, patient_id, valid_from),
    )
    return _returned(row)


async def get_patient(conn: psycopg.AsyncConnection, patient_id: int) -> Patient | None:
    """One patient with their care team."""
    async with conn.cursor(row_factory=class_row(Patient)) as cur:
        await cur.execute(
            "SELECT p.id, p.external_ref, p.display_name, p.care_team_id, p.tags, t.name AS care_team"
            " FROM patients p JOIN care_teams t ON t.id = p.care_team_id WHERE p.id = %s",
            (patient_id,),
        )
        return await cur.fetchone()


async def list_patients(
    conn: psycopg.AsyncConnection,
    *,
    care_team_ids: list[int] | None = None,
    patient_id: int | None = None,
    limit: int = 1000,
) -> list[Patient]:
    """Patients of some care teams (or one patient), by name."""
    async with conn.cursor(row_factory=class_row(Patient)) as cur:
        await cur.execute(
            "SELECT p.id, p.external_ref, p.display_name, p.care_team_id, p.tags, t.name AS care_team"
            " FROM patients p JOIN care_teams t ON t.id = p.care_team_id"
            " WHERE (%(teams)s::bigint[] IS NULL OR p.care_team_id = ANY(%(teams)s))"
            "   AND (%(pid)s::bigint IS NULL OR p.id = %(pid)s)"
            " ORDER BY p.display_name, p.id LIMIT %(limit)s",
            {"teams": care_team_ids, "pid": patient_id, "limit": limit},
        )
        return await cur.fetchall()


async def link_patient_user(conn: psycopg.AsyncConnection, patient_id: int, user_id: int) -> None:
    """Let a patient user sign in as this patient record (a login belongs to one patient at a time)."""
    await conn.execute("UPDATE patients SET user_id = NULL WHERE user_id = %s AND id <> %s", (user_id, patient_id))
    await conn.execute("UPDATE patients SET user_id = %s WHERE id = %s", (user_id, patient_id))


def _returned(value: Any) -> int:
    if value is None:
        raise LookupError("statement returned no row")
    return int(value)


async def patient_team_and_tags(conn: psycopg.AsyncConnection, patient_id: int) -> tuple[int, list[str]] | None:
    """(care team id, tags) of a patient, or None if there is no such patient."""
    async with conn.cursor(row_factory=tuple_row) as cur:
        await cur.execute("SELECT care_team_id, tags FROM patients WHERE id = %s", (patient_id,))
        row = await cur.fetchone()
    return None if row is None else (int(row[0]), list(row[1] or []))


async def preferred_channel(conn: psycopg.AsyncConnection, patient_id: int) -> str | None:
    """The patient's preferred written channel (None: not recorded, or no such patient)."""
    channel = await scalar(conn, "SELECT preferred_channel FROM patients WHERE id = %s", (patient_id,))
    return None if channel is None else str(channel)


async def login_of_patient(conn: psycopg.AsyncConnection, patient_id: int) -> int | None:
    """The user id linked to this patient record, if any."""
    user_id = await scalar(conn, "SELECT user_id FROM patients WHERE id = %s", (patient_id,))
    return None if user_id is None else int(user_id)
