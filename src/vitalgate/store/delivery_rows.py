"""Typed rows and requests of the delivery ledger (migration 0013; store.deliveries, store.delivery_queue)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from vitalgate.domain import CallOutcome, DeliveryStatus, Medium, RecipientKind


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliveryRequest:
    """One message to put in the ledger. `params` are template variables: ids and words, never values
    or a diagnosis unless the patient's program enables it (the renderer decides what to show)."""

    idempotency_key: str
    patient_id: int | None
    recipient_kind: RecipientKind
    recipient_id: int
    channel: str
    medium: Medium
    template: str
    not_before: datetime
    params: dict[str, Any] = field(default_factory=dict)
    locale: str = "en"
    urgent: bool = False
    task_id: int | None = None
    touchpoint_id: int | None = None
    sop_instance_id: int | None = None
    address: str | None = None  # None: the recipient's own record at send time


DELIVERY_COLUMNS = (
    "id, idempotency_key, patient_id, recipient_kind, recipient_id, channel, medium, address, template, params,"
    " locale, urgent, task_id, touchpoint_id, sop_instance_id, link_path, status, attempts, next_attempt_at,"
    " provider_message_id, last_error, status_reason, call_outcome, call_notes, created_at, updated_at, sent_at,"
    " delivered_at"
)


@dataclass(frozen=True, slots=True)
class DeliveryRow:
    id: int
    idempotency_key: str
    patient_id: int | None
    recipient_kind: RecipientKind
    recipient_id: int
    channel: str
    medium: Medium
    address: str | None
    template: str
    params: dict[str, Any]
    locale: str
    urgent: bool
    task_id: int | None
    touchpoint_id: int | None
    sop_instance_id: int | None
    link_path: str | None
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime
    provider_message_id: str | None
    last_error: str | None
    status_reason: str | None
    call_outcome: CallOutcome | None
    call_notes: str | None
    created_at: datetime
    updated_at: datetime
    sent_at: datetime | None
    delivered_at: datetime | None

    def __post_init__(self) -> None:
        # The database hands back strings; the row carries the vocabulary's enums.
        object.__setattr__(self, "recipient_kind", RecipientKind(self.recipient_kind))
        object.__setattr__(self, "medium", Medium(self.medium))
        object.__setattr__(self, "status", DeliveryStatus(self.status))
        if self.call_outcome is not None:
            object.__setattr__(self, "call_outcome", CallOutcome(self.call_outcome))


@dataclass(frozen=True, slots=True)
class DeliveryAttempt:
    id: int
    delivery_id: int
    attempt: int
    transport: str
    started_at: datetime
    finished_at: datetime
    status: str
    provider_message_id: str | None
    error: str | None


@dataclass(frozen=True, slots=True)
class AttemptResult:
    """What one send did: `status` sent (handed to the provider), failed (may retry) or undelivered (final)."""

    delivery_id: int
    transport: str
    started_at: datetime
    finished_at: datetime
    status: DeliveryStatus
    provider_message_id: str | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Receipt:
    """A provider's word on a message: found by delivery id, else provider message id, else idempotency key."""

    receipt_key: str
    status: DeliveryStatus
    received_at: datetime
    delivery_id: int | None = None
    provider_message_id: str | None = None
    idempotency_key: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)
