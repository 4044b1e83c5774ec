"""Per-patient monitoring status with history (active / paused / discharged) and device unbinding.

The row with the latest `valid_from` at or before a time holds at that time; a patient without
rows is active. Missing-data and adherence rules judge only patients who are active now and have
a bound device: a paused or discharged patient, or one whose devices were all taken back, is not
"silent" (issue 12, item 5).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Literal

import psycopg
from psycopg.rows import tuple_row

from vitalgate.store.db import scalar

MonitoringStatus = Literal["active", "paused", "discharged"]
MONITORING_STATUSES: tuple[str, ...] = ("active", "paused", "discharged")


async def set_status(
    conn: psycopg.AsyncConnection,
    patient_id: int,
    status: MonitoringStatus,
    *,
    valid_from: datetime,
    reason: str | None = None,
    set_by: str | None = None,
) -> int:
    """Record a status from `valid_from` on; leaving `active` closes the patient's missing-data episodes."""
    if status not in MONITORING_STATUSES:
        raise ValueError(f"unknown monitoring status {status!r}; expected one of {MONITORING_STATUSES}")
    row = await scalar(
        conn,
        "INSERT INTO patient_monitoring (patient_id, status, valid_from, reason, set_by)"
        " VALUES (%s, %s, %s, %s, %s) RETURNING id",
        (patient_id, status, valid_from, reason, set_by),
    )
    assert row is not None
    if status != "active":
        await close_missing_data_episodes(conn, [patient_id], valid_from, reason=f"monitoring {status}")
    return int(row)


async def status_at(conn: psycopg.AsyncConnection, patient_ids: Sequence[int], at: datetime) -> dict[int, str]:
    """{patient: status at `at`} for these patients (active when nothing was recorded)."""
    cur = await conn.cursor(row_factory=tuple_row).execute(
        """
        SELECT p.id, COALESCE((SELECT m.status FROM patient_monitoring m WHERE m.patient_id = p.id
                               AND m.valid_from <= %(at)s ORDER BY m.valid_from DESC, m.id DESC LIMIT 1), 'active')
        FROM unnest(%(ids)s::bigint[]) AS p(id)
        """,
        {"ids": list(patient_ids), "at": at},
    )
    return {int(pid): str(status) for pid, status in await cur.fetchall()}


async def adherence_population(conn: psycopg.AsyncConnection, patient_ids: Sequence[int], at: datetime) -> set[int]:
    """Of these patients, those active at `at` with a device bound at `at` (missing-data rules judge only them)."""
    cur = await conn.cursor(row_factory=tuple_row).execute(
        """
        SELECT p.id FROM unnest(%(ids)s::bigint[]) AS p(id)
        WHERE EXISTS (SELECT 1 FROM device_bindings b WHERE b.patient_id = p.id AND b.valid_from <= %(at)s
                      AND (b.valid_to IS NULL OR b.valid_to > %(at)s))
          AND COALESCE((SELECT m.status FROM patient_monitoring m WHERE m.patient_id = p.id AND m.valid_from <= %(at)s
                        ORDER BY m.valid_from DESC, m.id DESC LIMIT 1), 'active') = 'active'
        """,
        {"ids": list(patient_ids), "at": at},
    )
    return {int(pid) for (pid,) in await cur.fetchall()}


async def close_missing_data_episodes(
    conn: psycopg.AsyncConnection, patient_ids: Sequence[int], now: datetime, *, reason: str
) -> list[int]:
    """Resolve open missing-data episodes of these patients with a reason (not the condition, not a person)."""
    cur = await conn.cursor(row_factory=tuple_row).execute(
        "UPDATE alerts SET status = 'resolved', resolved_at = %s, updated_at = %s, resolution_reason = %s"
        " WHERE patient_id = ANY(%s::bigint[]) AND status <> 'resolved' AND evidence ->> 'rule_kind' = 'missing_data'"
        " RETURNING id",
        (now, now, reason, list(patient_ids)),
    )
    closed = [int(aid) for (aid,) in await cur.fetchall()]
    if closed:
        # Their tasks ask the team to chase readings nobody expects any more: cancel them, say why.
        await conn.execute(
            """
            WITH t AS (
                UPDATE tasks SET status = 'cancelled', outcome = 'not_monitored', closed_at = %(now)s
                WHERE alert_id = ANY(%(ids)s::bigint[]) AND status IN ('open', 'in_progress') RETURNING id
            ), tp AS (
                UPDATE touchpoints SET cancelled_at = %(now)s, cancel_reason = %(reason)s
                WHERE task_id IN (SELECT id FROM t) AND fired_at IS NULL AND cancelled_at IS NULL
            )
            INSERT INTO task_events (task_id, at, actor, kind, detail)
            SELECT id, %(now)s, 'system:monitoring', 'cancelled', jsonb_build_object('reason', %(reason)s::text) FROM t
            """,
            {"now": now, "ids": closed, "reason": reason},
        )
    return closed


async def unbind_device(conn: psycopg.AsyncConnection, serial: str, *, at: datetime, reason: str) -> int | None:
    """Close the device's open binding at `at`; if it was the patient's last, close missing-data episodes.

    Returns the patient the device was bound to (None: it was not bound).
    """
    row = await scalar(
        conn,
        "UPDATE device_bindings SET valid_to = %s WHERE device_serial = %s AND valid_to IS NULL RETURNING patient_id",
        (at, serial),
    )
    if row is None:
        return None
    patient_id = int(row)
    if not await adherence_population(conn, [patient_id], at):
        await close_missing_data_episodes(conn, [patient_id], at, reason=f"last device unbound: {reason}")
    return patient_id
