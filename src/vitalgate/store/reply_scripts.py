"""The reply-script library (话术库): categorised bilingual templates, edited by coordinators, usage counted."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import psycopg
from psycopg.rows import class_row

from vitalgate.store.db import scalar
from vitalgate.store.triage_rows import SCRIPT_COLUMNS, ReplyScript


@dataclass(frozen=True, slots=True)
class ScriptFields:
    key: str
    category: str
    title_en: str
    title_zh: str
    body_en: str
    body_zh: str
    keywords: list[str]
    active: bool = True


async def listed(
    conn: psycopg.AsyncConnection, *, category: str | None = None, include_inactive: bool = False
) -> list[ReplyScript]:
    """Scripts by category then most used first."""
    async with conn.cursor(row_factory=class_row(ReplyScript)) as cur:
        await cur.execute(
            f"SELECT {SCRIPT_COLUMNS} FROM reply_scripts WHERE (%s::text IS NULL OR category = %s)"
            " AND (active OR %s) ORDER BY category, usage_count DESC, key",
            (category, category, include_inactive),
        )
        return await cur.fetchall()


async def get(conn: psycopg.AsyncConnection, script_id: int) -> ReplyScript | None:
    async with conn.cursor(row_factory=class_row(ReplyScript)) as cur:
        await cur.execute(f"SELECT {SCRIPT_COLUMNS} FROM reply_scripts WHERE id = %s", (script_id,))
        return await cur.fetchone()


async def create(conn: psycopg.AsyncConnection, f: ScriptFields, *, by: int | None, now: datetime) -> int | None:
    """A new script; None when its key is taken."""
    value = await scalar(
        conn,
        "INSERT INTO reply_scripts (key, category, title_en, title_zh, body_en, body_zh, keywords, active,"
        " updated_by, created_at, updated_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
        " ON CONFLICT (key) DO NOTHING RETURNING id",
        (f.key, f.category, f.title_en, f.title_zh, f.body_en, f.body_zh, f.keywords, f.active, by, now, now),
    )
    return None if value is None else int(value)


async def update(
    conn: psycopg.AsyncConnection, script_id: int, f: ScriptFields, *, by: int | None, now: datetime
) -> bool:
    cur = await conn.execute(
        "UPDATE reply_scripts SET key = %s, category = %s, title_en = %s, title_zh = %s, body_en = %s, body_zh = %s,"
        " keywords = %s, active = %s, updated_by = %s, updated_at = %s WHERE id = %s",
        (f.key, f.category, f.title_en, f.title_zh, f.body_en, f.body_zh, f.keywords, f.active, by, now, script_id),
    )
    return cur.rowcount == 1


async def count_use(conn: psycopg.AsyncConnection, script_id: int) -> int | None:
    """One more use (inserted into a reply); the new count, None if the script does not exist."""
    value = await scalar(
        conn, "UPDATE reply_scripts SET usage_count = usage_count + 1 WHERE id = %s RETURNING usage_count", (script_id,)
    )
    return None if value is None else int(value)
