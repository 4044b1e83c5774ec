"""Review queue: readings held back from filing and evaluation until staff release or discard them."""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import Any

import psycopg
from psycopg.rows import dict_row, tuple_row
from psycopg.types.json import Jsonb

from vitalgate.store.holds import ReviewReason
from vitalgate.store.readings import STAGING_COLUMNS, VALUE_HASH_SQL

__all__ = ["ReviewReason", "ReviewState", "discard", "hold_for_review", "list_items", "release"]


class ReviewState(StrEnum):
    HELD = "held"
    RELEASED = "released"
    DISCARDED = "discarded"


# review_queue's reading columns in STAGING_COLUMNS order ("id" is the reading's id).
QUEUE_COLUMNS = tuple("reading_id" if c == "id" else c for c in STAGING_COLUMNS)
_READING_COLUMNS = (
    "device_serial, gateway_id, kind, measured_at, device_time, received_at, sequence_number,"
    " glucose_mg_dl, systolic_mmhg, diastolic_mmhg, map_mmhg, pulse_bpm, status, context"
)

_LIST = """
SELECT q.*, p.care_team_id
FROM review_queue q LEFT JOIN patients p ON p.id = q.patient_id
WHERE (%(state)s::text IS NULL OR q.state = %(state)s)
  AND (%(item)s::bigint IS NULL OR q.id = %(item)s)
  AND (%(teams)s::bigint[] IS NULL OR q.patient_id IS NULL OR p.care_team_id = ANY(%(teams)s))
ORDER BY q.held_at DESC, q.id DESC
LIMIT %(limit)s
"""


async def hold_for_review(
    conn: psycopg.AsyncConnection,
    reason: ReviewReason,
    rows: Sequence[Sequence[Any]],
    *,
    detail: str = "",
    patient_id: int | None = None,
) -> int:
    """Queue readings (rows in store.readings.STAGING_COLUMNS order); returns how many were new.

    Idempotent per reading id: a redelivered message does not queue its readings twice. The caller
    owns the transaction (hold in the same transaction that acknowledges the message).
    """
    if not rows:
        return 0
    columns = ", ".join(QUEUE_COLUMNS)
    marks = ", ".join(["%s"] * (len(QUEUE_COLUMNS) + 3))
    sql = (
        f"INSERT INTO review_queue (reason, detail, patient_id, {columns}) VALUES ({marks})"
        " ON CONFLICT (reading_id) DO NOTHING"
    )
    params = [(ReviewReason(reason).value, detail[:500], patient_id, *_jsonable(row)) for row in rows]
    async with conn.cursor() as cur:
        await cur.executemany(sql, params, returning=False)
        return max(cur.rowcount, 0)


def _jsonable(row: Sequence[Any]) -> tuple[Any, ...]:
    """The context column (last) as jsonb."""
    *head, context = row
    return (*head, context if isinstance(context, Jsonb) else Jsonb(context or {}))


async def list_items(
    conn: psycopg.AsyncConnection,
    *,
    team_ids: Sequence[int] | None = None,
    state: ReviewState | None = ReviewState.HELD,
    item_id: int | None = None,
    limit: int = 200,
) -> list[dict[str, Any]]:
    """Queue items newest first; with team_ids only those of the teams' patients and those of nobody's device."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            _LIST,
            {
                "state": None if state is None else ReviewState(state).value,
                "item": item_id,
                "teams": None if team_ids is None else list(team_ids),
                "limit": limit,
            },
        )
        return await cur.fetchall()


async def release(conn: psycopg.AsyncConnection, item_id: int, *, by: str, note: str = "") -> dict[str, Any] | None:
    """File a held reading to the queue item's patient (None: not held); the caller owns the transaction.

    Returns the item with `filed` (False when a reading with that id was stored meanwhile).
    """
    item = await _lock_held(conn, item_id)
    if item is None:
        return None
    await conn.execute("SELECT readings_ensure_months(ARRAY[%s::timestamptz])", (item["measured_at"],))
    await conn.execute(
        "INSERT INTO devices (serial, kind, model, manufacturer) VALUES (%s, %s, %s, %s) ON CONFLICT (serial) DO NOTHING",
        (item["device_serial"], item["device_kind"], item["device_model"], item["device_manufacturer"]),
    )
    cur = await conn.execute(
        f"""
        WITH q AS (SELECT * FROM review_queue WHERE id = %(item)s), claimed AS (
            INSERT INTO reading_keys (id, measured_at, value_hash)
            SELECT reading_id, measured_at, {VALUE_HASH_SQL.format(p="")} FROM q
            ON CONFLICT (id) DO NOTHING RETURNING id
        )
        INSERT INTO readings (id, patient_id, {_READING_COLUMNS})
        SELECT q.reading_id, q.patient_id, {_READING_COLUMNS} FROM q JOIN claimed ON claimed.id = q.reading_id
        RETURNING id
        """,
        {"item": item_id},
    )
    filed = await cur.fetchone() is not None
    await _resolve(conn, item_id, ReviewState.RELEASED, by, note if filed else (note + " (already stored)").strip())
    return {**item, "filed": filed}


async def discard(conn: psycopg.AsyncConnection, item_id: int, *, by: str, note: str = "") -> dict[str, Any] | None:
    """Drop a held reading for good (kept in the queue as discarded, with who and why); None: not held."""
    item = await _lock_held(conn, item_id)
    if item is None:
        return None
    await _resolve(conn, item_id, ReviewState.DISCARDED, by, note)
    return item


async def _lock_held(conn: psycopg.AsyncConnection, item_id: int) -> dict[str, Any] | None:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute("SELECT * FROM review_queue WHERE id = %s AND state = 'held' FOR UPDATE", (item_id,))
        return await cur.fetchone()


async def _resolve(conn: psycopg.AsyncConnection, item_id: int, state: ReviewState, by: str, note: str) -> None:
    await conn.execute(
        "UPDATE review_queue SET state = %s, resolved_at = now(), resolved_by = %s, resolution_note = %s WHERE id = %s",
        (state.value, by, note[:500] or None, item_id),
    )


async def held_count(conn: psycopg.AsyncConnection) -> dict[str, int]:
    """Held items per reason (for status output)."""
    async with conn.cursor(row_factory=tuple_row) as cur:
        await cur.execute("SELECT reason, count(*) FROM review_queue WHERE state = 'held' GROUP BY reason")
        return {str(reason): int(n) for reason, n in await cur.fetchall()}
