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

from vitalgate.store import consent
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
    row = await (await conn.execute("SELECT preferred_channel FROM patients WHERE id = %s", (patient_id,))).fetchone()
    preferred = None if row is None else (row["preferred_channel"] if isinstance(row, dict) else row[0])
    medium = medium_for(channel, preferred)
    if medium is None:
        verdict = await consent.decide(conn, patient_id, ConsentPurpose.MONITORING, None, now)
    else:
        verdict = await consent.decide(conn, patient_id, ConsentPurpose.CONTACT, medium, now)
    return Gate(medium, None if verdict.allowed else verdict.reason)
