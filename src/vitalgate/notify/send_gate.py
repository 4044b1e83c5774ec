"""At send time, for each claimed message: send it now, hold it for quiet hours, or end it unsent.

Checked in the claim transaction, moments before the send, so a consent withdrawal or an opt-out
(STOP withdraws that medium's contact consent), a closed task or a confirmed visit counts at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import psycopg

from vitalgate.core.localtime import next_allowed
from vitalgate.domain import CLOSED_TASK_STATUSES, Medium, RecipientKind
from vitalgate.store import consent
from vitalgate.store.delivery_queue import Claimed
from vitalgate.store.recipients import Reach
from vitalgate.store.record_vocab import ConsentPurpose
from vitalgate.store.time_zones import PatientClock

# The contact-consent channel of each medium (consent records name sms, email, app, phone).
CONSENT_CHANNEL = {Medium.SMS: "sms", Medium.EMAIL: "email", Medium.APP: "app", Medium.VOICE: "phone"}


class Action(StrEnum):
    SEND = "send"
    HOLD = "hold"
    CANCEL = "cancel"  # no longer wanted or not allowed: cancelled with the reason
    DEAD = "dead"  # cannot be sent as configured (no address, no channel): the dead-letter list


@dataclass(frozen=True, slots=True)
class Decision:
    action: Action
    reason: str = ""
    until: datetime | None = None
    address: str | None = None


def _chain_reason(c: Claimed) -> str | None:
    if c.task_status in CLOSED_TASK_STATUSES:
        return "task closed"
    if c.sop_status in ("cancelled", "completed"):
        return f"visit chain {c.sop_status}"
    if c.sop_status == "confirmed" and c.cancel_on_confirm:
        return "visit confirmed"
    return None


class SendGate:
    """Decides per message; caches consent verdicts for one batch (a recipient's many messages ask once)."""

    def __init__(self, conn: psycopg.AsyncConnection, now: datetime) -> None:
        self.conn = conn
        self.now = now
        self._verdicts: dict[tuple[int, ConsentPurpose, str | None, int | None], consent.Verdict] = {}

    async def _verdict(
        self, patient_id: int, purpose: ConsentPurpose, channel: str | None = None, caregiver_id: int | None = None
    ) -> consent.Verdict:
        key = (patient_id, purpose, channel, caregiver_id)
        if key not in self._verdicts:
            self._verdicts[key] = await consent.decide(
                self.conn, patient_id, purpose, channel, self.now, caregiver_id=caregiver_id
            )
        return self._verdicts[key]

    async def _consent(self, c: Claimed) -> consent.Verdict:
        """The patient's contact consent on this medium; for a caregiver, monitoring and sharing with them."""
        row = c.row
        assert row.patient_id is not None
        if row.recipient_kind == RecipientKind.CAREGIVER:
            monitoring = await self._verdict(row.patient_id, ConsentPurpose.MONITORING)
            if not monitoring.allowed:
                return monitoring
            return await self._verdict(row.patient_id, ConsentPurpose.SHARE_CAREGIVER, caregiver_id=row.recipient_id)
        return await self._verdict(row.patient_id, ConsentPurpose.CONTACT, CONSENT_CHANNEL[row.medium])

    async def decide(self, c: Claimed, reach: Reach | None, clock: PatientClock | None) -> Decision:
        row = c.row
        reason = _chain_reason(c)
        if reason:
            return Decision(Action.CANCEL, reason)
        if reach is not None and not reach.active:
            return Decision(Action.CANCEL, "caregiver no longer active")
        if reach is not None and reach.sms_opted_out and row.medium == Medium.SMS:
            return Decision(Action.CANCEL, "caregiver opted out of SMS (replied STOP)")
        if row.patient_id is not None and row.recipient_kind != RecipientKind.STAFF:
            verdict = await self._consent(c)
            if not verdict.allowed:
                return Decision(Action.CANCEL, f"consent: {verdict.reason}")
            if not row.urgent and clock is not None:
                allowed = next_allowed(
                    self.now, clock.history.zone_name_at(self.now), clock.quiet_start, clock.quiet_end
                )
                if allowed > self.now:
                    return Decision(Action.HOLD, "quiet hours", until=allowed)
        address = row.address or (reach.address(row.medium) if reach else None)
        if not address:
            return Decision(Action.DEAD, f"no {row.medium} address for the {row.recipient_kind}")
        return Decision(Action.SEND, address=address)
