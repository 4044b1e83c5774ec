"""Wiring after ingest: stored readings -> alert rules -> follow-up tasks (one transaction per batch)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
import structlog

from vitalgate.alerts.config import RuleSet
from vitalgate.alerts.engine import evaluate_readings
from vitalgate.domain import Severity
from vitalgate.followup.tasks import act_on_alerts
from vitalgate.notify.oncall.alerts import alert_new_urgent_task
from vitalgate.store.db import connect
from vitalgate.store.readings import StoredReading

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class PipelineEvent:
    """Something a person watching the demo wants to see happen."""

    stage: str  # "stored" | "alert" | "task"
    detail: dict[str, Any]


class AlertPipeline:
    """The on_committed hook of ingest: evaluate rules for the touched patients and open tasks."""

    def __init__(
        self,
        database_url: str,
        observer: Callable[[PipelineEvent], None] | None = None,
        *,
        rules: RuleSet | None = None,
    ) -> None:
        self._url = database_url
        self._observer = observer or (lambda event: None)
        self._rules = rules

    @staticmethod
    async def _alert_staff(conn: psycopg.AsyncConnection, task_id: int, now: datetime) -> None:
        try:
            async with conn.transaction():
                await alert_new_urgent_task(conn, task_id, now)
        except Exception as exc:  # psycopg.Error and friends: logged; `vitalgate oncall run` catches it up
            log.exception("oncall.alert_failed", task_id=task_id, error=str(exc))

    async def __call__(self, stored: Sequence[StoredReading], now: datetime) -> None:
        for reading in stored:
            self._observer(
                PipelineEvent(
                    "stored", {"reading_id": str(reading.id), "patient_id": reading.patient_id, "kind": reading.kind}
                )
            )
        conn = await connect(self._url)
        try:
            async with conn.transaction():
                # The merge returned each reading's patient: no look-up by id (readings has no id index).
                raised = await evaluate_readings(
                    conn, [r.id for r in stored], now=now, rules=self._rules, patient_ids=[r.patient_id for r in stored]
                )
                opened = await act_on_alerts(
                    conn, raised, now=now, on_event=lambda stage, detail: self._observer(PipelineEvent(stage, detail))
                )
            # After the tasks are committed: a failing staff alert must never undo a task (the
            # on-call tick retries whatever is not alerted here).
            for task in opened:
                if task.severity == Severity.URGENT:
                    await self._alert_staff(conn, task.task_id, now)
        finally:
            await conn.close()
        # One line per evaluation (batches coalesce while one runs); the scenario harness waits for it.
        log.info(
            "alerts.evaluated",
            readings=len(stored),
            alerts=len(raised),
            tasks_opened=len(opened),
            at=now.isoformat(),
            last_reading=str(stored[-1].id) if stored else None,
        )
