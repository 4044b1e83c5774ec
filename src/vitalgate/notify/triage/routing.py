"""Route a triaged message to the person who should answer it, and let staff re-route it.

urgent -> an urgent task for the on-call nurse (and a staff alert at once); medication -> the
doctor's queue; device and logistics -> the coordinator; education -> the coordinator with a
suggested answer from the script library for one-click send. A message the classifier is unsure
of goes to the coordinator whatever its category. Every re-route is kept as a labelled example.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

import psycopg

from vitalgate.domain import ACTIVE_TASK_STATUSES, Role, Severity
from vitalgate.followup.tasks import DUE_BY_SEVERITY
from vitalgate.notify.oncall.alerts import alert_new_urgent_task
from vitalgate.notify.oncall.roster import assignee_for
from vitalgate.notify.triage.category import TriageCategory, TriageResult
from vitalgate.notify.triage.classifier import classify
from vitalgate.notify.triage.scripts import suggest
from vitalgate.store import people
from vitalgate.store import tasks as task_store
from vitalgate.store import triage as triage_store
from vitalgate.store.triage_rows import NewTriage

TASK_KIND = "message"
ACTOR = "system:triage"
# Who answers each category, and how fast (followup.tasks.DUE_BY_SEVERITY: 15 min, 4 h, 2 days).
ROUTES: dict[TriageCategory, tuple[Role, Severity]] = {
    TriageCategory.URGENT_CLINICAL: (Role.NURSE, Severity.URGENT),
    TriageCategory.MEDICATION: (Role.DOCTOR, Severity.HIGH),
    TriageCategory.DEVICE: (Role.COORDINATOR, Severity.ROUTINE),
    TriageCategory.LOGISTICS: (Role.COORDINATOR, Severity.ROUTINE),
    TriageCategory.EDUCATION: (Role.COORDINATOR, Severity.ROUTINE),
}
TITLES = {
    TriageCategory.URGENT_CLINICAL: "Patient message: urgent symptoms",
    TriageCategory.MEDICATION: "Patient message: medication question",
    TriageCategory.DEVICE: "Patient message: device or app problem",
    TriageCategory.LOGISTICS: "Patient message: appointment or logistics",
    TriageCategory.EDUCATION: "Patient message: question (suggested answer ready)",
}
_CJK = re.compile(r"[\u3400-\u9fff]")


@dataclass(frozen=True, slots=True)
class RoutingDecision:
    triage_id: int
    category: TriageCategory
    confidence: float
    needs_person: bool
    routed_to: Role
    task_id: int | None
    opened_task: bool
    assignee_id: int | None
    suggested_script_id: int | None
    duplicate: bool = False


def language_of(text: str) -> str:
    return "zh-Hans" if _CJK.search(text) else "en"


def route_of(result: TriageResult) -> tuple[Role, Severity]:
    """Where a classification goes: an unsure non-urgent one goes to the coordinator to decide."""
    role, severity = ROUTES[result.category]
    if result.needs_person and result.category != TriageCategory.URGENT_CLINICAL:
        return Role.COORDINATOR, severity
    return role, severity


async def _task_for(
    conn: psycopg.AsyncConnection,
    *,
    patient_id: int,
    category: TriageCategory,
    role: Role,
    severity: Severity,
    now: datetime,
    detail: dict[str, object],
) -> tuple[int, bool, int | None]:
    """Add the message to the patient's open task of this route, or open one; (task, opened, assignee)."""
    existing = await triage_store.open_task_for_route(conn, patient_id, str(role))
    if existing is not None:
        await task_store.add_task_event(conn, existing, now, ACTOR, "message", detail)
        task = await task_store.get_task(conn, existing)
        return existing, False, task.assignee_id if task else None
    facts = await people.patient_team_and_tags(conn, patient_id)
    if facts is None:
        raise LookupError(f"patient {patient_id} does not exist")
    team = facts[0]
    assignee = await assignee_for(conn, team, now, role, urgent=severity == Severity.URGENT)
    task_id = await task_store.create_task(
        conn,
        patient_id=patient_id,
        care_team_id=team,
        assignee_id=assignee,
        severity=severity,
        title=TITLES[category],
        due_at=now + DUE_BY_SEVERITY[severity],
        now=now,
        kind=TASK_KIND,
    )
    await task_store.add_task_event(conn, task_id, now, ACTOR, "message", detail)
    return task_id, True, assignee


