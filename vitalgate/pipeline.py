"""Wiring after ingest: stored readings -> alert rules -> follow-up tasks (one transaction per batch)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog

from alerts.engine import evaluate_readings
from followup.tasks import open_task_for_alert
from store.db import connect
from store.readings import StoredReading

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class PipelineEvent:
    """Something a person watching the demo wants to see happen."""

    stage: str  # "stored" | "alert" | "task"
    detail: dict[str, Any]


class AlertPipeline:
    """The on_committed hook of ingest: evaluate rules for the new readings and open tasks."""

    def __init__(self, database_url: str, observer: Callable[[PipelineEvent], None] | None = None) -> None:
        self._url = database_url
        self._observer = observer or (lambda event: None)

    async def __call__(self, stored: Sequence[StoredReading], now: datetime) -> None:
        for reading in stored:
            self._observer(PipelineEvent("stored", {"reading_id": str(reading.id), "patient_id": reading.patient_id, "kind": reading.kind}))
        conn = await connect(self._url)
        try:
            async with conn.transaction():
                raised = await evaluate_readings(conn, [r.id for r in stored], now=now)
                for alert in raised:
                    if not alert.opened:
                        continue
                    self._observer(PipelineEvent("alert", {"alert_id": alert.alert_id, "patient_id": alert.patient_id, "rule": alert.rule_id, "severity": alert.severity}))
                    task = await open_task_for_alert(
                        conn, alert_id=alert.alert_id, patient_id=alert.patient_id,
                        severity=alert.severity, title=alert.title, now=now,
                    )
                    if task is not None:
                        self._observer(PipelineEvent("task", {"task_id": task.task_id, "patient_id": task.patient_id, "severity": task.severity, "due_at": task.due_at.isoformat(), "assignee_id": task.assignee_id}))
        finally:
            await conn.close()
