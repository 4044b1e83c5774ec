"""Signed links (table links, 0014): insert by token hash, record openings, consume once; throttle counters."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import psycopg
from psycopg.rows import class_row, tuple_row
from psycopg.types.json import Jsonb

from vitalgate.store.db import scalar


@dataclass(frozen=True, slots=True)
class LinkRow:
    id: int
    purpose: str
    patient_id: int
    caregiver_id: int | None
    user_id: int | None
    task_id: int | None
    delivery_id: int | None
    sop_instance_id: int | None
    questionnaire: str | None
    created_at: datetime
    expires_at: datetime
    first_opened_at: datetime | None
    open_count: int
    answered_at: datetime | None
    answer: str | None


@dataclass(frozen=True, slots=True)
class NewLink:
    token_sha256: bytes
    purpose: str
    patient_id: int
    created_at: datetime
    expires_at: datetime
    caregiver_id: int | None = None
    user_id: int | None = None
    task_id: int | None = None
    delivery_id: int | None = None
    sop_instance_id: int | None = None
    questionnaire: str | None = None


_COLUMNS = (
    "id, purpose, patient_id, caregiver_id, user_id, task_id, delivery_id, sop_instance_id, questionnaire,"
    " created_at, expires_at, first_opened_at, open_count, answered_at, answer"
)


async def insert(conn: psycopg.AsyncConnection, link: NewLink) -> int:
    """Store a new link (by its token's hash); returns its id."""
    link_id = await scalar(
        conn,
        "INSERT INTO links (token_sha256, purpose, patient_id, caregiver_id, user_id, task_id, delivery_id,"
        " sop_instance_id, questionnaire, created_at, expires_at)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
        (
            link.token_sha256,
            link.purpose,
            link.patient_id,
            link.caregiver_id,
            link.user_id,
            link.task_id,
            link.delivery_id,
            link.sop_instance_id,
            link.questionnaire,
            link.created_at,
            link.expires_at,
        ),
    )
    return int(link_id)


async def by_hash(conn: psycopg.AsyncConnection, token_sha256: bytes, *, for_update: bool = False) -> LinkRow | None:
    """The link with this token hash (locked for the caller's transaction when answering)."""
    async with conn.cursor(row_factory=class_row(LinkRow)) as cur:
        await cur.execute(
            f"SELECT {_COLUMNS} FROM links WHERE token_sha256 = %s" + (" FOR UPDATE" if for_update else ""),
            (token_sha256,),
        )
        return await cur.fetchone()


async def record_open(conn: psycopg.AsyncConnection, link_id: int, now: datetime) -> None:
    await conn.execute(
        "UPDATE links SET open_count = open_count + 1, last_opened_at = %s,"
        " first_opened_at = COALESCE(first_opened_at, %s) WHERE id = %s",
        (now, now, link_id),
    )


async def record_answer(
    conn: psycopg.AsyncConnection, link_id: int, answer: str, detail: dict[str, Any], now: datetime
) -> bool:
    """Consume the link; False when it was answered already (single use, also under concurrency)."""
    cur = await conn.execute(
        "UPDATE links SET answered_at = %s, answer = %s, answer_detail = %s,"
        " first_opened_at = COALESCE(first_opened_at, %s) WHERE id = %s AND answered_at IS NULL",
        (now, answer, Jsonb(detail), now, link_id),
    )
    return cur.rowcount == 1


async def of_task(conn: psycopg.AsyncConnection, task_id: int) -> list[LinkRow]:
    """A task's links, oldest first (the task page shows which were opened and answered)."""
    async with conn.cursor(row_factory=class_row(LinkRow)) as cur:
        await cur.execute(f"SELECT {_COLUMNS} FROM links WHERE task_id = %s ORDER BY id", (task_id,))
        return await cur.fetchall()


# Fixed-window counter, one atomic statement: a window that has ended starts afresh.
_HIT = """
INSERT INTO link_throttle AS t (scope, key, window_start, hits) VALUES (%(scope)s, %(key)s, %(now)s, 1)
ON CONFLICT (scope, key) DO UPDATE SET
    hits = CASE WHEN t.window_start <= %(now)s - %(window)s THEN 1 ELSE t.hits + 1 END,
    window_start = CASE WHEN t.window_start <= %(now)s - %(window)s THEN %(now)s ELSE t.window_start END
RETURNING hits, window_start
"""


async def count_hit(
    conn: psycopg.AsyncConnection, scope: str, key: str, *, now: datetime, window: timedelta
) -> tuple[int, datetime]:
    """Count one request for (scope, key); returns the hits in the current window and the window's start."""
    async with conn.cursor(row_factory=tuple_row) as cur:
        await cur.execute(_HIT, {"scope": scope, "key": key, "now": now, "window": window})
        row = await cur.fetchone()
    assert row is not None
    return int(row[0]), row[1]


async def insert_many(conn: psycopg.AsyncConnection, links: Sequence[NewLink]) -> None:
    """Store many new links in one round trip (executemany pipelines; the delivery worker's batch)."""
    if not links:
        return
    async with conn.cursor() as cur:
        await cur.executemany(
            "INSERT INTO links (token_sha256, purpose, patient_id, caregiver_id, user_id, task_id, delivery_id,"
            " sop_instance_id, questionnaire, created_at, expires_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            [
                (k.token_sha256, k.purpose, k.patient_id, k.caregiver_id, k.user_id, k.task_id, k.delivery_id,
                 k.sop_instance_id, k.questionnaire, k.created_at, k.expires_at)
                for k in links
            ],
        )  # fmt: skip
