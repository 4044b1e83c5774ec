"""Touchpoint delivery behind a small Channel interface: the ledger channel records the touchpoint as a
task event and puts one message per recipient in the delivery ledger (store.deliveries), in the
firing transaction. `vitalgate notify run` sends them; nothing here talks to a provider.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import psycopg

from vitalgate.domain import ChannelKind, Medium, RecipientKind
from vitalgate.followup import consent_gate
from vitalgate.store import deliveries, recipients
from vitalgate.store import tasks as task_store
from vitalgate.store.deliveries import DeliveryRequest

CHANNEL_NAMES: tuple[str, ...] = tuple(ChannelKind)


@dataclass(frozen=True, slots=True)
class Delivery:
    """One touchpoint to deliver: ids and a template name only (no PHI leaves through here)."""

    touchpoint_id: int
    task_id: int
    patient_id: int
    channel: str
    template: str
    step_name: str
    step_index: int
    sop_instance_id: int | None = None
    medium: str | None = None  # how it reaches the patient (sms, phone, email, app); None for internal steps
    severity: str | None = None  # the task's severity: urgent messages skip quiet hours, caregivers subscribe by it


class Channel(Protocol):
    """Delivers touchpoints of one kind; runs inside the firing transaction."""

    name: str

    async def deliver(self, conn: psycopg.AsyncConnection, delivery: Delivery, now: datetime) -> None: ...


def ledger_medium(channel: str, written: str | None) -> Medium | None:
    """The ledger medium of a touchpoint channel for a recipient whose written medium is `written`.

    A phone step is a call a person makes (a call task); a voice step goes to the voice provider;
    message and questionnaire steps use the recipient's written medium (a phone preference means SMS).
    """
    if channel == ChannelKind.PHONE:
        return Medium.CALL
    if channel == ChannelKind.VOICE:
        return Medium.VOICE
    if channel in (ChannelKind.MESSAGE, ChannelKind.QUESTIONNAIRE):
        return Medium(written) if written in (Medium.SMS, Medium.EMAIL, Medium.APP) else Medium.SMS
    return None


class LedgerChannel:
    """Records the touchpoint as a task event and enqueues its messages (patient, consenting caregivers).

    Written in the transaction that marks the touchpoint fired, so a touchpoint is enqueued exactly
    once; the idempotency key (touchpoint + recipient + medium) makes a second enqueue a no-op anyway.
    """

    def __init__(self, name: str) -> None:
        if name not in CHANNEL_NAMES:
            raise ValueError(f"unknown channel {name!r}")
        self.name = name

    async def deliver(self, conn: psycopg.AsyncConnection, delivery: Delivery, now: datetime) -> None:
        queued = await self._enqueue(conn, delivery, now)
        await task_store.add_task_event(
            conn,
            delivery.task_id,
            now,
            f"channel:{self.name}",
            "delivery",
            {
                "channel": self.name,
                "template": delivery.template,
                "step": delivery.step_name,
                "step_index": delivery.step_index,
                "touchpoint_id": delivery.touchpoint_id,
                "sop_instance_id": delivery.sop_instance_id,
                "medium": delivery.medium,
                "deliveries": queued,
            },
        )

    async def _enqueue(self, conn: psycopg.AsyncConnection, d: Delivery, now: datetime) -> list[int]:
        if d.medium is None:  # an internal step (doctor, coordinator): the task event is the record
            return []
        targets: list[tuple[RecipientKind, int, str | None, str]] = [
            (RecipientKind.PATIENT, d.patient_id, d.medium, await recipients.patient_language(conn, d.patient_id))
        ]
        for c in await consent_gate.caregiver_recipients(
            conn, d.patient_id, severity=d.severity, reminder=d.sop_instance_id is not None, now=now
        ):
            targets.append((RecipientKind.CAREGIVER, c.caregiver_id, c.medium, c.language))
        queued = []
        for kind, rid, written, locale in targets:
            medium = ledger_medium(self.name, written)
            if medium is None:
                continue
            request = DeliveryRequest(
                idempotency_key=deliveries.touchpoint_key(d.touchpoint_id, kind, rid, medium),
                patient_id=d.patient_id,
                recipient_kind=kind,
                recipient_id=rid,
                channel=self.name,
                medium=medium,
                template=d.template,
                params={"step": d.step_name, "visit": d.sop_instance_id is not None},
                locale=locale,
                urgent=d.severity == "urgent",
                task_id=d.task_id,
                touchpoint_id=d.touchpoint_id,
                sop_instance_id=d.sop_instance_id,
                not_before=now,
            )
            delivery_id = await deliveries.enqueue(conn, request, now=now)
            if delivery_id is not None:
                queued.append(delivery_id)
        return queued


def ledger_channels() -> dict[str, Channel]:
    """One ledger channel per touchpoint kind (the scheduler's default)."""
    return {name: LedgerChannel(name) for name in CHANNEL_NAMES}
