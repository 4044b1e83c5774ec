"""The delivery ledger's producer and staff side: enqueue once per idempotency key, cancel, read, receipts, calls.

The worker's side (claim, record attempts, retry, dead-letter) is store.delivery_queue.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import psycopg
from psycopg.rows import class_row
from psycopg.types.json import Jsonb

from vitalgate.domain import CallOutcome, DeliveryStatus, Medium
from vitalgate.store.db import scalar
from vitalgate.store.delivery_rows import DELIVERY_COLUMNS, DeliveryAttempt, DeliveryRequest, DeliveryRow, Receipt

__all__ = [
    "DeliveryRequest",
    "DeliveryRow",
    "Receipt",
    "apply_receipt",
    "cancel_pending",
    "enqueue",
    "touchpoint_key",
]


def touchpoint_key(touchpoint_id: int, recipient_kind: str, recipient_id: int, medium: str) -> str:
    """The idempotency key of a touchpoint's message to one recipient on one medium."""
    return f"touchpoint:{touchpoint_id}:{recipient_kind}:{recipient_id}:{medium}"


async def enqueue(
    conn: psycopg.AsyncConnection, request: DeliveryRequest, *, now: datetime | None = None
) -> int | None:
    """Put one message in the ledger; its id, or None when its idempotency key is already there."""
    r = request
    new_id: int | None = await scalar(
        conn,
        "INSERT INTO deliveries (idempotency_key, patient_id, recipient_kind, recipient_id, channel, medium, address,"
        " template, params, locale, urgent, task_id, touchpoint_id, sop_instance_id, next_attempt_at, created_at,"
        " updated_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
        " ON CONFLICT (idempotency_key) DO NOTHING RETURNING id",
        (
            r.idempotency_key,
            r.patient_id,
            str(r.recipient_kind),
            r.recipient_id,
            r.channel,
            str(r.medium),
            r.address,
            r.template,
            Jsonb(r.params),
            r.locale,
            r.urgent,
            r.task_id,
            r.touchpoint_id,
            r.sop_instance_id,
            r.not_before,
            now or r.not_before,
            now or r.not_before,
        ),
    )
    return new_id


async def cancel_pending(
    conn: psycopg.AsyncConnection,
    *,
    task_id: int | None = None,
    sop_instance_id: int | None = None,
    reason: str,
    now: datetime | None = None,
) -> int:
    """Cancel the task's (or SOP chain's) messages that have not left yet; returns how many.

    A message already being sent is not recalled: it was on its way when the acknowledgement came.
    """
    if task_id is None and sop_instance_id is None:
        raise ValueError("cancel_pending needs a task_id or a sop_instance_id")
    cur = await conn.execute(
        "UPDATE deliveries SET status = 'cancelled', status_reason = %s, updated_at = coalesce(%s, now())"
        " WHERE status = 'queued' AND (%s::bigint IS NULL OR task_id = %s)"
        " AND (%s::bigint IS NULL OR sop_instance_id = %s)",
        (reason, now, task_id, task_id, sop_instance_id, sop_instance_id),
    )
    return cur.rowcount


async def get(conn: psycopg.AsyncConnection, delivery_id: int) -> DeliveryRow | None:
    async with conn.cursor(row_factory=class_row(DeliveryRow)) as cur:
        await cur.execute(f"SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE id = %s", (delivery_id,))
        return await cur.fetchone()


async def by_key(conn: psycopg.AsyncConnection, idempotency_key: str) -> DeliveryRow | None:
    async with conn.cursor(row_factory=class_row(DeliveryRow)) as cur:
        await cur.execute(f"SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE idempotency_key = %s", (idempotency_key,))
        return await cur.fetchone()


async def listed(
    conn: psycopg.AsyncConnection,
    *,
    patient_id: int | None = None,
    task_id: int | None = None,
    statuses: Sequence[DeliveryStatus] | None = None,
    medium: Medium | None = None,
    care_team_ids: Sequence[int] | None = None,
    limit: int = 200,
) -> list[DeliveryRow]:
    """Messages of a patient / task / status / care teams' patients, newest first (inbox, task page, dead letters)."""
    async with conn.cursor(row_factory=class_row(DeliveryRow)) as cur:
        await cur.execute(
            f"SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE (%(p)s::bigint IS NULL OR patient_id = %(p)s)"
            " AND (%(t)s::bigint IS NULL OR task_id = %(t)s) AND (%(s)s::text[] IS NULL OR status = ANY(%(s)s))"
            " AND (%(m)s::text IS NULL OR medium = %(m)s) AND (%(teams)s::bigint[] IS NULL OR patient_id IN"
            " (SELECT id FROM patients WHERE care_team_id = ANY(%(teams)s)))"
            " ORDER BY created_at DESC, id DESC LIMIT %(limit)s",
            {
                "p": patient_id,
                "t": task_id,
                "s": [str(s) for s in statuses] if statuses else None,
                "m": str(medium) if medium else None,
                "teams": list(care_team_ids) if care_team_ids is not None else None,
                "limit": limit,
            },
        )
        return await cur.fetchall()


async def dead_letters(
    conn: psycopg.AsyncConnection, *, care_team_ids: Sequence[int] | None = None, limit: int = 200
) -> list[DeliveryRow]:
    """Messages that failed every attempt, newest first: the staff-visible dead-letter list."""
    return await listed(conn, statuses=[DeliveryStatus.DEAD], care_team_ids=care_team_ids, limit=limit)


