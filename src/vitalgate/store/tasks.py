"""Follow-up tasks and their events: creation, state changes, the worklist and task histories."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import class_row
from psycopg.types.json import Jsonb

from vitalgate.domain import Severity
from vitalgate.i18n.values import text_key
from vitalgate.store.db import scalar
from vitalgate.store.rows import TASK_COLUMNS, PatientTask, Task, TaskEvent, WorklistTask

# Weight of open work by severity when balancing assignments: one urgent task counts as much as
# four routine ones, so a member holding urgent work gets fewer new tasks.
SEVERITY_WEIGHT = {Severity.URGENT: 4, Severity.HIGH: 2, Severity.ROUTINE: 1}


async def least_loaded_member(
    conn: psycopg.AsyncConnection, care_team_id: int, *, roles: list[str] | None = None
) -> int | None:
    """The on-duty staff member of a team with the least severity-weighted open work (ties: lowest id)."""
    member = await scalar(
        conn,
        """
            SELECT u.id
            FROM care_team_members m
            JOIN users u ON u.id = m.user_id AND u.role <> 'patient' AND u.role <> 'admin' AND u.on_duty
            LEFT JOIN tasks t ON t.assignee_id = u.id AND t.status IN ('open', 'in_progress')
            WHERE m.care_team_id = %s AND (%s::text[] IS NULL OR u.role = ANY(%s::text[]))
            GROUP BY u.id
            ORDER BY COALESCE(SUM(CASE t.severity WHEN 'urgent' THEN %s WHEN 'high' THEN %s WHEN 'routine' THEN %s END), 0),
                     u.id
            LIMIT 1
            """,
        (
            care_team_id,
            roles,
            roles,
            SEVERITY_WEIGHT[Severity.URGENT],
            SEVERITY_WEIGHT[Severity.HIGH],
            SEVERITY_WEIGHT[Severity.ROUTINE],
        ),
    )
    return None if member is None else int(member)


async def create_task_for_alert(
    conn: psycopg.AsyncConnection,
    *,
    alert_id: int,
    patient_id: int,
    care_team_id: int,
    assignee_id: int | None,
    severity: str,
    title: str,
    due_at: datetime,
    now: datetime,
) -> int | None:
    """Open the task for an alert; None if that alert already has one (idempotent)."""
    return await _open_task(
        conn,
        {
            "alert_id": alert_id,
            "patient_id": patient_id,
            "care_team_id": care_team_id,
            "assignee_id": assignee_id,
            "severity": severity,
            "title": title,
            "due_at": due_at,
            "created_at": now,
        },
        now=now,
        detail={"assignee_id": assignee_id, "due_at": due_at.isoformat()},
    )


async def _open_task(
    conn: psycopg.AsyncConnection, values: dict[str, Any], *, now: datetime, detail: dict[str, Any]
) -> int | None:
    """Insert a task and its 'created' event; None if its alert already has a task."""
    # The title is stored as msgid + parameters too: pages translate it and convert its glucose values.
    key, params = text_key(values["title"])
    values = {**values, "title": str(values["title"]), "title_key": key, "title_params": Jsonb(params)}
    columns = list(values)
    # ON CONFLICT (alert_id) never fires for tasks without an alert (NULL is never equal).
    query = sql.SQL("INSERT INTO tasks ({}) VALUES ({}) ON CONFLICT (alert_id) DO NOTHING RETURNING id").format(
        sql.SQL(", ").join(map(sql.Identifier, columns)), sql.SQL(", ").join(sql.Placeholder() * len(columns))
    )
    inserted = await scalar(conn, query, [values[c] for c in columns])
    if inserted is None:
        return None
    task_id = int(inserted)
    await add_task_event(conn, task_id, now, "system", "created", detail)
    return task_id


async def add_task_event(
    conn: psycopg.AsyncConnection, task_id: int, at: datetime, actor: str, kind: str, detail: dict[str, Any]
) -> None:
    """Append an event to a task's history."""
    await conn.execute(
        "INSERT INTO task_events (task_id, at, actor, kind, detail) VALUES (%s, %s, %s, %s, %s)",
        (task_id, at, actor, kind, Jsonb(detail)),
    )


