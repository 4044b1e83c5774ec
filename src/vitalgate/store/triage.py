"""Triage decisions on inbound messages and staff re-routes (the labelled feedback)."""

from __future__ import annotations

from datetime import datetime

import psycopg
from psycopg.rows import class_row

from vitalgate.store.db import scalar
from vitalgate.store.triage_rows import TRIAGE_COLUMNS, Feedback, NewTriage, TriageRecord


async def record(conn: psycopg.AsyncConnection, t: NewTriage, *, now: datetime) -> int | None:
    """Store a triage decision; None when that inbound message was triaged already (idempotent)."""
    value = await scalar(
        conn,
        "INSERT INTO inbound_triage (patient_id, inbound_message_id, body, language, category, confidence,"
        " needs_person, evidence, route_category, routed_to, task_id, suggested_script_id, received_at, created_at)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
        " ON CONFLICT (inbound_message_id) DO NOTHING RETURNING id",
        (
            t.patient_id,
            t.inbound_message_id,
            t.body,
            t.language,
            t.category,
            t.confidence,
            t.needs_person,
            t.evidence,
            t.category,
            t.routed_to,
            t.task_id,
            t.suggested_script_id,
            t.received_at,
            now,
        ),
    )
    return None if value is None else int(value)


async def get(conn: psycopg.AsyncConnection, triage_id: int, *, for_update: bool = False) -> TriageRecord | None:
    async with conn.cursor(row_factory=class_row(TriageRecord)) as cur:
        await cur.execute(
            f"SELECT {TRIAGE_COLUMNS} FROM inbound_triage WHERE id = %s" + (" FOR UPDATE" if for_update else ""),
            (triage_id,),
        )
        return await cur.fetchone()


async def by_message(conn: psycopg.AsyncConnection, inbound_message_id: int) -> TriageRecord | None:
    async with conn.cursor(row_factory=class_row(TriageRecord)) as cur:
        await cur.execute(
            f"SELECT {TRIAGE_COLUMNS} FROM inbound_triage WHERE inbound_message_id = %s", (inbound_message_id,)
        )
        return await cur.fetchone()


async def listed(
    conn: psycopg.AsyncConnection,
    *,
    care_team_ids: list[int] | None = None,
    patient_id: int | None = None,
    task_id: int | None = None,
    limit: int = 200,
) -> list[TriageRecord]:
    """Triaged messages newest first, within the viewer's teams."""
    columns = ", ".join(f"t.{c.strip()}" for c in TRIAGE_COLUMNS.split(","))
    async with conn.cursor(row_factory=class_row(TriageRecord)) as cur:
        await cur.execute(
            f"SELECT {columns} FROM inbound_triage t JOIN patients p ON p.id = t.patient_id"
            " WHERE (%(teams)s::bigint[] IS NULL OR p.care_team_id = ANY(%(teams)s))"
            " AND (%(patient)s::bigint IS NULL OR t.patient_id = %(patient)s)"
            " AND (%(task)s::bigint IS NULL OR t.task_id = %(task)s)"
            " ORDER BY t.received_at DESC, t.id DESC LIMIT %(limit)s",
            {"teams": care_team_ids, "patient": patient_id, "task": task_id, "limit": limit},
        )
        return await cur.fetchall()


async def set_route(
    conn: psycopg.AsyncConnection, triage_id: int, *, category: str, routed_to: str, task_id: int | None
) -> None:
    await conn.execute(
        "UPDATE inbound_triage SET route_category = %s, routed_to = %s, task_id = %s WHERE id = %s",
        (category, routed_to, task_id, triage_id),
    )


async def add_feedback(
    conn: psycopg.AsyncConnection,
    triage_id: int,
    *,
    from_category: str,
    to_category: str,
    user_id: int | None,
    note: str | None,
    at: datetime,
) -> int:
    value = await scalar(
        conn,
        "INSERT INTO triage_feedback (triage_id, from_category, to_category, user_id, note, at)"
        " VALUES (%s, %s, %s, %s, %s, %s) RETURNING id",
        (triage_id, from_category, to_category, user_id, note, at),
    )
    return int(value)


async def feedback(
    conn: psycopg.AsyncConnection, *, care_team_ids: list[int] | None = None, since: datetime | None = None
) -> list[Feedback]:
    """Re-routes oldest first with their messages: the labelled examples triage learns from."""
    async with conn.cursor(row_factory=class_row(Feedback)) as cur:
        await cur.execute(
            "SELECT f.id, f.triage_id, t.body, t.language, f.from_category, f.to_category, f.user_id, f.note, f.at"
            " FROM triage_feedback f JOIN inbound_triage t ON t.id = f.triage_id"
            " JOIN patients p ON p.id = t.patient_id"
            " WHERE (%(teams)s::bigint[] IS NULL OR p.care_team_id = ANY(%(teams)s))"
            " AND (%(since)s::timestamptz IS NULL OR f.at >= %(since)s) ORDER BY f.at, f.id",
            {"teams": care_team_ids, "since": since},
        )
        return await cur.fetchall()


async def open_task_for_route(conn: psycopg.AsyncConnection, patient_id: int, routed_to: str) -> int | None:
    """The patient's active message task that triage last routed to `routed_to` (added to, not duplicated)."""
    value = await scalar(
        conn,
        "SELECT tk.id FROM inbound_triage t JOIN tasks tk ON tk.id = t.task_id"
        " WHERE t.patient_id = %s AND t.routed_to = %s AND tk.kind = 'message' AND tk.status IN ('open', 'in_progress')"
        " ORDER BY t.received_at DESC, t.id DESC LIMIT 1",
        (patient_id, routed_to),
    )
    return None if value is None else int(value)


async def retarget_task(
    conn: psycopg.AsyncConnection, task_id: int, *, severity: str, due_at: datetime, assignee_id: int | None, title: str
) -> None:
    """A re-routed message task takes its new queue's severity, due time, assignee and title."""
    await conn.execute(
        "UPDATE tasks SET severity = %s, due_at = %s, assignee_id = %s, title = %s WHERE id = %s",
        (severity, due_at, assignee_id, title, task_id),
    )
