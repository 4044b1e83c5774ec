"""Scheduled touchpoints (escalation and SOP steps): schedule, claim due rows once, cancel, shift."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import psycopg
from psycopg.rows import class_row, tuple_row

from vitalgate.store.db import scalar
from vitalgate.store.rows import DueTouchpoint, Touchpoint


@dataclass(frozen=True, slots=True)
class PlannedTouchpoint:
    step_index: int
    step_name: str
    channel: str
    template: str
    due_at: datetime
    cancel_on_confirm: bool = False
    cancelled_reason: str | None = None  # set: recorded as already cancelled (e.g. in the past)


async def schedule(
    conn: psycopg.AsyncConnection,
    task_id: int,
    steps: Sequence[PlannedTouchpoint],
    *,
    now: datetime,
    sop_instance_id: int | None = None,
) -> int:
    """Insert the steps of a chain for a task (idempotent per task and step index); returns rows added."""
    added = 0
    for s in steps:
        cur = await conn.execute(
            "INSERT INTO touchpoints (task_id, sop_instance_id, step_index, step_name, channel, template, due_at,"
            " cancel_on_confirm, cancelled_at, cancel_reason) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
            " ON CONFLICT (task_id, step_index) DO NOTHING",
            (
                task_id,
                sop_instance_id,
                s.step_index,
                s.step_name,
                s.channel,
                s.template,
                s.due_at,
                s.cancel_on_confirm,
                now if s.cancelled_reason else None,
                s.cancelled_reason,
            ),
        )
        added += cur.rowcount
    return added


# Locks each due row for this transaction; a concurrent scheduler skips it instead of waiting,
# and a crash before commit leaves it unfired for the next tick: each step fires exactly once.
_CLAIM = """
SELECT tp.id, tp.task_id, tp.sop_instance_id, tp.step_index, tp.step_name, tp.channel, tp.template,
       tp.due_at, tp.cancel_on_confirm, t.patient_id, t.care_team_id, t.status AS task_status,
       t.patient_responded_at, t.severity AS task_severity, s.status AS sop_status
FROM touchpoints tp
JOIN tasks t ON t.id = tp.task_id
LEFT JOIN sop_instances s ON s.id = tp.sop_instance_id
WHERE tp.fired_at IS NULL AND tp.cancelled_at IS NULL AND tp.due_at <= %(now)s
  AND (%(task)s::bigint IS NULL OR tp.task_id = %(task)s)
  AND (%(patients)s::bigint[] IS NULL OR t.patient_id = ANY(%(patients)s))
ORDER BY tp.due_at, tp.id
LIMIT %(limit)s
FOR UPDATE OF tp SKIP LOCKED
"""


async def claim_due(
    conn: psycopg.AsyncConnection,
    now: datetime,
    *,
    limit: int = 500,
    task_id: int | None = None,
    patient_ids: Sequence[int] | None = None,
) -> list[DueTouchpoint]:
    """Due, unfired, uncancelled touchpoints (optionally of some patients), locked for the caller's transaction."""
    async with conn.cursor(row_factory=class_row(DueTouchpoint)) as cur:
        await cur.execute(
            _CLAIM,
            {
                "now": now,
                "limit": limit,
                "task": task_id,
                "patients": list(patient_ids) if patient_ids is not None else None,
            },
        )
        return await cur.fetchall()


async def mark_fired(conn: psycopg.AsyncConnection, touchpoint_id: int, now: datetime) -> None:
    """Record that the step was delivered (same transaction as the delivery record)."""
    await conn.execute("UPDATE touchpoints SET fired_at = %s WHERE id = %s AND fired_at IS NULL", (now, touchpoint_id))


async def defer(conn: psycopg.AsyncConnection, touchpoint_id: int, due_at: datetime) -> None:
    """Move a pending step later (quiet hours); it fires at the next scheduler pass after due_at."""
    await conn.execute(
        "UPDATE touchpoints SET due_at = %s WHERE id = %s AND fired_at IS NULL AND cancelled_at IS NULL",
        (due_at, touchpoint_id),
    )


async def cancel(conn: psycopg.AsyncConnection, touchpoint_id: int, now: datetime, reason: str) -> None:
    """Cancel one pending step."""
    await conn.execute(
        "UPDATE touchpoints SET cancelled_at = %s, cancel_reason = %s WHERE id = %s AND fired_at IS NULL"
        " AND cancelled_at IS NULL",
        (now, reason, touchpoint_id),
    )


