"""Escalation chains of alert tasks: plan the timed steps, fire due steps, refer to a doctor."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import psycopg
import structlog

from vitalgate.domain import CLOSED_TASK_STATUSES, ChannelKind, Role
from vitalgate.followup import consent_gate
from vitalgate.followup import quiet_hours as quiet
from vitalgate.followup.channels import Channel, Delivery, ledger_channels
from vitalgate.followup.config import EscalationChain
from vitalgate.store import tasks as task_store
from vitalgate.store import time_zones
from vitalgate.store import touchpoints as tp_store
from vitalgate.store.rows import DueTouchpoint
from vitalgate.store.touchpoints import PlannedTouchpoint

log = structlog.get_logger(__name__)

SCHEDULER_ACTOR = "system:scheduler"


def plan_escalation(chain: EscalationChain, start: datetime) -> list[PlannedTouchpoint]:
    """Absolute due times: each step's timer runs from the previous step's due time."""
    due, planned = start, []
    for index, step in enumerate(chain.steps):
        due = due + timedelta(minutes=step.after_minutes)
        planned.append(PlannedTouchpoint(index, step.name, step.channel, step.template, due))
    return planned


async def start_escalation(conn: psycopg.AsyncConnection, task_id: int, chain: EscalationChain, now: datetime) -> None:
    """Schedule the chain for a new task (idempotent per task)."""
    await tp_store.schedule(conn, task_id, plan_escalation(chain, now), now=now)
    await task_store.set_escalation(conn, task_id, chain=chain.id, step=None)
    await task_store.add_task_event(
        conn,
        task_id,
        now,
        "system",
        "escalation_scheduled",
        {"chain": chain.id, "steps": [s.name for s in chain.steps]},
    )


async def restart_escalation(
    conn: psycopg.AsyncConnection, task_id: int, chain: EscalationChain, now: datetime
) -> None:
    """The task became more severe: cancel its pending steps and run the new severity's chain from now."""
    await tp_store.cancel_pending(conn, now=now, reason="severity raised", task_id=task_id)
    offset = await tp_store.next_step_index(conn, task_id)
    steps = [replace(s, step_index=s.step_index + offset) for s in plan_escalation(chain, now)]
    await tp_store.schedule(conn, task_id, steps, now=now)
    await task_store.set_escalation(conn, task_id, chain=chain.id, step=None)
    await task_store.add_task_event(
        conn,
        task_id,
        now,
        "system",
        "escalation_scheduled",
        {"chain": chain.id, "steps": [s.name for s in chain.steps]},
    )


@dataclass(frozen=True, slots=True)
class Fired:
    touchpoint_id: int
    task_id: int
    patient_id: int
    channel: str
    step_name: str
    due_at: datetime
    fired_at: datetime
    sop_instance_id: int | None


async def fire_due(
    conn: psycopg.AsyncConnection,
    now: datetime,
    *,
    channels: dict[str, Channel] | None = None,
    task_id: int | None = None,
    patient_ids: Sequence[int] | None = None,
    limit: int = 500,
    quiet_hours: bool = True,
) -> list[Fired]:
    """Deliver every due step once; caller owns the transaction (delivery + fired_at commit together).

    `quiet_hours`: hold non-urgent patient contact during the patient's quiet hours (the scheduler);
    False when a person asked for the step now.
    """
    channels = channels or ledger_channels()
    fired: list[Fired] = []
    rows = await tp_store.claim_due(conn, now, limit=limit, task_id=task_id, patient_ids=patient_ids)
    clocks = await time_zones.patient_clocks(conn, sorted({r.patient_id for r in rows}))
    for row in rows:
        reason = _skip_reason(row)
        if reason:
            await tp_store.cancel(conn, row.id, now, reason)
            continue
        held = quiet.held_until(row.channel, row.task_severity, now, clocks[row.patient_id])
        if held is not None and quiet_hours:
            await hold_for_quiet_hours(conn, row, held, now)
            continue
        # Consent is checked before any contact, at the moment of firing: a withdrawal counts at once.
        gate = await consent_gate.check(conn, row.patient_id, row.channel, now)
        if gate.skip_reason:
            await skip_for_consent(conn, row, gate, now)
            continue
        delivery = Delivery(
            row.id,
            row.task_id,
            row.patient_id,
            row.channel,
            row.template,
            row.step_name,
            row.step_index,
            row.sop_instance_id,
            gate.medium,
            row.task_severity,
        )
        await channels[row.channel].deliver(conn, delivery, now)
        await tp_store.mark_fired(conn, row.id, now)
        if row.sop_instance_id is None:
            await task_store.set_escalation(conn, row.task_id, chain=None, step=row.step_index)
        if row.channel == ChannelKind.DOCTOR:
            await refer_to_doctor(conn, row.task_id, row.care_team_id, now)
        fired.append(
            Fired(
                row.id,
                row.task_id,
                row.patient_id,
                row.channel,
                row.step_name,
                row.due_at,
                now,
                row.sop_instance_id,
            )
        )
    return fired


async def hold_for_quiet_hours(
    conn: psycopg.AsyncConnection, row: DueTouchpoint, until: datetime, now: datetime
) -> None:
    """Not now: the patient's quiet hours. The step keeps its place and goes out at their morning."""
    await tp_store.defer(conn, row.id, until)
    await task_store.add_task_event(
        conn,
        row.task_id,
        now,
        SCHEDULER_ACTOR,
        "touchpoint_held",
        {"touchpoint_id": row.id, "step": row.step_name, "reason": "quiet hours", "until": until.isoformat()},
    )


async def skip_for_consent(
    conn: psycopg.AsyncConnection, row: DueTouchpoint, gate: consent_gate.Gate, now: datetime
) -> None:
    """Record the step as skipped (never delivered) with the consent reason, on the touchpoint and the task."""
    await tp_store.cancel(conn, row.id, now, f"skipped: {gate.skip_reason}")
    await task_store.add_task_event(
        conn,
        row.task_id,
        now,
        SCHEDULER_ACTOR,
        "touchpoint_skipped",
        {
            "touchpoint_id": row.id,
            "step": row.step_name,
            "channel": row.channel,
            "medium": gate.medium,
            "reason": gate.skip_reason,
        },
    )
    log.info("followup.touchpoint_skipped", touchpoint_id=row.id, channel=row.channel, medium=gate.medium)


def _skip_reason(row: DueTouchpoint) -> str | None:
    if row.task_status in CLOSED_TASK_STATUSES:
        return "task closed"
    if row.sop_status in ("cancelled", "completed"):
        return f"sop {row.sop_status}"
    if row.sop_status == "confirmed" and row.cancel_on_confirm:
        return "confirmed"
    return None


async def refer_to_doctor(conn: psycopg.AsyncConnection, task_id: int, care_team_id: int, now: datetime) -> None:
    """Hand the task to the least-loaded on-duty doctor of the patient's team (kept if none)."""
    doctor = await task_store.least_loaded_member(conn, care_team_id, roles=[Role.DOCTOR])
    if doctor is not None:
        await task_store.reassign(conn, task_id, doctor)
    else:
        log.warning("followup.no_doctor_on_duty", task_id=task_id, care_team_id=care_team_id)
    await task_store.add_task_event(conn, task_id, now, SCHEDULER_ACTOR, "referred_to_doctor", {"assignee_id": doctor})
