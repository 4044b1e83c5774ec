"""SOP reminder chains (not driven by readings): schedule around an anchor, confirm, cancel."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import psycopg

from vitalgate.core.localtime import ZoneHistory, wall_clock_on
from vitalgate.followup.config import FollowupConfig, SopStep, default_followup
from vitalgate.store import people, time_zones
from vitalgate.store import sop as sop_store
from vitalgate.store import tasks as task_store
from vitalgate.store import touchpoints as tp_store
from vitalgate.store.touchpoints import PlannedTouchpoint


def step_due(step: SopStep, anchor_at: datetime, zones: ZoneHistory) -> datetime:
    """The instant a step is due: local wall-clock time on a local date, or elapsed hours from the anchor."""
    if step.at_local is not None and step.day_offset is not None:
        return wall_clock_on(anchor_at, step.day_offset, step.at_local, zones)
    assert step.offset_hours is not None
    return anchor_at + timedelta(hours=step.offset_hours)


@dataclass(frozen=True, slots=True)
class ScheduledSop:
    instance_id: int
    task_id: int
    chain_id: str
    created: bool


async def schedule_sop(
    conn: psycopg.AsyncConnection,
    *,
    patient_id: int,
    anchor_at: datetime,
    now: datetime,
    purpose: str = "visit",
    chain_id: str | None = None,
    followup: FollowupConfig | None = None,
) -> ScheduledSop:
    """Schedule a chain for one anchor (e.g. a visit); the chain is chosen by the patient's segment.

    Idempotent for (patient, chain, anchor). Steps already in the past at scheduling time are
    recorded as cancelled rather than fired late (a T-7 reminder sent at T-1 misleads).
    """
    patient = await people.get_patient(conn, patient_id)
    if patient is None:
        raise LookupError(f"patient {patient_id} does not exist")
    chain = (followup or default_followup()).sop_chain(purpose, list(patient.tags or []), chain_id)
    instance_id, created = await sop_store.create_instance(
        conn, patient_id=patient_id, chain_id=chain.id, anchor_at=anchor_at, now=now
    )
    if not created:
        existing = await sop_store.get_instance(conn, instance_id)
        assert existing is not None and existing["task_id"] is not None
        return ScheduledSop(instance_id, int(existing["task_id"]), chain.id, False)
    zones = (await time_zones.zone_histories(conn, [patient_id]))[patient_id]
    dues = [step_due(step, anchor_at, zones) for step in chain.steps]
    last_due = max(dues)
    assignee = await task_store.least_loaded_member(conn, int(patient.care_team_id))
    task_id = await task_store.create_task(
        conn,
        patient_id=patient_id,
        care_team_id=int(patient.care_team_id),
        assignee_id=assignee,
        severity="routine",
        # No time in the title: pages show the anchor and due times in the patient's (and viewer's) zone.
        title=f"{purpose.capitalize()}: reminders and check",
        due_at=max(last_due, now),
        now=now,
        kind="sop",
    )
    await sop_store.attach_task(conn, instance_id, task_id)
    planned = []
    for index, (step, due) in enumerate(zip(chain.steps, dues, strict=True)):
        planned.append(
            PlannedTouchpoint(
                index,
                step.name,
                step.channel,
                step.template,
                due,
                step.cancel_on_confirm,
                "in the past when scheduled" if due < now else None,
            )
        )
    await tp_store.schedule(conn, task_id, planned, now=now, sop_instance_id=instance_id)
    await task_store.add_task_event(
        conn,
        task_id,
        now,
        "system",
        "sop_scheduled",
        {"instance_id": instance_id, "chain": chain.id, "anchor_at": anchor_at.isoformat()},
    )
    return ScheduledSop(instance_id, task_id, chain.id, True)


async def confirm_sop(conn: psycopg.AsyncConnection, instance_id: int, *, now: datetime, actor: str = "patient") -> int:
    """The patient confirmed: cancel the remaining reminder steps; returns how many were cancelled."""
    instance = await sop_store.get_instance(conn, instance_id, for_update=True)
    if instance is None:
        raise LookupError(f"SOP instance {instance_id} does not exist")
    if instance["status"] != "scheduled":
        return 0
    await sop_store.set_status(conn, instance_id, "confirmed", now)
    cancelled = await tp_store.cancel_pending(
        conn, now=now, reason="confirmed", sop_instance_id=instance_id, only_cancel_on_confirm=True
    )
    await task_store.add_task_event(
        conn,
        instance["task_id"],
        now,
        actor,
        "sop_confirmed",
        {"instance_id": instance_id, "cancelled_steps": cancelled},
    )
    return cancelled


async def cancel_sop(conn: psycopg.AsyncConnection, instance_id: int, *, now: datetime, actor: str) -> int:
    """The visit is off: cancel every pending step and the task."""
    instance = await sop_store.get_instance(conn, instance_id, for_update=True)
    if instance is None:
        raise LookupError(f"SOP instance {instance_id} does not exist")
    await sop_store.set_status(conn, instance_id, "cancelled", now)
    cancelled = await tp_store.cancel_pending(conn, now=now, reason="sop cancelled", sop_instance_id=instance_id)
    await task_store.close_task(conn, instance["task_id"], outcome="cancelled", now=now, status="cancelled")
    await task_store.add_task_event(
        conn, instance["task_id"], now, actor, "sop_cancelled", {"instance_id": instance_id}
    )
    return cancelled