async def cancel_pending(
    conn: psycopg.AsyncConnection,
    *,
    now: datetime,
    reason: str,
    task_id: int | None = None,
    sop_instance_id: int | None = None,
    only_cancel_on_confirm: bool = False,
    except_channel: str | None = None,
) -> int:
    """Cancel a task's (or SOP instance's) pending steps; returns how many."""
    cur = await conn.execute(
        """
        UPDATE touchpoints SET cancelled_at = %(now)s, cancel_reason = %(reason)s
        WHERE fired_at IS NULL AND cancelled_at IS NULL
          AND (%(task)s::bigint IS NULL OR task_id = %(task)s)
          AND (%(sop)s::bigint IS NULL OR sop_instance_id = %(sop)s)
          AND (NOT %(only)s OR cancel_on_confirm)
          AND (%(keep)s::text IS NULL OR channel <> %(keep)s)
        """,
        {
            "now": now,
            "reason": reason,
            "task": task_id,
            "sop": sop_instance_id,
            "only": only_cancel_on_confirm,
            "keep": except_channel,
        },
    )
    return cur.rowcount


async def rearm(conn: psycopg.AsyncConnection, task_id: int, *, reason: str) -> int:
    """Un-cancel a task's unfired steps cancelled for `reason` (they keep their due times); returns how many."""
    cur = await conn.execute(
        "UPDATE touchpoints SET cancelled_at = NULL, cancel_reason = NULL"
        " WHERE task_id = %s AND fired_at IS NULL AND cancel_reason = %s",
        (task_id, reason),
    )
    return cur.rowcount


async def pull_forward(
    conn: psycopg.AsyncConnection, task_id: int, now: datetime, *, channel: str | None = None
) -> int | None:
    """Make the task's next pending step (or next of `channel`) due now; later steps keep their gaps."""
    async with conn.cursor(row_factory=tuple_row) as cur:
        await cur.execute(
            "SELECT id, step_index, due_at FROM touchpoints WHERE task_id = %s AND fired_at IS NULL"
            " AND cancelled_at IS NULL AND (%s::text IS NULL OR channel = %s) ORDER BY step_index LIMIT 1",
            (task_id, channel, channel),
        )
        row = await cur.fetchone()
    if row is None:
        return None
    touchpoint_id, step_index, due_at = row
    shift = due_at - now
    if shift.total_seconds() > 0:
        await conn.execute(
            "UPDATE touchpoints SET due_at = due_at - %s WHERE task_id = %s AND step_index >= %s"
            " AND fired_at IS NULL AND cancelled_at IS NULL",
            (shift, task_id, step_index),
        )
    return int(touchpoint_id)


async def list_touchpoints(
    conn: psycopg.AsyncConnection, *, task_id: int | None = None, sop_instance_id: int | None = None
) -> list[Touchpoint]:
    """Steps of a task or SOP instance, in step order."""
    async with conn.cursor(row_factory=class_row(Touchpoint)) as cur:
        await cur.execute(
            "SELECT id, task_id, sop_instance_id, step_index, step_name, channel, template, due_at, fired_at,"
            " cancelled_at, cancel_reason, cancel_on_confirm FROM touchpoints"
            " WHERE (%(t)s::bigint IS NULL OR task_id = %(t)s) AND (%(s)s::bigint IS NULL OR sop_instance_id = %(s)s)"
            " ORDER BY task_id, step_index",
            {"t": task_id, "s": sop_instance_id},
        )
        return await cur.fetchall()


async def next_step_index(conn: psycopg.AsyncConnection, task_id: int) -> int:
    """One past the task's highest step index (a restarted chain is numbered after the old steps)."""
    index = await scalar(
        conn, "SELECT COALESCE(max(step_index) + 1, 0) FROM touchpoints WHERE task_id = %s", (task_id,)
    )
    return int(index)


async def of_patient(conn: psycopg.AsyncConnection, patient_id: int) -> list[Touchpoint]:
    """Every step of a patient's tasks (escalation and SOP), by due time (the FHIR export)."""
    async with conn.cursor(row_factory=class_row(Touchpoint)) as cur:
        await cur.execute(
            "SELECT tp.id, tp.task_id, tp.sop_instance_id, tp.step_index, tp.step_name, tp.channel, tp.template,"
            " tp.due_at, tp.fired_at, tp.cancelled_at, tp.cancel_reason, tp.cancel_on_confirm"
            " FROM touchpoints tp JOIN tasks t ON t.id = tp.task_id WHERE t.patient_id = %s ORDER BY tp.due_at, tp.id",
            (patient_id,),
        )
        return await cur.fetchall()
