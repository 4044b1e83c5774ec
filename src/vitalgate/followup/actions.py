"""What a person does with a task (the API calls these): acknowledge, record an outcome, escalate.

Every call is one state change plus a task event naming the actor and the time; callers own
the transaction. A call returns a TaskChange or raises a TaskStateError subclass (the API maps
each to its HTTP status in api/errors.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import psycopg

from vitalgate.domain import CLOSED_TASK_STATUSES, CLOSING_OUTCOMES, ChannelKind, Outcome, TaskStatus
from vitalgate.followup.channels import Channel
from vitalgate.followup.escalation import Fired, fire_due
from vitalgate.followup.silence import ACK_REASON, silence_task
from vitalgate.i18n import Msg
from vitalgate.store import alerts as alert_store
from vitalgate.store import tasks as task_store
from vitalgate.store import touchpoints as tp_store
from vitalgate.store.rows import Task

OUTCOMES: tuple[str, ...] = tuple(o.value for o in Outcome)


class TaskStateError(ValueError):
    """The task cannot take this action in its current state (base of the errors below)."""

    def __init__(self, task_id: int, message: Msg) -> None:
        super().__init__(str(message))
        self.task_id = task_id
        self.message = message  # shown translated on pages (vitalgate.i18n)


class TaskNotFound(TaskStateError):
    """The task does not exist."""

    def __init__(self, task_id: int) -> None:
        super().__init__(task_id, Msg("task {task_id} does not exist", task_id=task_id))


class TaskClosed(TaskStateError):
    """The task is done or cancelled: nothing can be recorded on it any more."""

    def __init__(self, task_id: int, status: str) -> None:
        closed = Msg("task {task_id} is done", task_id=task_id) if status == TaskStatus.DONE else None
        super().__init__(task_id, closed or Msg("task {task_id} is cancelled", task_id=task_id))
        self.status = status


class TaskNotOpen(TaskStateError):
    """Acknowledging a task someone already took (it is in progress)."""

    def __init__(self, task_id: int) -> None:
        super().__init__(task_id, Msg("task {task_id} is not open", task_id=task_id))


class NoPendingStep(TaskStateError):
    """Escalating a task whose chain has no step left to deliver."""

    def __init__(self, task_id: int) -> None:
        super().__init__(task_id, Msg("task {task_id} is without a pending escalation step", task_id=task_id))


@dataclass(frozen=True, slots=True)
class TaskChange:
    """What an action did: the task's status afterwards and the touchpoints it delivered now."""

    task_id: int
    status: TaskStatus
    fired: tuple[Fired, ...] = ()


async def _open_task(conn: psycopg.AsyncConnection, task_id: int) -> Task:
    task = await task_store.get_task(conn, task_id, for_update=True)
    if task is None:
        raise TaskNotFound(task_id)
    if task.status in CLOSED_TASK_STATUSES:
        raise TaskClosed(task_id, task.status)
    return task


async def acknowledge_task(
    conn: psycopg.AsyncConnection, task_id: int, *, actor: str, now: datetime, actor_id: int | None = None
) -> TaskChange:
    """A person takes the task: open -> in_progress, its alert open -> acknowledged, and (given
    `actor_id`) the task is assigned to them — "acknowledged: it is yours now" is then true.

    One acknowledgement silences every channel: the task's unfired touchpoints and its queued
    messages are cancelled (a "not reached" outcome later re-arms the chain, see record_outcome).
    Raises TaskNotOpen if someone already took it, TaskClosed / TaskNotFound as every action does.
    """
    task = await _open_task(conn, task_id)
    if task.status != TaskStatus.OPEN:
        raise TaskNotOpen(task_id)
    await task_store.mark_acknowledged(conn, task_id, now)
    if actor_id is not None and task.assignee_id != actor_id:
        await task_store.reassign(conn, task_id, actor_id)
    if task.alert_id is not None:
        await alert_store.acknowledge_alert(conn, task.alert_id, now, by=actor)
    silenced = await silence_task(conn, task_id, now=now, reason=ACK_REASON)
    detail: dict[str, object] = {"cancelled_steps": silenced.touchpoints, "cancelled_messages": silenced.deliveries}
    if actor_id is not None:
        detail |= {"assignee_id": actor_id, "previous_assignee_id": task.assignee_id}
    await task_store.add_task_event(conn, task_id, now, actor, "acknowledged", detail)
    return TaskChange(task_id, TaskStatus.IN_PROGRESS)


async def escalate_task(
    conn: psycopg.AsyncConnection,
    task_id: int,
    *,
    actor: str,
    now: datetime,
    channels: dict[str, Channel] | None = None,
) -> TaskChange:
    """A person delivers the next escalation step now; raises NoPendingStep when none is left."""
    fired = await advance_escalation(conn, task_id, actor=actor, now=now, channels=channels)
    if not fired:
        raise NoPendingStep(task_id)
    task = await task_store.get_task(conn, task_id)
    assert task is not None  # locked by advance_escalation
    return TaskChange(task_id, TaskStatus(task.status), tuple(fired))


