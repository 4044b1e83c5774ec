"""Audit trail queries: who read or changed which patient's data, filterable for admins."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb


async def record(
    conn: psycopg.AsyncConnection,
    *,
    actor: str,
    actor_id: int | None,
    role: str,
    action: str,
    patient_id: int | None,
    source: str | None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Append one audit row; the caller commits it with (or before) the response."""
    await conn.execute(
        "INSERT INTO audit_log (actor, actor_id, role, action, patient_id, source, detail)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s)",
        (actor, actor_id, role, action, patient_id, source, Jsonb(detail or {})),
    )


async def search(
    conn: psycopg.AsyncConnection,
    *,
    actor: str | None = None,
    patient_id: int | None = None,
    action: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 200,
) -> list[dict[str, Any]]:
    """Audit rows newest first, filtered by any of actor, patient, action prefix and time window."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            """
            SELECT id, at, actor, actor_id, role, action, patient_id, source, detail
            FROM audit_log
            WHERE (%(actor)s::text IS NULL OR actor = %(actor)s)
              AND (%(patient)s::bigint IS NULL OR patient_id = %(patient)s)
              AND (%(action)s::text IS NULL OR starts_with(action, %(action)s))
              AND (%(since)s::timestamptz IS NULL OR at >= %(since)s)
              AND (%(until)s::timestamptz IS NULL OR at < %(until)s)
            ORDER BY at DESC, id DESC
            LIMIT %(limit)s
            """,
            {"actor": actor, "patient": patient_id, "action": action, "since": since, "until": until, "limit": limit},
        )
        return await cur.fetchall()


async def record_many(
    conn: psycopg.AsyncConnection,
    *,
    actor: str,
    actor_id: int | None,
    role: str,
    action: str,
    patient_ids: list[int],
    source: str | None,
    detail: dict[str, Any] | None = None,
) -> None:
    """One audit row per patient shown in a list (a worklist view reads every listed patient)."""
    async with conn.cursor() as cur:
        await cur.executemany(
            "INSERT INTO audit_log (actor, actor_id, role, action, patient_id, source, detail)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s)",
            [(actor, actor_id, role, action, pid, source, Jsonb(detail or {})) for pid in sorted(set(patient_ids))],
        )
