"""Staff alerts: a new urgent task reaches its assignee at once on their own channel, and the next
on-call person each time the task's due time passes without an acknowledgement.

Every alert is one delivery in the ledger (recipient kind staff, key
"staff-alert:{task}:{user}:{attempt}") carrying a single-purpose staff_ack link: opening it and
pressing the one button acknowledges the task (notify.replies applies the answer). The record of
who was alerted when (staff_alerts) decides who is next; a tick (`vitalgate oncall run`) catches
urgent tasks any producer opened and the re-notifications that fell due.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import psycopg
import structlog

from vitalgate.core.clock import Clock
from vitalgate.core.shutdown import sleep_until_stopped
from vitalgate.domain import LinkPurpose, Medium, RecipientKind, Severity, TaskStatus
from vitalgate.notify.links import issue_link
from vitalgate.notify.oncall.roster import on_call
from vitalgate.store import deliveries
from vitalgate.store import oncall as oncall_store
from vitalgate.store import tasks as task_store
from vitalgate.store.db import connect
from vitalgate.store.delivery_rows import DeliveryRequest
from vitalgate.store.rows import Task
from vitalgate.store.triage_rows import StaffAlert, StaffContact

log = structlog.get_logger(__name__)

TEMPLATE = "staff-urgent-task"
CHANNEL = "staff_alert"
ACTOR = "system:oncall"
# An acknowledge link outlives any shift it could be read in; after that the worklist is the way.
ACK_LINK_TTL = timedelta(hours=24)
# How far back the tick looks for urgent tasks nobody was alerted about (a scheduler down for a
# day should not page people about week-old tasks on restart).
CATCH_UP = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class TickResult:
    alerted: int
    renotified: int


def _reachable(person: StaffContact) -> bool:
    return bool(person.alert_medium and person.alert_address)


def _interval(task: Task) -> timedelta:
    """How long a person has to acknowledge before the next is called: the task's own due interval."""
    return max(task.due_at - task.created_at, timedelta(minutes=1))


async def _send(
    conn: psycopg.AsyncConnection,
    task: Task,
    person: StaffContact,
    *,
    attempt: int,
    renotify_at: datetime,
    now: datetime,
) -> StaffAlert | None:
    """Alert one person about one task (the caller commits); None if that attempt was already sent."""
    path = await issue_link(
        conn,
        LinkPurpose.STAFF_ACK,
        patient_id=task.patient_id,
        user_id=person.id,
        task_id=task.id,
        ttl=ACK_LINK_TTL,
        now=now,
    )
    delivery_id = None
    if _reachable(person):
        delivery_id = await deliveries.enqueue(
            conn,
            DeliveryRequest(
                idempotency_key=f"staff-alert:{task.id}:{person.id}:{attempt}",
                patient_id=task.patient_id,
                recipient_kind=RecipientKind.STAFF,
                recipient_id=person.id,
                channel=CHANNEL,
                medium=Medium(str(person.alert_medium)),
                template=TEMPLATE,
                # Ids and the link only: the patient's name and values stay behind the login.
                params={"link": path, "task_id": task.id, "attempt": attempt},
                locale=person.language or "en",
                urgent=True,
                task_id=task.id,
                not_before=now,
                address=person.alert_address,
            ),
            now=now,
        )
    alert_id = await oncall_store.record_alert(
        conn,
        task_id=task.id,
        attempt=attempt,
        user_id=person.id,
        delivery_id=delivery_id,
        link_path=path,
        notified_at=now,
        renotify_at=renotify_at,
    )
    if alert_id is None:
        return None
    detail = {"attempt": attempt, "user_id": person.id, "delivery_id": delivery_id, "reachable": _reachable(person)}
    await task_store.add_task_event(conn, task.id, now, ACTOR, "staff_alerted", detail)
    log.info("oncall.staff_alerted", task_id=task.id, attempt=attempt, user_id=person.id, delivery_id=delivery_id)
    return StaffAlert(alert_id, task.id, attempt, person.id, delivery_id, path, now, renotify_at)


