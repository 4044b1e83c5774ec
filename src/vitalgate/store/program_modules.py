"""Weekly module items of enrolled patients (migration 0017): scheduled once, sent, opened, completed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import psycopg
from psycopg.rows import class_row

from vitalgate.store.program_rows import MODULE_ITEM_COLUMNS, ModuleItem, ModuleItemKind


@dataclass(frozen=True, slots=True)
class NewModuleItem:
    week: int
    item_kind: ModuleItemKind
    item_key: str
    due_at: datetime


async def schedule(
    conn: psycopg.AsyncConnection, program_id: str, patient_id: int, items: Sequence[NewModuleItem]
) -> int:
    """Insert the items not scheduled yet (idempotent: an item of a week is scheduled once)."""
    if not items:
        return 0
    async with conn.cursor() as cur:
        await cur.executemany(
            "INSERT INTO program_module_items (program_id, patient_id, week, item_kind, item_key, due_at)"
            " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
            [(program_id, patient_id, i.week, str(i.item_kind), i.item_key, i.due_at) for i in items],
        )
        return cur.rowcount


async def items_of(conn: psycopg.AsyncConnection, program_id: str, patient_id: int) -> list[ModuleItem]:
    async with conn.cursor(row_factory=class_row(ModuleItem)) as cur:
        await cur.execute(
            f"SELECT {MODULE_ITEM_COLUMNS} FROM program_module_items WHERE program_id = %s AND patient_id = %s"
            " ORDER BY week, item_kind, item_key",
            (program_id, patient_id),
        )
        return await cur.fetchall()


async def get(conn: psycopg.AsyncConnection, item_id: int) -> ModuleItem | None:
    async with conn.cursor(row_factory=class_row(ModuleItem)) as cur:
        await cur.execute(f"SELECT {MODULE_ITEM_COLUMNS} FROM program_module_items WHERE id = %s", (item_id,))
        return await cur.fetchone()


async def due(conn: psycopg.AsyncConnection, now: datetime, *, limit: int = 500) -> list[ModuleItem]:
    """Unsent items due by `now`, locked for this transaction (SKIP LOCKED: workers do not collide)."""
    async with conn.cursor(row_factory=class_row(ModuleItem)) as cur:
        await cur.execute(
            f"SELECT {MODULE_ITEM_COLUMNS} FROM program_module_items WHERE sent_at IS NULL AND due_at <= %s"
            " ORDER BY due_at, id LIMIT %s FOR UPDATE SKIP LOCKED",
            (now, limit),
        )
        return await cur.fetchall()


async def mark_sent(conn: psycopg.AsyncConnection, item_id: int, at: datetime, delivery_id: int | None) -> None:
    await conn.execute(
        "UPDATE program_module_items SET sent_at = %s, delivery_id = %s WHERE id = %s AND sent_at IS NULL",
        (at, delivery_id, item_id),
    )


async def mark_opened(conn: psycopg.AsyncConnection, item_id: int, at: datetime) -> bool:
    async with conn.cursor() as cur:
        await cur.execute(
            "UPDATE program_module_items SET opened_at = %s WHERE id = %s AND sent_at IS NOT NULL AND opened_at IS NULL",
            (at, item_id),
        )
        return cur.rowcount == 1


async def mark_completed(conn: psycopg.AsyncConnection, item_id: int, at: datetime) -> bool:
    """A check-in answered or an education item read to the end (opening first, if not recorded)."""
    async with conn.cursor() as cur:
        await cur.execute(
            "UPDATE program_module_items SET completed_at = %s, opened_at = COALESCE(opened_at, %s)"
            " WHERE id = %s AND sent_at IS NOT NULL AND completed_at IS NULL",
            (at, at, item_id),
        )
        return cur.rowcount == 1


async def cancel_unsent(conn: psycopg.AsyncConnection, program_id: str, patient_id: int) -> int:
    """Leaving the program removes what was never sent (sent items stay: they are history)."""
    async with conn.cursor() as cur:
        await cur.execute(
            "DELETE FROM program_module_items WHERE program_id = %s AND patient_id = %s AND sent_at IS NULL",
            (program_id, patient_id),
        )
        return cur.rowcount