async def advance_escalation(
    conn: psycopg.AsyncConnection,
    task_id: int,
    *,
    actor: str,
    now: datetime,
    channels: dict[str, Channel] | None = None,
    channel: str | None = None,
) -> list[Fired]:
    """Deliver the next pending step now (or the next step of `channel`); later timers keep their gaps.

    A person asking for the next step (escalate, "not reached") re-arms the steps their
    acknowledgement silenced: the chain resumes from now.
    """
    await _open_task(conn, task_id)
    await tp_store.rearm(conn, task_id, reason=ACK_REASON)
    touchpoint = await tp_store.pull_forward(conn, task_id, now, channel=channel)
    await task_store.add_task_event(
        conn, task_id, now, actor, "escalation_advanced", {"touchpoint_id": touchpoint, "channel": channel}
    )
    if touchpoint is None:
        return []
    # A person chose "now": the patient's quiet hours are theirs to weigh (the page shows local time).
    return await fire_due(conn, now, channels=channels, task_id=task_id, limit=1, quiet_hours=False)


async def record_outcome(
    conn: psycopg.AsyncConnection,
    task_id: int,
    outcome: Outcome,
    *,
    actor: str,
    now: datetime,
    note: str | None = None,
    channels: dict[str, Channel] | None = None,
) -> TaskChange:
    """Apply an outcome; returns the task status afterwards and what was delivered now.

    reached / resolved / emergency close the task and mark its episodes handled (resolved);
    not_reached delivers the next touchpoint now; referred_to_doctor jumps to the doctor step.
    """
    if outcome not in OUTCOMES:
        raise ValueError(f"unknown outcome {outcome!r}; expected one of {OUTCOMES}")
    task = await _open_task(conn, task_id)
    await task_store.add_task_event(conn, task_id, now, actor, "outcome", {"outcome": outcome, "note": note})
    if outcome in CLOSING_OUTCOMES:
        await tp_store.cancel_pending(conn, now=now, reason=f"outcome {outcome}", task_id=task_id)
        await task_store.close_task(conn, task_id, outcome=outcome, now=now)
        # The team handled the event: its episode (and any added to the task) closes, so the next
        # breaching reading is a new event with a new task (alerts/README.md, "Episodes").
        await alert_store.resolve_task_episodes(conn, task_id, task.alert_id, now, by=actor)
        await task_store.add_task_event(conn, task_id, now, actor, "closed", {"outcome": outcome})
        return TaskChange(task_id, TaskStatus.DONE)
    await task_store.set_outcome(conn, task_id, outcome)
    await task_store.mark_acknowledged(conn, task_id, now)
    if outcome == Outcome.NOT_REACHED:
        fired = await advance_escalation(conn, task_id, actor=actor, now=now, channels=channels)
        if not fired:
            await task_store.add_task_event(conn, task_id, now, "system", "escalation_exhausted", {})
        return TaskChange(task_id, TaskStatus.IN_PROGRESS, tuple(fired))
    # referred_to_doctor: skip the remaining patient touchpoints, deliver the doctor step now
    # (re-armed first, so a step silenced by an acknowledgement is skipped here, not revived).
    await tp_store.rearm(conn, task_id, reason=ACK_REASON)
    await tp_store.cancel_pending(
        conn, now=now, reason="referred to doctor", task_id=task_id, except_channel=ChannelKind.DOCTOR
    )
    fired = await advance_escalation(conn, task_id, actor=actor, now=now, channels=channels, channel=ChannelKind.DOCTOR)
    if not fired:  # the chain has no doctor step: hand over directly
        from vitalgate.followup.escalation import refer_to_doctor

        await refer_to_doctor(conn, task_id, task.care_team_id, now)
    return TaskChange(task_id, TaskStatus.IN_PROGRESS, tuple(fired))


async def note_patient_reply(
    conn: psycopg.AsyncConnection, task_id: int, *, channel: str, now: datetime, detail: dict | None = None
) -> None:
    """The patient answered an urgent task: shown on the task, the chain keeps running until staff act."""
    await _open_task(conn, task_id)
    await task_store.mark_patient_responded(conn, task_id, now)
    await task_store.add_task_event(
        conn, task_id, now, "patient", "patient_replied", {"channel": channel, **(detail or {})}
    )


async def record_patient_response(
    conn: psycopg.AsyncConnection, task_id: int, *, channel: str, now: datetime, detail: dict | None = None
) -> None:
    """The patient answered a touchpoint: stop automatic escalation, leave the task for review."""
    await _open_task(conn, task_id)
    await task_store.mark_patient_responded(conn, task_id, now)
    silenced = await silence_task(conn, task_id, now=now, reason="patient responded")
    await task_store.add_task_event(
        conn,
        task_id,
        now,
        "patient",
        "patient_responded",
        {
            "channel": channel,
            "cancelled_steps": silenced.touchpoints,
            "cancelled_messages": silenced.deliveries,
            **(detail or {}),
        },
    )
