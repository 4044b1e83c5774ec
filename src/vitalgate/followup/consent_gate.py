"""Before any contact: which medium a touchpoint would use, and whether the patient's consent allows it now.

A touchpoint channel names the kind of step; the medium is how it reaches the patient:
- message, questionnaire: the patient's preferred written channel (sms, email or app; sms otherwise);
- voice (automated call) and phone (a nurse calls): the phone;
- doctor, coordinator: internal hand-overs, no contact with the patient (monitoring consent still applies).
A withdrawn medium is never used: the step is skipped with the reason, not rerouted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import psycopg

from vitalgate.store import caregivers as caregiver_store
from vitalgate.store import consent, people
from vitalgate.store.record_vocab import ConsentPurpose, ContactChannel

_WRITTEN = (ContactChannel.SMS, ContactChannel.EMAIL, ContactChannel.APP)
_CALLS = frozenset({"voice", "phone"})
_WRITES = frozenset({"message", "questionnaire"})


@dataclass(frozen=True, slots=True)
class Gate:
    medium: str | None  # None: an internal step
    skip_reason: str | None  # None: go ahead


def medium_for(channel: str, preferred: str | None) -> str | None:
    """The contact medium of a touchpoint channel for a patient preferring `preferred`."""
    if channel in _CALLS:
        return ContactChannel.PHONE.value
    if channel in _WRITES:
        return preferred if preferred in _WRITTEN else ContactChannel.SMS.value
    return None


async def check(conn: psycopg.AsyncConnection, patient_id: int, channel: str, now: datetime) -> Gate:
    """The medium and, when consent does not allow the step at `now`, why it is skipped."""
    preferred = await people.preferred_channel(conn, patient_id)
    medium = medium_for(channel, preferred)
    if medium is None:
        verdict = await consent.decide(conn, patient_id, ConsentPurpose.MONITORING, None, now)
    else:
        verdict = await consent.decide(conn, patient_id, ConsentPurpose.CONTACT, medium, now)
    return Gate(medium, None if verdict.allowed else verdict.reason)


@dataclass(frozen=True, slots=True)
class CaregiverRecipient:
    caregiver_id: int
    name: str
    medium: str
    language: str


async def caregiver_recipients(
    conn: psycopg.AsyncConnection, patient_id: int, *, severity: str | None, reminder: bool, now: datetime
) -> list[CaregiverRecipient]:
    """Caregivers who receive this message now: active, subscribed to it, reachable, and shared with by the patient.

    An alert of `severity` goes to caregivers listing that severity; a reminder to those receiving
    reminders. Nothing goes out without the patient's monitoring consent and their share_caregiver
    consent for that caregiver.
    """
    if not (await consent.decide(conn, patient_id, ConsentPurpose.MONITORING, None, now)).allowed:
        return []
    out = []
    for c in await caregiver_store.of_patient(conn, patient_id):
        wanted = c.receives_reminders if reminder else (severity in c.alert_severities)
        medium = c.preferred_channel or ("sms" if c.phone else "email" if c.email else "app" if c.app_id else None)
        if not (c.active and wanted and medium):
            continue
        if await consent.allows(conn, patient_id, ConsentPurpose.SHARE_CAREGIVER, None, now, caregiver_id=c.id):
            out.append(CaregiverRecipient(c.id, c.name, medium, c.language))
    return out
