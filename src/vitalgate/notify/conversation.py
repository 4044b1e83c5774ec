"""The staff side of the conversation: a care-team message (typed or from a reply script) to a patient.

The text is kept in `messages` and shown behind the patient's inbox link; what travels by SMS or
e-mail is only "a new message from your care team" and that link (no health details in SMS), put
in the delivery ledger once (key message:{id}). Consent is checked by the ledger at send time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import psycopg

from vitalgate.domain import LinkPurpose, Medium, RecipientKind
from vitalgate.followup.consent_gate import medium_for
from vitalgate.notify.links import issue_link
from vitalgate.notify.triage.scripts import render
from vitalgate.store import deliveries, patient_record, people, reply_scripts
from vitalgate.store import messages as message_store
from vitalgate.store import tasks as task_store
from vitalgate.store.delivery_rows import DeliveryRequest
from vitalgate.store.messages import NewMessage

TEMPLATE = "care-team-message"  # ledger template: "A new message from your care team. Open: {link}"


class ScriptNotFound(LookupError):
    """The chosen reply script does not exist or is inactive."""


class EmptyMessage(ValueError):
    """Nothing to send: no text (or only blanks) and no script."""


@dataclass(frozen=True, slots=True)
class SentMessage:
    message_id: int
    delivery_id: int | None
    link_path: str
    body: str


async def staff_message(
    conn: psycopg.AsyncConnection,
    *,
    patient_id: int,
    author_user_id: int,
    now: datetime,
    body: str | None = None,
    script_id: int | None = None,
    task_id: int | None = None,
) -> SentMessage:
    """Record a care-team message and queue its notification; a script is rendered in the patient's language."""
    record = await patient_record.get_record(conn, patient_id)
    locale = record.language if record else "en"
    if script_id is not None:
        script = await reply_scripts.get(conn, script_id)
        if script is None or not script.active:
            raise ScriptNotFound(f"reply script {script_id} not found")
        body = render(script, locale, {"name": record.display_name if record else ""}) if body is None else body
        await reply_scripts.count_use(conn, script_id)
    if not body or not body.strip():
        raise EmptyMessage("a message needs a text or a script (blank text is not sent)")
    message_id = await message_store.insert(
        conn,
        NewMessage(
            direction="outbound",
            medium="app",
            body=body.strip()[:2000],
            created_at=now,
            patient_id=patient_id,
            author_user_id=author_user_id,
            task_id=task_id,
        ),
    )
    assert message_id is not None
    path = await issue_link(conn, LinkPurpose.INBOX, patient_id=patient_id, task_id=task_id, now=now)
    medium = Medium(medium_for("message", await people.preferred_channel(conn, patient_id)) or Medium.SMS)
    delivery_id = await deliveries.enqueue(
        conn,
        DeliveryRequest(
            idempotency_key=f"message:{message_id}",
            patient_id=patient_id,
            recipient_kind=RecipientKind.PATIENT,
            recipient_id=patient_id,
            channel="message",
            medium=medium,
            template=TEMPLATE,
            not_before=now,
            params={"link": path},
            locale=locale,
            task_id=task_id,
        ),
        now=now,
    )
    if task_id is not None:
        await task_store.add_task_event(
            conn, task_id, now, f"user:{author_user_id}", "staff_message", {"message_id": message_id}
        )
    return SentMessage(message_id, delivery_id, path, body)
