"""One acknowledgement silences every channel: cancel a task's pending automated contact in one place.

Two kinds of pending contact exist: touchpoints not yet fired (store.touchpoints) and messages of
fired touchpoints still queued in the delivery outbox (store.deliveries, the ledger's). Both are
cancelled in the caller's transaction, so a silenced task sends nothing more on any channel.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import psycopg

from vitalgate.store import deliveries as delivery_store
from vitalgate.store import touchpoints as tp_store

# The cancel reason of steps silenced by a staff acknowledgement (record_outcome not_reached re-arms them).
ACK_REASON = "acknowledged by staff"


@dataclass(frozen=True, slots=True)
class Silenced:
    touchpoints: int
    deliveries: int


async def cancel_queued(
    conn: psycopg.AsyncConnection,
    *,
    reason: str,
    now: datetime,
    task_id: int | None = None,
    sop_instance_id: int | None = None,
) -> int:
    """Cancel outbox messages not yet sent for a task or SOP instance (store.deliveries, the ledger's)."""
    return await delivery_store.cancel_pending(
        conn, task_id=task_id, sop_instance_id=sop_instance_id, reason=reason, now=now
    )


async def silence_task(conn: psycopg.AsyncConnection, task_id: int, *, now: datetime, reason: str) -> Silenced:
    """Cancel the task's unfired touchpoints and its queued messages on every channel."""
    touchpoints = await tp_store.cancel_pending(conn, now=now, reason=reason, task_id=task_id)
    deliveries = await cancel_queued(conn, reason=reason, now=now, task_id=task_id)
    return Silenced(touchpoints, deliveries)
