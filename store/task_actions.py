"""Worklist actions from the web and API: acknowledge, record an outcome, advance the escalation.

Minimal versions owned by the API; the follow-up engine may later own a richer escalation model.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row

from store.tasks import add_task_event

# The escalation ladder of a follow-up, in order (architecture: message → questionnaire → voice →
# phone → doctor): each step is a more costly, more direct way to reach the patient.
ESCALATION_LADDER = ("message", "questionnaire", "voice", "phone", "doctor")


async def get_task(conn: psycopg.AsyncConnection, task_id: int) -> dict[str, Any] | None:
    """One task with its patient's care team and escalation level."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            """
            SELECT t.id, t.alert_id, t.patient_id, p.external_ref AS patient_ref, p.tags AS patient_tags,
                   t.care_team_id, t.assignee_id, u.display_name AS assignee, t.severity, t.status, t.title,
                   t.due_at, t.created_at, t.closed_at, t.outcome,
                   (SELECT count(*) FROM task_events e WHERE e.task_id = t.id AND e.kind = 'escalated') AS escalation_level
            FROM tasks t JOIN patients p ON p.id = t.patient_id LEFT JOIN users u ON u.id = t.assignee_id
            WHERE t.id = %s
            """,
            (task_id,),
        )
        return await cur.fetchone()


async def acknowledge(conn: psycopg.AsyncConnection, task_id: int, actor: str, now: datetime) -> bool:
    """open → in_progress; False if the task was not open."""
    cur = await conn.execute(
        "UPDATE tasks SET status = 'in_progress' WHERE id = %s AND status = 'open'", (task_id,)
    )
    if cur.rowcount:
        await add_task_event(conn, task_id, now, actor, "acknowledged", {})
        await conn.execute(
            "UPDATE alerts SET status = 'acknowledged', updated_at = %s"
            " WHERE id = (SELECT alert_id FROM tasks WHERE id = %s) AND status = 'open'",
            (now, task_id),
        )
    return bool(cur.rowcount)


async def record_outcome(conn: psycopg.AsyncConnection, task_id: int, actor: str, outcome: str, note: str | None, now: datetime) -> bool:
    """Close an open or in-progress task with an outcome; False if it was already closed."""
    cur = await conn.execute(
        "UPDATE tasks SET status = 'done', outcome = %s, closed_at = %s WHERE id = %s AND status IN ('open', 'in_progress')",
        (outcome, now, task_id),
    )
    if cur.rowcount:
        await add_task_event(conn, task_id, now, actor, "outcome", {"outcome": outcome, "note": note or ""})
    return bool(cur.rowcount)


async def escalate(conn: psycopg.AsyncConnection, task_id: int, actor: str, now: datetime) -> str | None:
    """Move an open task one step up the ladder; returns the new touchpoint, None if closed or at the top."""
    task = await get_task(conn, task_id)
    if task is None or task["status"] not in ("open", "in_progress"):
        return None
    level = int(task["escalation_level"])
    if level >= len(ESCALATION_LADDER):
        return None
    touchpoint = ESCALATION_LADDER[level]
    await add_task_event(conn, task_id, now, actor, "escalated", {"level": level + 1, "touchpoint": touchpoint})
    return touchpoint


async def task_events(conn: psycopg.AsyncConnection, task_ids: list[int]) -> list[dict[str, Any]]:
    """History of some tasks, oldest first."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            "SELECT task_id, at, actor, kind, detail FROM task_events WHERE task_id = ANY(%s) ORDER BY at, id", (task_ids,)
        )
        return await cur.fetchall()


async def patient_tasks(conn: psycopg.AsyncConnection, patient_id: int, limit: int = 100) -> list[dict[str, Any]]:
    """A patient's tasks, newest first."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            """
            SELECT t.id, t.alert_id, t.severity, t.status, t.title, t.due_at, t.created_at, t.closed_at, t.outcome,
                   u.display_name AS assignee
            FROM tasks t LEFT JOIN users u ON u.id = t.assignee_id
            WHERE t.patient_id = %s ORDER BY t.created_at DESC LIMIT %s
            """,
            (patient_id, limit),
        )
        return await cur.fetchall()
