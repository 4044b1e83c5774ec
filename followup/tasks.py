"""Turn newly opened alerts into assigned tasks with a due time by severity."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import psycopg

from store import tasks as task_store

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


async def open_task_for_alert(
    conn: psycopg.AsyncConnection,
    *,
    alert_id: int,
    patient_id: int,
    severity: str,
    title: str,
    now: datetime,
) -> OpenedTask | None:
    """Create the alert's task in the patient's care team; None if it already has one."""
    row = await (await conn.execute("SELECT care_team_id FROM patients WHERE id = %s", (patient_id,))).fetchone()
    if row is None:
        raise LookupError(f"patient {patient_id} does not exist")
    care_team_id = int(row["care_team_id"] if isinstance(row, dict) else row[0])
    assignee = await task_store.least_loaded_member(conn, care_team_id)
    due_at = now + DUE_BY_SEVERITY[severity]
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
    return OpenedTask(task_id, alert_id, patient_id, severity, assignee, due_at)