async def attempts(conn: psycopg.AsyncConnection, delivery_id: int) -> list[DeliveryAttempt]:
    async with conn.cursor(row_factory=class_row(DeliveryAttempt)) as cur:
        await cur.execute(
            "SELECT id, delivery_id, attempt, transport, started_at, finished_at, status, provider_message_id, error"
            " FROM delivery_attempts WHERE delivery_id = %s ORDER BY attempt, id",
            (delivery_id,),
        )
        return await cur.fetchall()


async def requeue(conn: psycopg.AsyncConnection, delivery_id: int, *, now: datetime, by: str) -> bool:
    """Staff send a dead letter again (after fixing the address or the provider): fresh attempts."""
    cur = await conn.execute(
        "UPDATE deliveries SET status = 'queued', attempts = 0, next_attempt_at = %s, updated_at = %s,"
        " status_reason = %s WHERE id = %s AND status = 'dead'",
        (now, now, f"requeued by {by}", delivery_id),
    )
    return cur.rowcount == 1


# A receipt moves a message forward only: a late "sent" never overwrites "delivered".
_RECEIPT_FROM = {
    DeliveryStatus.SENT: ("queued", "sending"),
    DeliveryStatus.DELIVERED: ("queued", "sending", "sent", "failed", "undelivered"),
    DeliveryStatus.FAILED: ("queued", "sending", "sent"),
    DeliveryStatus.UNDELIVERED: ("queued", "sending", "sent"),
}


async def apply_receipt(conn: psycopg.AsyncConnection, receipt: Receipt) -> DeliveryRow | None:
    """Record a provider receipt once; the delivery after it, or None if it is a duplicate or names no delivery."""
    if receipt.status not in _RECEIPT_FROM:
        raise ValueError(f"a receipt cannot say {receipt.status!r}")
    delivery_id = await scalar(
        conn,
        "SELECT id FROM deliveries WHERE id = %s OR (%s::bigint IS NULL AND (provider_message_id = %s"
        " OR idempotency_key = %s)) ORDER BY id LIMIT 1",
        (receipt.delivery_id, receipt.delivery_id, receipt.provider_message_id, receipt.idempotency_key),
    )
    if delivery_id is None:
        return None
    inserted = await scalar(
        conn,
        "INSERT INTO delivery_receipts (delivery_id, receipt_key, status, received_at, detail)"
        " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (receipt_key) DO NOTHING RETURNING id",
        (delivery_id, receipt.receipt_key, str(receipt.status), receipt.received_at, Jsonb(receipt.detail)),
    )
    if inserted is None:
        return None
    await conn.execute(
        "UPDATE deliveries SET status = %s, updated_at = %s,"
        " delivered_at = CASE WHEN %s = 'delivered' THEN %s ELSE delivered_at END,"
        " provider_message_id = coalesce(provider_message_id, %s) WHERE id = %s AND status = ANY(%s)",
        (
            str(receipt.status),
            receipt.received_at,
            str(receipt.status),
            receipt.received_at,
            receipt.provider_message_id,
            delivery_id,
            list(_RECEIPT_FROM[receipt.status]),
        ),
    )
    return await get(conn, delivery_id)


# What a call's outcome means for the ledger: the person was reached (or heard a voicemail), or not.
_CALL_STATUS = {
    CallOutcome.REACHED: DeliveryStatus.DELIVERED,
    CallOutcome.VOICEMAIL: DeliveryStatus.SENT,
    CallOutcome.NO_ANSWER: DeliveryStatus.UNDELIVERED,
    CallOutcome.WRONG_NUMBER: DeliveryStatus.FAILED,
}


async def open_calls(
    conn: psycopg.AsyncConnection, *, task_id: int | None = None, care_team_ids: Sequence[int] | None = None
) -> list[DeliveryRow]:
    """Call tasks nobody has recorded an outcome for yet (of a task, or the teams' patients), oldest first."""
    teams = list(care_team_ids) if care_team_ids is not None else None
    async with conn.cursor(row_factory=class_row(DeliveryRow)) as cur:
        await cur.execute(
            f"SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE medium = 'call' AND status = 'queued'"
            " AND (%s::bigint IS NULL OR task_id = %s) AND (%s::bigint[] IS NULL OR patient_id IN"
            " (SELECT id FROM patients WHERE care_team_id = ANY(%s))) ORDER BY next_attempt_at, id",
            (task_id, task_id, teams, teams),
        )
        return await cur.fetchall()


async def record_call_outcome(
    conn: psycopg.AsyncConnection,
    delivery_id: int,
    outcome: CallOutcome,
    *,
    notes: str | None,
    by: str,
    now: datetime,
) -> DeliveryRow | None:
    """The caller's outcome and notes on a call task (None if it is no open call task)."""
    status = _CALL_STATUS[outcome]
    async with conn.cursor(row_factory=class_row(DeliveryRow)) as cur:
        await cur.execute(
            "UPDATE deliveries SET status = %s, call_outcome = %s, call_notes = %s, status_reason = %s,"
            " attempts = attempts + 1, updated_at = %s, sent_at = %s,"
            " delivered_at = CASE WHEN %s = 'delivered' THEN %s ELSE NULL END"
            f" WHERE id = %s AND medium = 'call' AND status = 'queued' RETURNING {DELIVERY_COLUMNS}",
            (str(status), str(outcome), notes, f"call by {by}", now, now, str(status), now, delivery_id),
        )
        row = await cur.fetchone()
    if row is not None:
        await conn.execute(
            "INSERT INTO delivery_attempts (delivery_id, attempt, transport, started_at, finished_at, status, error)"
            " VALUES (%s, %s, 'call', %s, %s, %s, %s)",
            (delivery_id, row.attempts, now, now, str(status), None if status != DeliveryStatus.FAILED else outcome),
        )
    return row
