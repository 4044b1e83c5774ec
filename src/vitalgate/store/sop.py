"""SOP chain instances (e.g. the reminders around one follow-up visit)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row

from vitalgate.store.db import scalar


async def create_instance(
    conn: psycopg.AsyncConnection, *, patient_id: int, chain_id: str, anchor_at: datetime, now: datetime
) -> tuple[int, bool]:
    """(instance id, created): the same patient, chain and anchor is one instance."""
    created = await scalar(
        conn,
        "INSERT INTO sop_instances (patient_id, chain_id, anchor_at, created_at) VALUES (%s, %s, %s, %s)"
        " ON CONFLICT (patient_id, chain_id, anchor_at) DO NOTHING RETURNING id",
        (patient_id, chain_id, anchor_at, now),
    )
    if created is not None:
        return int(created), True
    existing = await scalar(
        conn,
        "SELECT id FROM sop_instances WHERE patient_id = %s AND chain_id = %s AND anchor_at = %s",
        (patient_id, chain_id, anchor_at),
    )
    assert existing is not None
    return int(existing), False


async def attach_task(conn: psycopg.AsyncConnection, instance_id: int, task_id: int) -> None:
    await conn.execute("UPDATE sop_instances SET task_id = %s WHERE id = %s", (task_id, instance_id))


async def get_instance(
    conn: psycopg.AsyncConnection, instance_id: int, *, for_update: bool = False
) -> dict[str, Any] | None:
    """One instance (optionally locked)."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            "SELECT id, patient_id, chain_id, anchor_at, status, task_id, created_at, confirmed_at"
            " FROM sop_instances WHERE id = %s" + (" FOR UPDATE" if for_update else ""),
            (instance_id,),
        )
        return await cur.fetchone()


async def set_status(conn: psycopg.AsyncConnection, instance_id: int, status: str, now: datetime) -> None:
    """Move an instance to confirmed / cancelled / completed."""
    await conn.execute(
        "UPDATE sop_instances SET status = %s, confirmed_at = CASE WHEN %s = 'confirmed' THEN %s ELSE confirmed_at END"
        " WHERE id = %s",
        (status, status, now, instance_id),
    )


async def patient_instances(conn: psycopg.AsyncConnection, patient_id: int) -> list[dict[str, Any]]:
    """A patient's SOP instances, newest anchor first."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            "SELECT id, chain_id, anchor_at, status, task_id, confirmed_at FROM sop_instances"
            " WHERE patient_id = %s ORDER BY anchor_at DESC",
            (patient_id,),
        )
        return await cur.fetchall()
