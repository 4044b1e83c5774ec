"""Worklist queries for the web and API (state changes live in followup.actions)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row


async def worklist(
    conn: psycopg.AsyncConnection, *, care_team_ids: list[int], status: list[str], now: datetime, limit: int = 500,
    task_id: int | None = None,
) -> list[dict[str, Any]]:
    """Tasks of some care teams: urgent before high before routine, then by due time; with overdue flag."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            """
            SELECT t.id, t.alert_id, t.patient_id, p.external_ref AS patient_ref, p.display_name AS patient_name,
                   p.tags AS patient_tags, t.care_team_id, t.assignee_id, u.display_name AS assignee, t.severity,
                   t.status, t.title, t.due_at, (t.closed_at IS NULL AND t.due_at < %(now)s) AS overdue,
                   t.escalation_chain, COALESCE(t.escalation_step + 1, 0) AS escalation_level,
                   (SELECT tp.channel FROM touchpoints tp WHERE tp.task_id = t.id AND tp.fired_at IS NULL
                      AND tp.cancelled_at IS NULL ORDER BY tp.step_index LIMIT 1) AS next_touchpoint,
                   t.created_at, t.closed_at, t.outcome
            FROM tasks t
            JOIN patients p ON p.id = t.patient_id
            LEFT JOIN users u ON u.id = t.assignee_id
            WHERE t.care_team_id = ANY(%(teams)s) AND t.status = ANY(%(status)s)
              AND (%(task)s::bigint IS NULL OR t.id = %(task)s)
            ORDER BY CASE t.severity WHEN 'urgent' THEN 0 WHEN 'high' THEN 1 ELSE 2 END, t.due_at, t.id
            LIMIT %(limit)s
            """,
            {"teams": care_team_ids, "status": status, "now": now, "limit": limit, "task": task_id},
        )
        return await cur.fetchall()


async def team_of_task(conn: psycopg.AsyncConnection, task_id: int) -> dict[str, Any] | None:
    """A task's id, patient, care team and status (for scoping checks)."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute("SELECT id, patient_id, care_team_id, status FROM tasks WHERE id = %s", (task_id,))
        return await cur.fetchone()


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
