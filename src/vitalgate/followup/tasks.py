"""Turn alert episodes into assigned tasks with a due time by severity and an escalation chain."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import psycopg

from vitalgate.alerts.engine import RaisedAlert
from vitalgate.followup.config import FollowupConfig, default_followup
from vitalgate.followup.escalation import start_escalation
from vitalgate.store import tasks as task_store

# Time to first action by severity. Urgent (e.g. level 2 hypoglycemia) must be acted on within
# the same quarter hour; high within a working half-day; routine within two days.
DUE_BY_SEVERITY = {
    "urgent": timedelta(minutes=15),
    "high": timedelta(hours=4),
    "routine": timedelta(days=2),
}


@dataclass(frozen=True, slots=True)
class OpenedTask:
    task_id: int
    alert_id: int
    patient_id: int
    severity: str
    assignee_id: int | None
    due_at: datetime
    escalation_chain: str | None = None


async def open_task_for_alert(
    conn: psycopg.AsyncConnection,
    *,
    alert_id: int,
    patient_id: int,
    severity: str,
    title: str,
    now: datetime,
    escalation: str | None = None,
    followup: FollowupConfig | None = None,
) -> OpenedTask | None:
    """Create the alert's task in the patient's care team and schedule its escalation; None if it exists."""
    row = await (await conn.execute("SELECT care_team_id, tags FROM patients WHERE id = %s", (patient_id,))).fetchone()
    if row is None:
        raise LookupError(f"patient {patient_id} does not exist")
    care_team_id, tags = (row["care_team_id"], row["tags"]) if isinstance(row, dict) else row
    assignee = await task_store.least_loaded_member(conn, int(care_team_id))
    due_at = now + DUE_BY_SEVERITY[severity]
    task_id = await task_store.create_task_for_alert(
        conn,
        alert_id=alert_id,
        patient_id=patient_id,
        care_team_id=int(care_team_id),
        assignee_id=assignee,
        severity=severity,
        title=title,
        due_at=due_at,
        now=now,
    )
    if task_id is None:
        return None
    chain = (followup or default_followup()).escalation_chain(escalation, severity, list(tags or []))
    if chain is not None:
        await start_escalation(conn, task_id, chain, now)
    return OpenedTask(task_id, alert_id, patient_id, severity, assignee, due_at, chain.id if chain else None)


async def act_on_alerts(
    conn: psycopg.AsyncConnection,
    raised: Sequence[RaisedAlert],
    *,
    now: datetime,
    on_event: Callable[[str, dict[str, Any]], None] | None = None,
    followup: FollowupConfig | None = None,
) -> list[OpenedTask]:
    """Open a task for each newly opened episode; note auto-resolved episodes on their tasks."""
    emit = on_event or (lambda stage, detail: None)
    opened: list[OpenedTask] = []
    for alert in raised:
        if alert.action == "resolved":
            task = await task_store.task_for_alert(conn, alert.alert_id)
            if task is not None and task["status"] in ("open", "in_progress"):
                # The task stays: a person confirms the patient is fine, the engine only notes it.
                await task_store.add_task_event(
                    conn,
                    task["id"],
                    now,
                    "system:engine",
                    "alert_resolved",
                    {"alert_id": alert.alert_id, "rule": alert.rule_id},
                )
            continue
        if not alert.opened:
            continue
        emit(
            "alert",
            {
                "alert_id": alert.alert_id,
                "patient_id": alert.patient_id,
                "rule": alert.rule_id,
                "severity": alert.severity,
            },
        )
        task = await open_task_for_alert(
            conn,
            alert_id=alert.alert_id,
            patient_id=alert.patient_id,
            severity=alert.severity,
            title=alert.title,
            now=now,
            escalation=alert.escalation,
            followup=followup,
        )
        if task is not None:
            opened.append(task)
            emit(
                "task",
                {
                    "task_id": task.task_id,
                    "patient_id": task.patient_id,
                    "severity": task.severity,
                    "due_at": task.due_at.isoformat(),
                    "assignee_id": task.assignee_id,
                    "rule": alert.rule_id,
                    "escalation": task.escalation_chain,
                },
            )
    return opened
