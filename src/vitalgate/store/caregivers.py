"""Caregivers (family members) of a patient: contact points, language, what they receive, their login."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import class_row


@dataclass(frozen=True, slots=True)
class Caregiver:
    id: int
    patient_id: int
    name: str
    relationship: str
    phone: str | None
    email: str | None
    app_id: str | None
    preferred_channel: str | None
    language: str
    alert_severities: list[str]
    receives_reminders: bool
    user_id: int | None
    active: bool
    created_at: datetime


CAREGIVER_FIELDS = (
    "name",
    "relationship",
    "phone",
    "email",
    "app_id",
    "preferred_channel",
    "language",
    "alert_severities",
    "receives_reminders",
    "active",
)
_COLUMNS = (
    "id, patient_id, name, relationship, phone, email, app_id, preferred_channel, language, alert_severities,"
    " receives_reminders, user_id, active, created_at"
)


async def add(conn: psycopg.AsyncConnection, patient_id: int, values: dict[str, Any]) -> Caregiver:
    """Add a caregiver to a patient (fields from CAREGIVER_FIELDS, validated by the caller)."""
    keys = [k for k in CAREGIVER_FIELDS if k in values]
    async with conn.cursor(row_factory=class_row(Caregiver)) as cur:
        await cur.execute(
            f"INSERT INTO caregivers (patient_id, {', '.join(keys)})"
            f" VALUES (%(patient_id)s, {', '.join(f'%({k})s' for k in keys)}) RETURNING {_COLUMNS}",
            {"patient_id": patient_id, **{k: values[k] for k in keys}},
        )
        row = await cur.fetchone()
    assert row is not None
    return row


async def update(
    conn: psycopg.AsyncConnection, patient_id: int, caregiver_id: int, values: dict[str, Any]
) -> Caregiver | None:
    """Change some fields of one of the patient's caregivers; None if there is no such caregiver."""
    keys = [k for k in CAREGIVER_FIELDS if k in values]
    if not keys:
        return await get(conn, patient_id, caregiver_id)
    async with conn.cursor(row_factory=class_row(Caregiver)) as cur:
        await cur.execute(
            f"UPDATE caregivers SET {', '.join(f'{k} = %({k})s' for k in keys)}"
            f" WHERE id = %(id)s AND patient_id = %(patient_id)s RETURNING {_COLUMNS}",
            {"id": caregiver_id, "patient_id": patient_id, **{k: values[k] for k in keys}},
        )
        return await cur.fetchone()


async def get(conn: psycopg.AsyncConnection, patient_id: int, caregiver_id: int) -> Caregiver | None:
    async with conn.cursor(row_factory=class_row(Caregiver)) as cur:
        await cur.execute(
            f"SELECT {_COLUMNS} FROM caregivers WHERE id = %s AND patient_id = %s", (caregiver_id, patient_id)
        )
        return await cur.fetchone()


async def of_patient(conn: psycopg.AsyncConnection, patient_id: int) -> list[Caregiver]:
    """The patient's caregivers, active first, by name."""
    async with conn.cursor(row_factory=class_row(Caregiver)) as cur:
        await cur.execute(
            f"SELECT {_COLUMNS} FROM caregivers WHERE patient_id = %s ORDER BY active DESC, name, id", (patient_id,)
        )
        return await cur.fetchall()


async def link_user(conn: psycopg.AsyncConnection, caregiver_id: int, user_id: int) -> None:
    """Give a caregiver their own (caregiver-role) login."""
    await conn.execute("UPDATE caregivers SET user_id = %s WHERE id = %s", (user_id, caregiver_id))


async def of_user(conn: psycopg.AsyncConnection, user_id: int) -> list[Caregiver]:
    """The active caregiver entries a login stands for (one per patient they look after)."""
    async with conn.cursor(row_factory=class_row(Caregiver)) as cur:
        await cur.execute(
            f"SELECT {_COLUMNS} FROM caregivers WHERE user_id = %s AND active ORDER BY patient_id", (user_id,)
        )
        return await cur.fetchall()


async def exists(conn: psycopg.AsyncConnection, caregiver_id: int) -> bool:
    row = await (await conn.execute("SELECT 1 FROM caregivers WHERE id = %s", (caregiver_id,))).fetchone()
    return row is not None
