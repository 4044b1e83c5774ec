"""Turn alert episodes into assigned tasks with a due time by severity and an escalation chain."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import psycopg

from vitalgate.alerts.engine import RaisedAlert
from vitalgate.domain import ACTIVE_TASK_STATUSES, Severity
from vitalgate.followup.config import FollowupConfig, default_followup
from vitalgate.followup.escalation import restart_escalation, start_escalation
from vitalgate.store import alerts as alert_store
from vitalgate.store import people
from vitalgate.store import tasks as task_store
from vitalgate.store.rows import Task

# Time to first action by severity. Urgent (e.g. level 2 hypoglycemia) must be acted on within
# the same quarter hour; high within a working half-day; routine within two days.
DUE_BY_SEVERITY = {
    Severity.URGENT: timedelta(minutes=15),
    Severity.HIGH: timedelta(hours=4),
    Severity.ROUTINE: timedelta(days=2),
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
    facts = await people.patient_team_and_tags(conn, patient_id)
    if facts is None:
        raise LookupError(f"patient {patient_id} does not exist")
    care_team_id, tags = facts
    assignee = await task_store.least_loaded_member(conn, care_team_id)
    due_at = now + DUE_BY_SEVERITY[Severity(severity)]
    task_id = await task_store.create_task_for_alert(
        conn,
        alert_id=alert_id,
        patient_id=patient_id,
        care_team_id=care_team_id,
        assignee_id=assignee,
        severity=severity,
        title=title,
        due_at=due_at,
        now=now,
    )
    if task_id is None:
        return None
    chain = (followup or default_followup()).escalation_chain(escalation, severity, tags)
    if chain is not None:
        await start_escalation(conn, task_id, chain, now)
    return OpenedTask(task_id, alert_id, patient_id, severity, assignee, due_at, chain.id if chain else None)


SEVERITY_RANK = {Severity.ROUTINE: 0, Severity.HIGH: 1, Severity.URGENT: 2}


async def _note(conn: psycopg.AsyncConnection, alert: RaisedAlert, now: datetime, kind: str) -> None:
    """An engine event on the open task holding this episode (none: nothing to note)."""
    task = await task_store.task_of_alert(conn, alert.alert_id)
    if task is not None and task.status in ACTIVE_TASK_STATUSES:
        detail = {"alert_id": alert.alert_id, "rule": alert.rule_id, **(alert.detail or {})}
        await task_store.add_task_event(conn, task.id, now, "system:engine", kind, detail)


async def _join_open_task(
    conn: psycopg.AsyncConnection, alert: RaisedAlert, now: datetime, followup: FollowupConfig | None
) -> Task | None:
    """Add a new episode to the patient's open task of the same rule group, if the table allows.

    An urgent event never joins an urgent task (it gets its own, at once); a more severe event
    raises the task it joins (severity, due time, escalation chain); a repeat or a milder event is
    added as an event to the task the team already has.
    """
    task = await task_store.open_task_for_rules(conn, alert.patient_id, alert.group_rules or (alert.rule_id,))
    if task is None or (alert.severity == Severity.URGENT and task.severity == Severity.URGENT):
        return None
    await alert_store.attach_to_task(conn, alert.alert_id, task.id)
    detail = {"alert_id": alert.alert_id, "rule": alert.rule_id, "severity": alert.severity}
    if SEVERITY_RANK[Severity(alert.severity)] <= SEVERITY_RANK[Severity(task.severity)]:
        await task_store.add_task_event(conn, task.id, now, "system:engine", "episode_added", detail)
        return task
    due_at = now + DUE_BY_SEVERITY[Severity(alert.severity)]
    await task_store.raise_severity(conn, task.id, severity=alert.severity, due_at=due_at, title=alert.title)
    await task_store.add_task_event(
        conn, task.id, now, "system:engine", "severity_raised", {**detail, "from": task.severity}
    )
    facts = await people.patient_team_and_tags(conn, alert.patient_id)
    tags = facts[1] if facts is not None else []
    chain = (followup or default_followup()).escalation_chain(alert.escalation, alert.severity, tags)
    if chain is not None:
        await restart_escalation(conn, task.id, chain, now)
    return task


async def act_on_alerts(
    conn: psycopg.AsyncConnection,
    raised: Sequence[RaisedAlert],
    *,
    now: datetime,
    on_event: Callable[[str, dict[str, Any]], None] | None = None,
    followup: FollowupConfig | None = None,
) -> list[OpenedTask]:
    """Open a task for each new episode (or add it to an open task of its group); note the rest on tasks."""
    emit = on_event or (lambda stage, detail: None)
    opened: list[OpenedTask] = []
    for alert in raised:
        if alert.action in ("resolved", "worsened"):
            # An auto-resolved episode leaves its task for a person to confirm the patient is fine.
            await _note(conn, alert, now, "alert_resolved" if alert.action == "resolved" else "worsened")
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
        if await _join_open_task(conn, alert, now, followup) is not None:
            continue
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
