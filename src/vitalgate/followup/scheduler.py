"""The scheduler: evaluate time-based rules for every monitored patient and fire due touchpoints.

`tick` is one pass (safe to run from cron, twice, or from several processes at once: episodes
are de-duplicated and touchpoints are claimed with SKIP LOCKED); `run_scheduler` loops it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import structlog

from vitalgate.alerts.config import RuleSet
from vitalgate.alerts.engine import RaisedAlert, evaluate_all, evaluate_patients
from vitalgate.core.clock import Clock
from vitalgate.core.shutdown import sleep_until_stopped
from vitalgate.followup.channels import Channel
from vitalgate.followup.config import FollowupConfig
from vitalgate.followup.escalation import Fired, fire_due
from vitalgate.followup.tasks import OpenedTask, act_on_alerts
from vitalgate.store.db import connect

log = structlog.get_logger(__name__)

# Touchpoints per firing transaction: keeps each transaction short; the loop repeats until done.
FIRE_BATCH = 200


@dataclass(slots=True)
class TickResult:
    now: datetime
    alerts: list[RaisedAlert] = field(default_factory=list)
    tasks: list[OpenedTask] = field(default_factory=list)
    fired: list[Fired] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {
            "alerts_opened": sum(a.action == "opened" for a in self.alerts),
            "alerts_resolved": sum(a.action == "resolved" for a in self.alerts),
            "tasks_opened": len(self.tasks),
            "touchpoints_fired": len(self.fired),
        }


async def tick(
    database_url: str,
    now: datetime,
    *,
    rules: RuleSet | None = None,
    followup: FollowupConfig | None = None,
    channels: dict[str, Channel] | None = None,
    evaluate: bool = True,
    patient_ids: Sequence[int] | None = None,
    on_event: Callable[[str, dict[str, Any]], None] | None = None,
) -> TickResult:
    """One scheduler pass at `now`: rules for all monitored patients (or these), then due touchpoints."""
    result = TickResult(now)
    conn = await connect(database_url)
    try:
        if evaluate:
            async with conn.transaction():
                if patient_ids is None:
                    result.alerts = await evaluate_all(conn, now=now, rules=rules)
                else:
                    result.alerts = await evaluate_patients(conn, patient_ids, now=now, rules=rules)
                result.tasks = await act_on_alerts(conn, result.alerts, now=now, on_event=on_event, followup=followup)
        while True:
            async with conn.transaction():
                fired = await fire_due(conn, now, channels=channels, limit=FIRE_BATCH, patient_ids=patient_ids)
            result.fired += fired
            if len(fired) < FIRE_BATCH:
                break
    finally:
        await conn.close()
    counts = result.counts()
    # A quiet tick (the common case, every minute) logs at debug level only.
    (log.info if any(counts.values()) else log.debug)("followup.tick", at=now.isoformat(), **counts)
    return result


async def run_scheduler(
    database_url: str,
    clock: Clock,
    *,
    interval_s: float = 60.0,
    evaluate_every: int = 15,
    stop: asyncio.Event | None = None,
    rules: RuleSet | None = None,
    channels: dict[str, Channel] | None = None,
) -> None:
    """Tick every interval_s; rules are evaluated every `evaluate_every` ticks (touchpoints each tick).

    A failed tick is logged and retried on the next interval, so a database restart does not stop
    the scheduler; touchpoints it missed are still due and fire then.
    """
    stop = stop or asyncio.Event()
    count = 0
    failing = False
    while not stop.is_set():
        try:
            await tick(database_url, clock.now(), rules=rules, channels=channels, evaluate=count % evaluate_every == 0)
            if failing:
                log.info("followup.scheduler_recovered")
                failing = False
        except OSError as exc:
            if not failing:
                log.error("followup.scheduler_failed", error=str(exc))
            failing = True
        except Exception as exc:  # psycopg.Error and friends: keep the loop alive, say so once
            if not failing:
                log.exception("followup.scheduler_failed", error=str(exc))
            failing = True
        count += 1
        await sleep_until_stopped(stop, interval_s)
