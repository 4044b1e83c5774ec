"""What a reply does (issue 15 item 5): answer the touchpoint, stop or keep the chain, confirm, opt out.

- A reply to a non-urgent task stops its automated chain (touchpoints and queued messages) and
  flags the task "patient responded"; a reply to an urgent task is flagged and shown, and the chain
  keeps running until staff act (followup.actions.note_patient_reply).
- A visit confirmation (link "confirm", SMS YES / 确认) confirms the SOP instance: its remaining
  reminders and their queued messages are cancelled; steps without cancel_on_confirm (the T+2
  check) still run.
- STOP / 退订 withdraws the patient's SMS contact consent (a consent record; consent is checked
  before any contact, so no SMS follows) or sets the caregiver's SMS opt-out; START / 订阅 undoes it.
Callers own the transaction: the message, the link answer and these effects commit together.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

import psycopg

from vitalgate.domain import CLOSED_TASK_STATUSES, LinkAnswer, LinkPurpose, Severity
from vitalgate.followup import actions
from vitalgate.followup.silence import cancel_queued
from vitalgate.followup.sop import confirm_sop
from vitalgate.notify.keywords import Keyword
from vitalgate.notify.links import LinkGrant
from vitalgate.store import consent
from vitalgate.store import messages as message_store
from vitalgate.store import tasks as task_store
from vitalgate.store import users as user_store
from vitalgate.store.record_vocab import ConsentDecision, ConsentPurpose, ContactChannel

KEYWORD_CONSENT_TEXT = "sms-keyword-v1"  # the consent record's text_version for a STOP / START reply


class Effect(StrEnum):
    CHAIN_STOPPED = "chain_stopped"  # non-urgent task: responded, automated chain cancelled
    SHOWN = "shown"  # urgent task: responded, chain continues until staff act
    VISIT_CONFIRMED = "visit_confirmed"
    MOVE_REQUESTED = "move_requested"
    OPTED_OUT = "opted_out"
    OPTED_IN = "opted_in"
    ACKNOWLEDGED = "acknowledged"
    NO_TASK = "no_task"  # nothing open to answer: the message waits in the conversation
    HELD = "held"  # matched nobody: the review queue


async def respond(
    conn: psycopg.AsyncConnection, task_id: int, *, channel: str, now: datetime, detail: dict[str, Any]
) -> Effect:
    """The patient answered the task's touchpoint: urgent -> shown, otherwise the chain stops."""
    task = await task_store.get_task(conn, task_id, for_update=True)
    if task is None or task.status in CLOSED_TASK_STATUSES:
        return Effect.NO_TASK
    if task.severity == Severity.URGENT:
        await actions.note_patient_reply(conn, task_id, channel=channel, now=now, detail=detail)
        return Effect.SHOWN
    await actions.record_patient_response(conn, task_id, channel=channel, now=now, detail=detail)
    return Effect.CHAIN_STOPPED


async def confirm_visit(
    conn: psycopg.AsyncConnection, sop_instance_id: int, task_id: int | None, *, actor: str, channel: str, now: datetime
) -> Effect:
    """Confirm the visit: remaining reminders (touchpoints and queued messages) cancelled, T+2 check kept."""
    cancelled = await confirm_sop(conn, sop_instance_id, now=now, actor=actor)
    messages = await cancel_queued(conn, reason="visit confirmed", now=now, sop_instance_id=sop_instance_id)
    if task_id is not None:
        await task_store.mark_patient_responded(conn, task_id, now)
        await task_store.add_task_event(
            conn,
            task_id,
            now,
            actor,
            "visit_confirmed",
            {"channel": channel, "cancelled_steps": cancelled, "cancelled_messages": messages},
        )
    return Effect.VISIT_CONFIRMED


def _actor(caregiver_id: int | None) -> str:
    return "patient" if caregiver_id is None else f"caregiver:{caregiver_id}"


async def apply_link_answer(conn: psycopg.AsyncConnection, grant: LinkGrant, *, now: datetime) -> Effect:
    """Do what a just-recorded link answer means."""
    assert grant.answer is not None
    detail = {"answer": str(grant.answer), "link_id": grant.link_id}
    if grant.purpose == LinkPurpose.STAFF_ACK and grant.task_id is not None:
        user = await user_store.get_user(conn, grant.user_id) if grant.user_id is not None else None
        actor = user.username if user is not None else f"link:{grant.link_id}"
        try:
            await actions.acknowledge_task(conn, grant.task_id, actor=actor, now=now)
        except actions.TaskStateError:
            pass  # someone took it first, or it closed: the link's answer is still recorded
        return Effect.ACKNOWLEDGED
    if grant.answer == LinkAnswer.CONFIRM and grant.sop_instance_id is not None:
        return await confirm_visit(
            conn, grant.sop_instance_id, grant.task_id, actor=_actor(grant.caregiver_id), channel="link", now=now
        )
    if grant.task_id is None:
        return Effect.NO_TASK
    effect = await respond(conn, grant.task_id, channel="link", now=now, detail=detail)
    return Effect.MOVE_REQUESTED if grant.answer == LinkAnswer.MOVE and effect != Effect.NO_TASK else effect


async def apply_keyword(
    conn: psycopg.AsyncConnection,
    keyword: Keyword,
    *,
    patient_id: int,
    caregiver_id: int | None,
    medium: str,
    now: datetime,
) -> tuple[Effect, int | None]:
    """Do what a keyword reply means; returns the effect and the task it answered (if any)."""
    if keyword in (Keyword.OPT_OUT, Keyword.OPT_IN):
        await _set_sms_consent(conn, patient_id, caregiver_id, opt_in=keyword == Keyword.OPT_IN, now=now)
        return (Effect.OPTED_IN if keyword == Keyword.OPT_IN else Effect.OPTED_OUT), None
    target = await message_store.reply_target(conn, patient_id)
    if target is None:
        return Effect.NO_TASK, None
    visit_pending = target.sop_instance_id is not None and target.sop_status == "scheduled"
    if keyword == Keyword.CONFIRM and visit_pending:
        assert target.sop_instance_id is not None
        effect = await confirm_visit(
            conn, target.sop_instance_id, target.task_id, actor=_actor(caregiver_id), channel=medium, now=now
        )
        return effect, target.task_id
    detail = {"keyword": str(keyword), "by": _actor(caregiver_id)}
    effect = await respond(conn, target.task_id, channel=medium, now=now, detail=detail)
    if keyword == Keyword.DECLINE and visit_pending and effect != Effect.NO_TASK:
        effect = Effect.MOVE_REQUESTED
    return effect, target.task_id


async def _set_sms_consent(
    conn: psycopg.AsyncConnection, patient_id: int, caregiver_id: int | None, *, opt_in: bool, now: datetime
) -> None:
    if caregiver_id is not None:
        await message_store.set_caregiver_sms_opt_out(conn, caregiver_id, None if opt_in else now)
        return
    await consent.record(
        conn,
        patient_id,
        consent.NewConsent(
            purpose=ConsentPurpose.CONTACT,
            decision=ConsentDecision.GIVEN if opt_in else ConsentDecision.WITHDRAWN,
            text_version=KEYWORD_CONSENT_TEXT,
            effective_at=now,
            given_by="patient",
            recorded_by="sms:keyword",
            channel=ContactChannel.SMS,
        ),
    )
