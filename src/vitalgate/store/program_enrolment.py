"""The program funnel, append-only (migration 0017): transitions in, the current step and funnel counts out.

The rules of which transition is allowed live in vitalgate.programs.funnel; this module only
records and reads. `lock_patient` serialises transitions of one (program, patient) so the step
read before a transition is still the step when it is recorded.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import psycopg
from psycopg.rows import class_row, tuple_row

from vitalgate.store.program_rows import ENROLMENT_EVENT_COLUMNS, EnrolmentEvent, FunnelStep


@dataclass(frozen=True, slots=True)
class NewTransition:
    program_id: str
    patient_id: int
    step: FunnelStep
    at: datetime
    actor: str
    channel: str | None = None
    segment: str | None = None
    reason: str | None = None


async def lock_patient(conn: psycopg.AsyncConnection, program_id: str, patient_id: int) -> None:
    """Transaction-scoped lock on this patient's funnel in this program (the caller holds a transaction)."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s), %s::int)", (program_id, patient_id % 2**31))


async def append(conn: psycopg.AsyncConnection, t: NewTransition) -> EnrolmentEvent:
    async with conn.cursor(row_factory=class_row(EnrolmentEvent)) as cur:
        await cur.execute(
            "INSERT INTO program_enrolment_events (program_id, patient_id, step, at, actor, channel, segment, reason)"
            f" VALUES (%s, %s, %s, %s, %s, %s, %s, %s) RETURNING {ENROLMENT_EVENT_COLUMNS}",
            (t.program_id, t.patient_id, str(t.step), t.at, t.actor, t.channel, t.segment, t.reason),
        )
        row = await cur.fetchone()
    assert row is not None
    return row


async def current(
    conn: psycopg.AsyncConnection, program_id: str, patient_id: int, at: datetime | None = None
) -> EnrolmentEvent | None:
    """The latest transition at or before `at` (None: the patient was never invited)."""
    async with conn.cursor(row_factory=class_row(EnrolmentEvent)) as cur:
        await cur.execute(
            f"SELECT {ENROLMENT_EVENT_COLUMNS} FROM program_enrolment_events"
            " WHERE program_id = %s AND patient_id = %s AND (%s::timestamptz IS NULL OR at <= %s)"
            " ORDER BY at DESC, id DESC LIMIT 1",
            (program_id, patient_id, at, at),
        )
        return await cur.fetchone()


async def history(conn: psycopg.AsyncConnection, program_id: str, patient_id: int) -> list[EnrolmentEvent]:
    async with conn.cursor(row_factory=class_row(EnrolmentEvent)) as cur:
        await cur.execute(
            f"SELECT {ENROLMENT_EVENT_COLUMNS} FROM program_enrolment_events"
            " WHERE program_id = %s AND patient_id = %s ORDER BY at, id",
            (program_id, patient_id),
        )
        return await cur.fetchall()


@dataclass(frozen=True, slots=True)
class FunnelPath:
    """One invited patient's path: when each step was first reached (None: never), and the invitation's labels."""

    patient_id: int
    invited_at: datetime
    channel: str | None
    segment: str | None
    first_at: dict[str, datetime]
    last_step: str
    last_reason: str | None


async def paths(
    conn: psycopg.AsyncConnection, program_id: str, *, invited_from: datetime, invited_to: datetime
) -> list[FunnelPath]:
    """Every patient invited in [from, to), with the first time each step was reached (any time later)."""
    async with conn.cursor(row_factory=tuple_row) as cur:
        await cur.execute(
            """
            WITH inv AS (
                SELECT DISTINCT ON (patient_id) patient_id, at, channel, segment FROM program_enrolment_events
                WHERE program_id = %(p)s AND step = 'invited' ORDER BY patient_id, at, id
            ), firsts AS (
                SELECT patient_id, step, min(at) AS first_at FROM program_enrolment_events
                WHERE program_id = %(p)s GROUP BY patient_id, step
            ), agg AS (
                SELECT patient_id, array_agg(step ORDER BY step) AS steps, array_agg(first_at ORDER BY step) AS firsts
                FROM firsts GROUP BY patient_id
            ), last AS (
                SELECT DISTINCT ON (patient_id) patient_id, step, reason FROM program_enrolment_events
                WHERE program_id = %(p)s ORDER BY patient_id, at DESC, id DESC
            )
            SELECT inv.patient_id, inv.at, inv.channel, inv.segment, agg.steps, agg.firsts, last.step, last.reason
            FROM inv JOIN last USING (patient_id) JOIN agg USING (patient_id)
            WHERE inv.at >= %(from)s AND inv.at < %(to)s
            ORDER BY inv.patient_id
            """,
            {"p": program_id, "from": invited_from, "to": invited_to},
        )
        rows = await cur.fetchall()
    return [
        FunnelPath(int(pid), at, channel, segment, dict(zip(steps, firsts, strict=True)), last_step, reason)
        for pid, at, channel, segment, steps, firsts, last_step, reason in rows
    ]


async def patients_at_step(
    conn: psycopg.AsyncConnection, program_id: str, steps: Sequence[FunnelStep], at: datetime
) -> list[int]:
    """Patients whose latest step at `at` is one of `steps`."""
    async with conn.cursor(row_factory=tuple_row) as cur:
        await cur.execute(
            """
            SELECT patient_id FROM (
                SELECT DISTINCT ON (patient_id) patient_id, step FROM program_enrolment_events
                WHERE program_id = %s AND at <= %s ORDER BY patient_id, at DESC, id DESC
            ) s WHERE step = ANY(%s::text[]) ORDER BY patient_id
            """,
            (program_id, at, [str(s) for s in steps]),
        )
        return [int(pid) for (pid,) in await cur.fetchall()]
