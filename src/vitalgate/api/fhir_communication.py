"""FHIR R4 CommunicationRequest (planned touchpoints) and Communication (messages sent and received).

- Each touchpoint of the patient's tasks is a CommunicationRequest: pending `active`, fired
  `completed`, cancelled `revoked` (the reason in statusReason), due time as occurrenceDateTime.
- Each outbox message (delivery ledger) is a Communication from the care team `basedOn` its
  touchpoint's request: sent / delivered `completed`, queued `preparation`, sending `in-progress`,
  failed / undelivered / dead / cancelled `not-done`. Its payload names the template (the text
  the recipient saw is rendered at send time and not stored).
- Each entry of the two-way conversation is a Communication with its text: inbound from the
  patient (or RelatedPerson), outbound from the care team to them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from vitalgate.store.delivery_rows import DeliveryRow
from vitalgate.store.messages import Message
from vitalgate.store.rows import Touchpoint

_MODE = "http://terminology.hl7.org/CodeSystem/v3-ParticipationMode"
# How each medium reaches a person, in v3 ParticipationMode (SMS has no code of its own there).
_MEDIUM: dict[str, tuple[str, str]] = {
    "sms": ("ELECTRONIC", "electronic data"),
    "email": ("EMAILWRIT", "email"),
    "app": ("ONLINEWRIT", "online written"),
    "web": ("ONLINEWRIT", "online written"),
    "voice": ("PHONE", "telephone"),
    "call": ("PHONE", "telephone"),
    "phone": ("PHONE", "telephone"),
}
_CATEGORY = "http://terminology.hl7.org/CodeSystem/communication-category"
_DELIVERY_STATUS = {
    "queued": "preparation",
    "sending": "in-progress",
    "sent": "completed",
    "delivered": "completed",
    "failed": "not-done",
    "undelivered": "not-done",
    "dead": "not-done",
    "cancelled": "not-done",
}
# Touchpoint channels that contact the patient and their medium (internal steps have none).
_CHANNEL_MEDIUM = {"message": "sms", "questionnaire": "sms", "voice": "voice", "phone": "call"}


def _iso(value: datetime) -> str:
    return value.isoformat()


def _medium(medium: str) -> list[dict[str, Any]]:
    code, display = _MEDIUM.get(medium, ("ELECTRONIC", "electronic data"))
    return [{"coding": [{"system": _MODE, "code": code, "display": display}], "text": medium}]


def _category(code: str) -> list[dict[str, Any]]:
    return [{"coding": [{"system": _CATEGORY, "code": code}]}]


def communication_request(tp: Touchpoint, patient_id: int) -> dict[str, Any]:
    """A planned touchpoint (escalation or SOP step) as a CommunicationRequest."""
    if tp.fired_at is not None:
        status = "completed"
    elif tp.cancelled_at is not None:
        status = "revoked"
    else:
        status = "active"
    resource: dict[str, Any] = {
        "resourceType": "CommunicationRequest",
        "id": f"tp-{tp.id}",
        "status": status,
        "category": _category("reminder" if tp.sop_instance_id is not None else "alert"),
        "subject": {"reference": f"Patient/{patient_id}"},
        "occurrenceDateTime": _iso(tp.due_at),
        "groupIdentifier": {"system": "urn:vitalgate:task", "value": str(tp.task_id)},
        "payload": [{"contentString": f"{tp.step_name} ({tp.template})"}],
        "recipient": [{"reference": f"Patient/{patient_id}"}],
        "sender": {"display": "care team"},
    }
    if tp.channel in _CHANNEL_MEDIUM:
        resource["medium"] = _medium(_CHANNEL_MEDIUM[tp.channel])
    else:  # a hand-over to staff (doctor review, coordinator check): no contact with the patient
        resource["recipient"] = [{"display": tp.channel}]
    if status == "revoked" and tp.cancel_reason:
        resource["statusReason"] = {"text": tp.cancel_reason}
    return resource


def _recipient(kind: str, recipient_id: int, patient_id: int) -> dict[str, Any]:
    if kind == "caregiver":
        return {"reference": f"RelatedPerson/{recipient_id}"}
    if kind == "staff":
        return {"display": f"staff user {recipient_id}"}
    return {"reference": f"Patient/{patient_id}"}


def delivery_communication(d: DeliveryRow, patient_id: int) -> dict[str, Any]:
    """One outbox message as a Communication sent by the care team."""
    status = _DELIVERY_STATUS.get(d.status, "unknown")
    resource: dict[str, Any] = {
        "resourceType": "Communication",
        "id": f"delivery-{d.id}",
        "identifier": [{"system": "urn:vitalgate:idempotency-key", "value": d.idempotency_key}],
        "status": status,
        "category": _category("notification"),
        "medium": _medium(d.medium),
        "subject": {"reference": f"Patient/{patient_id}"},
        "recipient": [_recipient(d.recipient_kind, d.recipient_id, patient_id)],
        "sender": {"display": "care team"},
        "payload": [{"contentString": f"template {d.template} ({d.locale})"}],
    }
    if d.touchpoint_id is not None:
        resource["basedOn"] = [{"reference": f"CommunicationRequest/tp-{d.touchpoint_id}"}]
    if d.sent_at is not None:
        resource["sent"] = _iso(d.sent_at)
    if d.delivered_at is not None:
        resource["received"] = _iso(d.delivered_at)
    if status == "not-done" and (d.status_reason or d.last_error):
        resource["statusReason"] = {"text": d.status_reason or d.last_error}
    return resource


def message_communication(m: Message, patient_id: int) -> dict[str, Any]:
    """One entry of the conversation (a reply received, or a care-team message) as a Communication."""
    person = (
        {"reference": f"RelatedPerson/{m.caregiver_id}"}
        if m.caregiver_id is not None
        else {"reference": f"Patient/{patient_id}"}
    )
    team = {"display": m.author or "care team"}
    inbound = m.direction == "inbound"
    resource: dict[str, Any] = {
        "resourceType": "Communication",
        "id": f"message-{m.id}",
        "status": "completed",
        "medium": _medium(m.medium),
        "subject": {"reference": f"Patient/{patient_id}"},
        "sender": person if inbound else team,
        "recipient": [team if inbound else person],
        "payload": [{"contentString": m.body}],
        "sent": _iso(m.created_at),
    }
    if inbound:
        resource["received"] = _iso(m.created_at)
    if m.task_id is not None:
        resource["about"] = [{"display": f"task {m.task_id}"}]
    return resource