async def list_tasks(
    conn: psycopg.AsyncConnection,
    *,
    care_team_ids: list[int] | None = None,
    status: list[str] | None = None,
    now: datetime | None = None,
    limit: int = 500,
    task_id: int | None = None,
) -> list[WorklistTask]:
    """Worklist order: urgent before high before routine, then due time; `overdue` as of `now` (default: the server's)."""
    async with conn.cursor(row_factory=class_row(WorklistTask)) as cur:
        await cur.execute(
            """
            SELECT t.id, t.alert_id, t.patient_id, p.external_ref AS patient_ref, p.display_name AS patient_name,
                   p.tags AS patient_tags, t.care_team_id, t.assignee_id, u.display_name AS assignee, t.severity,
                   t.status, t.title, t.due_at,
                   (t.closed_at IS NULL AND t.due_at < COALESCE(%(now)s::timestamptz, now())) AS overdue,
                   t.kind, t.escalation_chain, t.escalation_step, COALESCE(t.escalation_step + 1, 0) AS escalation_level,
                   (SELECT tp.channel FROM touchpoints tp WHERE tp.task_id = t.id AND tp.fired_at IS NULL
                      AND tp.cancelled_at IS NULL ORDER BY tp.step_index LIMIT 1) AS next_touchpoint,
                   t.acknowledged_at, t.patient_responded_at, t.created_at, t.closed_at, t.outcome,
                   t.title_key, t.title_params
            FROM tasks t
            JOIN patients p ON p.id = t.patient_id
            LEFT JOIN users u ON u.id = t.assignee_id
            WHERE (%(teams)s::bigint[] IS NULL OR t.care_team_id = ANY(%(teams)s))
              AND (%(status)s::text[] IS NULL OR t.status = ANY(%(status)s))
              AND (%(task)s::bigint IS NULL OR t.id = %(task)s)
            ORDER BY CASE t.severity WHEN 'urgent' THEN 0 WHEN 'high' THEN 1 ELSE 2 END, t.due_at, t.id
            LIMIT %(limit)s
            """,
            {"teams": care_team_ids, "status": status, "now": now, "limit": limit, "task": task_id},
        )
        return await cur.fetchall()


async def patient_tasks(conn: psycopg.AsyncConnection, patient_id: int, limit: int = 100) -> list[PatientTask]:
    """A patient's tasks, newest first."""
    async with conn.cursor(row_factory=class_row(PatientTask)) as cur:
        await cur.execute(
            """
            SELECT t.id, t.alert_id, t.severity, t.status, t.title, t.due_at, t.created_at, t.closed_at, t.outcome,
                   u.display_name AS assignee, t.title_key, t.title_params
            FROM tasks t LEFT JOIN users u ON u.id = t.assignee_id
            WHERE t.patient_id = %s ORDER BY t.created_at DESC LIMIT %s
            """,
            (patient_id, limit),
        )
        return await cur.fetchall()


async def create_task(
    conn: psycopg.AsyncConnection,
    *,
    patient_id: int,
    care_team_id: int,
    assignee_id: int | None,
    severity: str,
    title: str,
    due_at: datetime,
    now: datetime,
    kind: str,
    escalation_chain: str | None = None,
) -> int:
    """Open a task not tied to an alert (e.g. an SOP chain's)."""
    task_id = await _open_task(
        conn,
        {
            "patient_id": patient_id,
            "care_team_id": care_team_id,
            "assignee_id": assignee_id,
            "severity": severity,
            "title": title,
            "due_at": due_at,
            "created_at": now,
            "kind": kind,
            "escalation_chain": escalation_chain,
        },
        now=now,
        detail={"assignee_id": assignee_id, "due_at": due_at.isoformat(), "kind": kind},
    )
    assert task_id is not None  # no alert_id, so no conflict
    return task_id


def _key_params(text: str) -> tuple[str, Jsonb]:
    key, params = text_key(text)
    return key, Jsonb(params)


async def get_task(conn: psycopg.AsyncConnection, task_id: int, *, for_update: bool = False) -> Task | None:
    """One task (optionally locked for a state change)."""
    async with conn.cursor(row_factory=class_row(Task)) as cur:
        await cur.execute(
            f"SELECT {TASK_COLUMNS} FROM tasks WHERE id = %s" + (" FOR UPDATE" if for_update else ""), (task_id,)
        )
        return await cur.fetchone()


async def task_for_alert(conn: psycopg.AsyncConnection, alert_id: int) -> Task | None:
    """The task opened for an alert, if any."""
    async with conn.cursor(row_factory=class_row(Task)) as cur:
        await cur.execute(f"SELECT {TASK_COLUMNS} FROM tasks WHERE alert_id = %s", (alert_id,))
        return await cur.fetchone()


