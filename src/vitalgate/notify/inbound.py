"""Inbound messages: an SMS (from the provider webhook) or an inbox reply becomes a conversation entry
and, through notify.replies, an effect; free text is also routed by triage (notify.triage).

An SMS is matched by its sender's number to exactly one patient or caregiver (store.messages
match_phone); none or several: the message is held for review and does nothing else. A provider's
retry (same provider + message id) is recognised and ignored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import psycopg
import structlog

from vitalgate.notify import replies
from vitalgate.notify.keywords import Keyword, keyword_of
from vitalgate.notify.replies import Effect
from vitalgate.notify.triage import route_message
from vitalgate.store import messages as message_store
from vitalgate.store.messages import NewMessage

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class InboundSms:
    """Provider-agnostic fields of one received SMS."""

    provider: str
    provider_message_id: str
    from_number: str
    text: str
    received_at: datetime
    to_number: str | None = None


@dataclass(frozen=True, slots=True)
class InboundResult:
    message_id: int | None  # None: a duplicate delivery of a message already received
    patient_id: int | None
    caregiver_id: int | None
    keyword: Keyword | None
    effect: Effect | None
    task_id: int | None
    routed_task_id: int | None = None  # free text: the task triage opened or added it to


async def receive_sms(conn: psycopg.AsyncConnection, sms: InboundSms, *, now: datetime) -> InboundResult:
    """Store, match and act on one inbound SMS (caller commits)."""
    matches = await message_store.match_phone(conn, sms.from_number)
    match = matches[0] if len(matches) == 1 else None
    message_id = await message_store.insert(
        conn,
        NewMessage(
            direction="inbound",
            medium="sms",
            body=sms.text[:2000],
            created_at=sms.received_at,
            patient_id=match.patient_id if match else None,
            caregiver_id=match.caregiver_id if match else None,
            keyword=None,
            from_address=sms.from_number,
            provider=sms.provider,
            provider_message_id=sms.provider_message_id,
        ),
    )
    if message_id is None:
        return InboundResult(None, None, None, None, None, None)
    if match is None:
        await message_store.set_effect(conn, message_id, Effect.HELD, None)
        log.info("notify.inbound_held", message_id=message_id, candidates=len(matches))
        return InboundResult(message_id, None, None, None, Effect.HELD, None)
    return await _act(conn, message_id, match.patient_id, match.caregiver_id, sms.text, "sms", now)


async def receive_reply(
    conn: psycopg.AsyncConnection, *, patient_id: int, caregiver_id: int | None, text: str, medium: str, now: datetime
) -> InboundResult:
    """A reply typed in the inbox page (medium "web") or the app: the same effects as an SMS."""
    message_id = await message_store.insert(
        conn,
        NewMessage(
            direction="inbound",
            medium=medium,
            body=text[:2000],
            created_at=now,
            patient_id=patient_id,
            caregiver_id=caregiver_id,
        ),
    )
    assert message_id is not None
    return await _act(conn, message_id, patient_id, caregiver_id, text, medium, now)


async def _act(
    conn: psycopg.AsyncConnection,
    message_id: int,
    patient_id: int,
    caregiver_id: int | None,
    text: str,
    medium: str,
    now: datetime,
) -> InboundResult:
    keyword = keyword_of(text)
    if keyword is not None:
        await message_store.set_keyword(conn, message_id, str(keyword))
        effect, task_id = await replies.apply_keyword(
            conn, keyword, patient_id=patient_id, caregiver_id=caregiver_id, medium=medium, now=now
        )
        await message_store.set_effect(conn, message_id, effect, task_id)
        return InboundResult(message_id, patient_id, caregiver_id, keyword, effect, task_id)
    # Free text answers the touchpoint too, and goes to triage (which may open an urgent task).
    target = await message_store.reply_target(conn, patient_id)
    effect, task_id = Effect.NO_TASK, None
    if target is not None:
        task_id = target.task_id
        effect = await replies.respond(
            conn, target.task_id, channel=medium, now=now, detail={"message_id": message_id, "free_text": True}
        )
    await message_store.set_effect(conn, message_id, effect, task_id)
    decision = await route_message(
        conn, patient_id=patient_id, text=text, received_at=now, inbound_message_id=message_id
    )
    return InboundResult(message_id, patient_id, caregiver_id, None, effect, task_id, decision.task_id)
