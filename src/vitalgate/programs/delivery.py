"""Weekly module items and matched content out through the delivery ledger, once each, consent checked first.

`send_due(conn, now)` takes the due items of patients whose program step is `active` (a paused
patient's items wait; leaving the program removed the unsent ones), checks contact consent on
the patient's medium (followup.consent_gate) and enqueues one message per item with a stable
idempotency key (`program:<program>:item:<id>:<medium>`). A check-in carries a signed
questionnaire link (notify.links); an education item a link to the patient's own page for it,
where opening it is recorded. Education matched by tags (content_sends) goes out the same way
when scheduled. Messages name no condition and no value (template words only).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import psycopg

from vitalgate.domain import LinkPurpose, Medium, RecipientKind
from vitalgate.followup import consent_gate
from vitalgate.notify.links import issue_link
from vitalgate.store import content_sends, deliveries, program_enrolment, program_modules
from vitalgate.store.content_sends import patient_profile_facts
from vitalgate.store.delivery_rows import DeliveryRequest
from vitalgate.store.program_rows import FunnelStep, ModuleItem, ModuleItemKind

TEMPLATES = {ModuleItemKind.EDUCATION: "program-education", ModuleItemKind.CHECKIN: "program-checkin"}
CHANNELS = {ModuleItemKind.EDUCATION: "message", ModuleItemKind.CHECKIN: "questionnaire"}
CHECKIN_LINK_TTL = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class SendReport:
    enqueued: int
    waiting: int  # the patient is not active in the program now (paused): the item waits
    refused: int  # contact consent does not hold: not sent, checked again next run


def education_path(item_id: int) -> str:
    return f"/ui/me/education/{item_id}"


def content_path(send_id: int) -> str:
    return f"/ui/me/content/{send_id}"


async def _request(conn: psycopg.AsyncConnection, item: ModuleItem, medium: str, now: datetime) -> DeliveryRequest:
    kind = ModuleItemKind(item.item_kind)
    facts = await patient_profile_facts(conn, item.patient_id)
    language = facts[3] if facts else "en"
    if kind is ModuleItemKind.CHECKIN:
        link = await issue_link(
            conn,
            LinkPurpose.QUESTIONNAIRE,
            patient_id=item.patient_id,
            questionnaire=item.item_key,
            ttl=CHECKIN_LINK_TTL,
            now=now,
        )
    else:
        link = education_path(item.id)
    return DeliveryRequest(
        idempotency_key=f"program:{item.program_id}:item:{item.id}:{medium}",
        patient_id=item.patient_id,
        recipient_kind=RecipientKind.PATIENT,
        recipient_id=item.patient_id,
        channel=CHANNELS[kind],
        medium=Medium(medium),
        template=TEMPLATES[kind],
        not_before=max(item.due_at, now),
        params={"link": link, "program": item.program_id, "week": item.week, "item": item.item_key},
        locale=language,
    )


async def send_due(conn: psycopg.AsyncConnection, now: datetime, *, limit: int = 500) -> SendReport:
    """Enqueue the due items (one transaction; the rows are locked so two workers never both send one)."""
    enqueued = waiting = refused = 0
    async with conn.transaction():
        for item in await program_modules.due(conn, now, limit=limit):
            step = await program_enrolment.current(conn, item.program_id, item.patient_id, now)
            if step is None or step.step != FunnelStep.ACTIVE:
                waiting += 1
                continue
            gate = await consent_gate.check(conn, item.patient_id, CHANNELS[ModuleItemKind(item.item_kind)], now)
            if gate.skip_reason is not None or gate.medium is None:
                refused += 1
                continue
            delivery_id = await deliveries.enqueue(conn, await _request(conn, item, gate.medium, now), now=now)
            await program_modules.mark_sent(conn, item.id, now, delivery_id)
            enqueued += 1
        for send in await content_sends.due(conn, now, limit=limit):
            gate = await consent_gate.check(conn, send.patient_id, "message", now)
            if gate.skip_reason is not None or gate.medium is None:
                refused += 1
                continue
            request = DeliveryRequest(
                idempotency_key=f"content:{send.id}:{gate.medium}",
                patient_id=send.patient_id,
                recipient_kind=RecipientKind.PATIENT,
                recipient_id=send.patient_id,
                channel="message",
                medium=Medium(gate.medium),
                template=TEMPLATES[ModuleItemKind.EDUCATION],
                not_before=max(send.scheduled_for, now),
                params={"link": content_path(send.id), "item": send.item_key},
                locale=send.language,
            )
            await content_sends.mark_sent(conn, send.id, now, await deliveries.enqueue(conn, request, now=now))
            enqueued += 1
    return SendReport(enqueued, waiting, refused)