async def set_escalation(conn: psycopg.AsyncConnection, task_id: int, *, chain: str | None, step: int | None) -> None:
    """Record the task's escalation chain and the last step delivered."""
    await conn.execute(
        "UPDATE tasks SET escalation_chain = COALESCE(%s, escalation_chain), escalation_step = %s WHERE id = %s",
        (chain, step, task_id),
    )


async def mark_acknowledged(conn: psycopg.AsyncConnection, task_id: int, now: datetime) -> bool:
    """open -> in_progress; False if the task was not open."""
    cur = await conn.execute(
        "UPDATE tasks SET status = 'in_progress', acknowledged_at = %s WHERE id = %s AND status = 'open'",
        (now, task_id),
    )
    return cur.rowcount == 1


async def mark_patient_responded(conn: psycopg.AsyncConnection, task_id: int, now: datetime) -> None:
    await conn.execute(
        "UPDATE tasks SET patient_responded_at = COALESCE(patient_responded_at, %s) WHERE id = %s", (now, task_id)
    )


async def close_task(
    conn: psycopg.AsyncConnection, task_id: int, *, outcome: str, now: datetime, status: str = "done"
) -> bool:
    """Close an open or in-progress task with an outcome; False if already closed."""
    cur = await conn.execute(
        "UPDATE tasks SET status = %s, outcome = %s, closed_at = %s WHERE id = %s AND status IN ('open', 'in_progress')",
        (status, outcome, now, task_id),
    )
    return cur.rowcount == 1


async def set_outcome(conn: psycopg.AsyncConnection, task_id: int, outcome: str) -> None:
    """Record the latest outcome without closing (e.g. not reached)."""
    await conn.execute("UPDATE tasks SET outcome = %s WHERE id = %s", (outcome, task_id))


async def reassign(conn: psycopg.AsyncConnection, task_id: int, assignee_id: int) -> None:
    await conn.execute("UPDATE tasks SET assignee_id = %s WHERE id = %s", (assignee_id, task_id))


async def task_events(conn: psycopg.AsyncConnection, task_ids: int | Sequence[int]) -> list[TaskEvent]:
    """History of one task or several, oldest first."""
    ids = [task_ids] if isinstance(task_ids, int) else list(task_ids)
    async with conn.cursor(row_factory=class_row(TaskEvent)) as cur:
        await cur.execute(
            "SELECT id, task_id, at, actor, kind, detail FROM task_events WHERE task_id = ANY(%s) ORDER BY at, id",
            (ids,),
        )
        return await cur.fetchall()


async def task_of_alert(conn: psycopg.AsyncConnection, alert_id: int) -> Task | None:
    """The task an episode belongs to: the one opened for it, or the one it was added to."""
    async with conn.cursor(row_factory=class_row(Task)) as cur:
        await cur.execute(
            f"SELECT {TASK_COLUMNS} FROM tasks t WHERE t.alert_id = %(a)s"
            " OR t.id = (SELECT task_id FROM alerts WHERE id = %(a)s) ORDER BY t.id LIMIT 1",
            {"a": alert_id},
        )
        return await cur.fetchone()


async def open_task_for_rules(conn: psycopg.AsyncConnection, patient_id: int, rule_ids: Sequence[str]) -> Task | None:
    """The patient's newest open task holding an episode of one of these rules (locked for a change)."""
    async with conn.cursor(row_factory=class_row(Task)) as cur:
        await cur.execute(
            f"""
            SELECT {TASK_COLUMNS} FROM tasks t
            WHERE t.patient_id = %(p)s AND t.status IN ('open', 'in_progress')
              AND EXISTS (SELECT 1 FROM alerts a WHERE (a.id = t.alert_id OR a.task_id = t.id)
                          AND a.rule_id = ANY(%(rules)s::text[]))
            ORDER BY t.id DESC LIMIT 1 FOR UPDATE
            """,
            {"p": patient_id, "rules": list(rule_ids)},
        )
        return await cur.fetchone()


async def raise_severity(
    conn: psycopg.AsyncConnection, task_id: int, *, severity: str, due_at: datetime, title: str
) -> None:
    """A worse event joined the task: its severity, due time (never later) and title follow it."""
    await conn.execute(
        "UPDATE tasks SET severity = %s, due_at = LEAST(due_at, %s), title = %s, title_key = %s, title_params = %s"
        " WHERE id = %s",
        (severity, due_at, str(title), *_key_params(title), task_id),
    )
