"""The worker's side of the delivery ledger: claim due messages once, record attempts, retry or dead-letter.

A claim moves rows to `sending` with a lease in one short transaction (FOR UPDATE SKIP LOCKED: two
workers never claim the same row). The send happens outside any transaction; its result is
recorded afterwards. A worker killed in between leaves `sending` rows whose lease runs out and are
claimed again: the message is sent a second time with the same idempotency key (at least once to
the provider, once to the application when the receiver de-duplicates by key).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import psycopg
from psycopg.rows import class_row, tuple_row

from vitalgate.domain import DeliveryStatus
from vitalgate.store.delivery_rows import DELIVERY_COLUMNS, AttemptResult, DeliveryRow

_CLAIM = f"""
WITH due AS (
    SELECT id FROM deliveries
    WHERE status IN ('queued', 'sending') AND next_attempt_at <= %(now)s AND medium <> 'call'
      AND (status = 'queued' OR lease_until <= %(now)s)
      AND (%(patients)s::bigint[] IS NULL OR patient_id = ANY(%(patients)s))
    ORDER BY next_attempt_at, id
    LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED
)
UPDATE deliveries d SET status = 'sending', lease_until = %(lease)s, updated_at = %(now)s
FROM due WHERE d.id = due.id
RETURNING {", ".join(f"d.{c.strip()}" for c in DELIVERY_COLUMNS.split(","))}
"""

# What the send-time checks need besides the row: is the task or visit chain still live, whose program.
_CONTEXT = """
SELECT d.id, t.status, s.status, tp.cancel_on_confirm, coalesce(p.program, 'default')
FROM deliveries d
LEFT JOIN tasks t ON t.id = d.task_id
LEFT JOIN sop_instances s ON s.id = d.sop_instance_id
LEFT JOIN touchpoints tp ON tp.id = d.touchpoint_id
LEFT JOIN patients p ON p.id = d.patient_id
WHERE d.id = ANY(%s)
"""


@dataclass(frozen=True, slots=True)
class Claimed:
    row: DeliveryRow
    task_status: str | None
    sop_status: str | None
    cancel_on_confirm: bool
    program: str


async def claim(
    conn: psycopg.AsyncConnection,
    now: datetime,
    *,
    limit: int,
    lease: timedelta,
    patient_ids: Sequence[int] | None = None,
) -> list[Claimed]:
    """Take up to `limit` due messages (oldest first; only these patients' if given) until `now + lease`."""
    patients = list(patient_ids) if patient_ids is not None else None
    async with conn.cursor(row_factory=class_row(DeliveryRow)) as cur:
        await cur.execute(_CLAIM, {"now": now, "limit": limit, "lease": now + lease, "patients": patients})
        rows = await cur.fetchall()
    if not rows:
        return []
    async with conn.cursor(row_factory=tuple_row) as cur:
        await cur.execute(_CONTEXT, ([r.id for r in rows],))
        context = {
            int(i): (task, sop, bool(confirm), str(program)) for i, task, sop, confirm, program in await cur.fetchall()
        }
    rows.sort(key=lambda r: (r.next_attempt_at, r.id))
    return [Claimed(r, *context[r.id]) for r in rows]


async def set_links(conn: psycopg.AsyncConnection, links: Sequence[tuple[int, str]]) -> None:
    """Remember each message's link (issued once: a resend carries the same link)."""
    if links:
        async with conn.cursor() as cur:
            await cur.executemany(
                "UPDATE deliveries SET link_path = %s WHERE id = %s",
                [(path, delivery_id) for delivery_id, path in links],
            )


async def hold(conn: psycopg.AsyncConnection, delivery_id: int, until: datetime, reason: str, now: datetime) -> None:
    """Not now (quiet hours): back to queued, due at `until`; no attempt is counted."""
    await conn.execute(
        "UPDATE deliveries SET status = 'queued', next_attempt_at = %s, lease_until = NULL, status_reason = %s,"
        " updated_at = %s WHERE id = %s",
        (until, reason, now, delivery_id),
    )


async def finish_unsent(
    conn: psycopg.AsyncConnection, delivery_id: int, status: DeliveryStatus, reason: str, now: datetime
) -> None:
    """End a message without sending it: cancelled (consent, task closed) or dead (no address, no channel)."""
    if status not in (DeliveryStatus.CANCELLED, DeliveryStatus.DEAD):
        raise ValueError(f"a message ends unsent as cancelled or dead, not {status!r}")
    await conn.execute(
        "UPDATE deliveries SET status = %s, status_reason = %s, lease_until = NULL, updated_at = %s WHERE id = %s",
        (str(status), reason, now, delivery_id),
    )


async def record_results(
    conn: psycopg.AsyncConnection,
    results: Sequence[AttemptResult],
    *,
    max_attempts: int,
    retry_at: dict[int, datetime],
) -> None:
    """Record one attempt per result and move each message: sent, queued again (at retry_at[id]) or dead.

    A failure is retried while attempts < max_attempts (`permanent` failures are AttemptResult with
    status undelivered: dead at once). A receipt that arrived while the message was `sending` wins.
    """
    if not results:
        return
    async with conn.cursor() as cur:
        await cur.executemany(
            "INSERT INTO delivery_attempts (delivery_id, attempt, transport, started_at, finished_at, status,"
            " provider_message_id, error) SELECT id, attempts + 1, %s, %s, %s, %s, %s, %s FROM deliveries WHERE id = %s",
            [
                (r.transport, r.started_at, r.finished_at, str(r.status), r.provider_message_id, r.error, r.delivery_id)
                for r in results
            ],
        )
        await cur.executemany(
            """
            UPDATE deliveries SET
                attempts = attempts + 1,
                lease_until = NULL,
                updated_at = %(at)s,
                provider_message_id = coalesce(%(pid)s, provider_message_id),
                last_error = %(error)s,
                sent_at = CASE WHEN %(ok)s THEN %(at)s ELSE sent_at END,
                next_attempt_at = CASE WHEN NOT %(ok)s AND %(retry)s::timestamptz IS NOT NULL
                                       THEN %(retry)s::timestamptz ELSE next_attempt_at END,
                status = CASE
                    WHEN status <> 'sending' THEN status
                    WHEN %(ok)s THEN 'sent'
                    WHEN %(final)s OR attempts + 1 >= %(max)s THEN 'dead'
                    ELSE 'queued' END,
                status_reason = CASE
                    WHEN status = 'sending' AND NOT %(ok)s AND (%(final)s OR attempts + 1 >= %(max)s)
                    THEN 'dead after ' || (attempts + 1) || ' attempt(s): ' || coalesce(%(error)s, 'failed')
                    ELSE status_reason END
            WHERE id = %(id)s
            """,
            [
                {
                    "id": r.delivery_id,
                    "at": r.finished_at,
                    "pid": r.provider_message_id,
                    "error": r.error,
                    "ok": r.status == DeliveryStatus.SENT,
                    "final": r.status == DeliveryStatus.UNDELIVERED,
                    "retry": retry_at.get(r.delivery_id),
                    "max": max_attempts,
                }
                for r in results
            ],
        )


async def counts(conn: psycopg.AsyncConnection) -> dict[str, int]:
    """Messages per status (the worker's summary line and the staff page)."""
    async with conn.cursor(row_factory=tuple_row) as cur:
        await cur.execute("SELECT status, count(*) FROM deliveries GROUP BY status")
        return {str(s): int(n) for s, n in await cur.fetchall()}
