"""At send time, for each claimed message: send it now, hold it for quiet hours, or end it unsent.

Checked in the claim transaction, moments before the send, so a consent withdrawal or an opt-out
(STOP withdraws that medium's contact consent), a closed task or a confirmed visit counts at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from vitalgate.core.localtime import next_allowed
from vitalgate.domain import CLOSED_TASK_STATUSES, Medium, RecipientKind
from vitalgate.store.consent import Verdict
from vitalgate.store.consent_snapshot import ConsentSnapshot
from vitalgate.store.delivery_queue import Claimed
from vitalgate.store.recipients import Reach
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
    """Decides per message from one consent snapshot of the batch's patients (no query per message)."""

    def __init__(self, consents: ConsentSnapshot, now: datetime) -> None:
        self.consents = consents
        self.now = now

    def _consent(self, c: Claimed) -> Verdict:
        """The patient's contact consent on this medium; for a caregiver, monitoring and sharing with them."""
        row = c.row
        assert row.patient_id is not None
        if row.recipient_kind == RecipientKind.CAREGIVER:
            return self.consents.share_with_caregiver(row.patient_id, row.recipient_id)
        return self.consents.contact(row.patient_id, CONSENT_CHANNEL[row.medium])

    def decide(self, c: Claimed, reach: Reach | None, clock: PatientClock | None) -> Decision:
        row = c.row
        reason = _chain_reason(c)
        if reason:
            return Decision(Action.CANCEL, reason)
        if reach is not None and not reach.active:
            return Decision(Action.CANCEL, "caregiver no longer active")
        if reach is not None and reach.sms_opted_out and row.medium == Medium.SMS:
            return Decision(Action.CANCEL, "caregiver opted out of SMS (replied STOP)")
        if row.patient_id is not None and row.recipient_kind != RecipientKind.STAFF:
            verdict = self._consent(c)
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