def _first_reachable(candidates: list[StaffContact]) -> StaffContact | None:
    """The first candidate with a channel; the first at all when nobody has one (the alert is still
    recorded, so the re-notification clock runs and the worklist shows who was meant)."""
    return next((c for c in candidates if _reachable(c)), candidates[0] if candidates else None)


async def alert_new_urgent_task(conn: psycopg.AsyncConnection, task_id: int, now: datetime) -> StaffAlert | None:
    """Attempt 1 for an urgent open task: its assignee (or, without a channel, the first reachable
    on-call person). None when the task is not urgent and open, or was alerted already."""
    task = await task_store.get_task(conn, task_id)
    if task is None or task.severity != Severity.URGENT or task.status != TaskStatus.OPEN:
        return None
    staff = {s.id: s for s in await oncall_store.team_staff(conn, task.care_team_id)}
    candidates = [staff[task.assignee_id]] if task.assignee_id in staff else []
    candidates += [p for p in await on_call(conn, task.care_team_id, now) if p.id != task.assignee_id]
    person = _first_reachable(candidates)
    if person is None:
        log.warning("oncall.nobody_to_alert", task_id=task.id, care_team_id=task.care_team_id)
        return None
    return await _send(conn, task, person, attempt=1, renotify_at=task.due_at, now=now)


def next_person(on_call_now: list[StaffContact], notified: list[int]) -> StaffContact | None:
    """The next on-call person: the first not alerted yet for this task, else (everyone was) the one
    alerted longest ago, but never the person alerted last time when someone else is on call."""
    fresh = [p for p in on_call_now if p.id not in notified]
    if fresh:
        return _first_reachable(fresh)
    if not on_call_now:
        return None
    last_alerted = {user: i for i, user in enumerate(notified)}
    others = [p for p in on_call_now if not notified or p.id != notified[-1]] or on_call_now
    return min(others, key=lambda p: last_alerted.get(p.id, -1))


async def renotify_due(
    conn: psycopg.AsyncConnection, now: datetime, *, care_team_ids: Sequence[int] | None = None
) -> int:
    """Alert the next on-call person for every urgent task whose last alert went unacknowledged."""
    sent = 0
    for due in await oncall_store.due_renotifications(conn, now, care_team_ids=care_team_ids):
        task = await task_store.get_task(conn, due.task_id)
        if task is None:
            continue
        person = next_person(await on_call(conn, due.care_team_id, now), due.notified_user_ids)
        if person is None:
            log.warning("oncall.nobody_on_call", task_id=due.task_id, care_team_id=due.care_team_id)
            continue
        alert = await _send(conn, task, person, attempt=due.attempt + 1, renotify_at=now + _interval(task), now=now)
        sent += alert is not None
    return sent


async def tick(database_url: str, now: datetime, *, care_team_ids: Sequence[int] | None = None) -> TickResult:
    """One pass (over some teams, or all): alert new urgent tasks nobody was told about, then the
    re-notifications due."""
    async with await connect(database_url) as conn:
        alerted = 0
        pending = await oncall_store.urgent_tasks_without_alert(conn, since=now - CATCH_UP, care_team_ids=care_team_ids)
        for task_id in pending:
            alerted += await alert_new_urgent_task(conn, task_id, now) is not None
            await conn.commit()  # one task's alert never waits on, or fails with, another's
        renotified = await renotify_due(conn, now, care_team_ids=care_team_ids)
        await conn.commit()
    return TickResult(alerted, renotified)


async def run(database_url: str, clock: Clock, *, interval_s: float = 15.0, stop: asyncio.Event | None = None) -> None:
    """Tick every interval_s until stopped; a failed tick is logged and retried on the next."""
    stop = stop or asyncio.Event()
    while not stop.is_set():
        try:
            await tick(database_url, clock.now())
        except Exception as exc:  # psycopg.Error, OSError: keep alerting through a database restart
            log.exception("oncall.tick_failed", error=str(exc))
        await sleep_until_stopped(stop, interval_s)