async def route_message(
    conn: psycopg.AsyncConnection,
    *,
    patient_id: int,
    text: str,
    received_at: datetime,
    inbound_message_id: int | None,
    now: datetime | None = None,
    alert_staff: bool = True,
) -> RoutingDecision:
    """Classify one free-text message and open or update the right task (the caller commits).

    A new urgent task alerts its assignee at once (notify.oncall.alerts). The same inbound message
    routed twice returns its first decision (duplicate=True).
    """
    now = now or received_at
    if inbound_message_id is not None:
        earlier = await triage_store.by_message(conn, inbound_message_id)
        if earlier is not None:
            return RoutingDecision(
                earlier.id, TriageCategory(earlier.category), earlier.confidence, earlier.needs_person,
                Role(earlier.routed_to), earlier.task_id, False, None, earlier.suggested_script_id, duplicate=True,
            )  # fmt: skip
    result = classify(text)
    role, severity = route_of(result)
    script = await suggest(conn, text, result.category) if result.category == TriageCategory.EDUCATION else None
    detail: dict[str, object] = {
        "category": str(result.category),
        "confidence": result.confidence,
        "needs_person": result.needs_person,
        "inbound_message_id": inbound_message_id,
        "suggested_script_id": script.id if script else None,
    }
    task_id, opened, assignee = await _task_for(
        conn, patient_id=patient_id, category=result.category, role=role, severity=severity, now=now, detail=detail
    )
    triage_id = await triage_store.record(
        conn,
        NewTriage(
            patient_id=patient_id,
            inbound_message_id=inbound_message_id,
            body=text[:4000],
            language=language_of(text),
            category=str(result.category),
            confidence=result.confidence,
            needs_person=result.needs_person,
            evidence=list(result.evidence),
            routed_to=str(role),
            task_id=task_id,
            suggested_script_id=script.id if script else None,
            received_at=received_at,
        ),
        now=now,
    )
    assert triage_id is not None  # a duplicate message returned above
    if opened and severity == Severity.URGENT and alert_staff:
        await alert_new_urgent_task(conn, task_id, now)
    return RoutingDecision(
        triage_id, result.category, result.confidence, result.needs_person, role, task_id, opened, assignee,
        script.id if script else None,
    )  # fmt: skip


class RerouteError(LookupError):
    """The triaged message does not exist."""


async def reroute(
    conn: psycopg.AsyncConnection,
    triage_id: int,
    to: TriageCategory,
    *,
    user_id: int | None,
    actor: str,
    now: datetime,
    note: str | None = None,
    alert_staff: bool = True,
) -> RoutingDecision:
    """Staff move a message to another category: its task follows (queue, severity, assignee) and the
    correction is recorded as labelled feedback, even when the category does not change the queue."""
    record = await triage_store.get(conn, triage_id, for_update=True)
    if record is None:
        raise RerouteError(triage_id)
    from_category = TriageCategory(record.route_category)
    await triage_store.add_feedback(
        conn, triage_id, from_category=str(from_category), to_category=str(to), user_id=user_id, note=note, at=now
    )
    role, severity = ROUTES[to]
    task = await task_store.get_task(conn, record.task_id) if record.task_id is not None else None
    detail = {"from": str(from_category), "to": str(to), "triage_id": triage_id}
    opened = False
    if task is not None and task.status in ACTIVE_TASK_STATUSES:
        assignee = await assignee_for(conn, task.care_team_id, now, role, urgent=severity == Severity.URGENT)
        await triage_store.retarget_task(
            conn, task.id, severity=severity, due_at=now + DUE_BY_SEVERITY[severity], assignee_id=assignee,
            title=TITLES[to],
        )  # fmt: skip
        await task_store.add_task_event(conn, task.id, now, actor, "rerouted", {**detail, "assignee_id": assignee})
        task_id: int | None = task.id
    else:
        task_id, opened, assignee = await _task_for(
            conn, patient_id=record.patient_id, category=to, role=role, severity=severity, now=now, detail=detail
        )
    await triage_store.set_route(conn, triage_id, category=str(to), routed_to=str(role), task_id=task_id)
    if severity == Severity.URGENT and from_category != to and task_id is not None and alert_staff:
        await alert_new_urgent_task(conn, task_id, now)
    return RoutingDecision(triage_id, to, 1.0, False, role, task_id, opened, assignee, record.suggested_script_id)
