"""Education items sent to patients (migration 0025): scheduled once per (patient, item), sent, opened."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import psycopg
from psycopg.rows import class_row, tuple_row

from vitalgate.store.db import scalar


@dataclass(frozen=True, slots=True)
class ContentSend:
    id: int
    patient_id: int
    item_key: str
    language: str
    program_id: str | None
    chosen_by: str
    scheduled_for: datetime
    delivery_id: int | None
    sent_at: datetime | None
    opened_at: datetime | None


_COLUMNS = "id, patient_id, item_key, language, program_id, chosen_by, scheduled_for, delivery_id, sent_at, opened_at"


async def sent_keys(conn: psycopg.AsyncConnection, patient_id: int) -> set[str]:
    """Every item already scheduled for the patient, by a module or by matching (never repeated)."""
    async with conn.cursor(row_factory=tuple_row) as cur:
        await cur.execute(
            "SELECT item_key FROM content_sends WHERE patient_id = %s UNION"
            " SELECT item_key FROM program_module_items WHERE patient_id = %s AND item_kind = 'education'",
            (patient_id, patient_id),
        )
        return {str(k) for (k,) in await cur.fetchall()}


async def schedule(
    conn: psycopg.AsyncConnection,
    *,
    patient_id: int,
    item_key: str,
    language: str,
    chosen_by: str,
    scheduled_for: datetime,
    program_id: str | None = None,
) -> int | None:
    """The new send's id, or None when this item was scheduled for the patient before."""
    found = await scalar(
        conn,
        "INSERT INTO content_sends (patient_id, item_key, language, program_id, chosen_by, scheduled_for)"
        " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (patient_id, item_key) DO NOTHING RETURNING id",
        (patient_id, item_key, language, program_id, chosen_by, scheduled_for),
    )
    return None if found is None else int(found)


async def get(conn: psycopg.AsyncConnection, send_id: int) -> ContentSend | None:
    async with conn.cursor(row_factory=class_row(ContentSend)) as cur:
        await cur.execute(f"SELECT {_COLUMNS} FROM content_sends WHERE id = %s", (send_id,))
        return await cur.fetchone()


async def of_patient(conn: psycopg.AsyncConnection, patient_id: int) -> list[ContentSend]:
    async with conn.cursor(row_factory=class_row(ContentSend)) as cur:
        await cur.execute(
            f"SELECT {_COLUMNS} FROM content_sends WHERE patient_id = %s ORDER BY scheduled_for, id", (patient_id,)
        )
        return await cur.fetchall()


async def due(conn: psycopg.AsyncConnection, now: datetime, *, limit: int = 500) -> list[ContentSend]:
    """Unsent items scheduled by `now`, locked for this transaction (SKIP LOCKED)."""
    async with conn.cursor(row_factory=class_row(ContentSend)) as cur:
        await cur.execute(
            f"SELECT {_COLUMNS} FROM content_sends WHERE sent_at IS NULL AND scheduled_for <= %s"
            " ORDER BY scheduled_for, id LIMIT %s FOR UPDATE SKIP LOCKED",
            (now, limit),
        )
        return await cur.fetchall()


async def mark_sent(conn: psycopg.AsyncConnection, send_id: int, at: datetime, delivery_id: int | None) -> None:
    await conn.execute(
        "UPDATE content_sends SET sent_at = %s, delivery_id = %s WHERE id = %s AND sent_at IS NULL",
        (at, delivery_id, send_id),
    )


async def mark_opened(conn: psycopg.AsyncConnection, send_id: int, at: datetime) -> bool:
    """First opening only (later openings keep the first time)."""
    async with conn.cursor() as cur:
        await cur.execute("UPDATE content_sends SET opened_at = %s WHERE id = %s AND opened_at IS NULL", (at, send_id))
        return cur.rowcount == 1


async def patient_profile_facts(
    conn: psycopg.AsyncConnection, patient_id: int
) -> tuple[list[str], list[str], str | None, str] | None:
    """(tags, condition codes, journey stage, language) of a patient."""
    async with conn.cursor(row_factory=tuple_row) as cur:
        await cur.execute(
            "SELECT p.tags, coalesce(array_agg(c.code) FILTER (WHERE c.code IS NOT NULL), '{}'), p.journey_stage,"
            " p.language FROM patients p LEFT JOIN patient_conditions c ON c.patient_id = p.id WHERE p.id = %s"
            " GROUP BY p.id",
            (patient_id,),
        )
        row = await cur.fetchone()
    return None if row is None else (list(row[0]), list(row[1]), row[2], str(row[3]))
