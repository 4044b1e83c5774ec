"""Touchpoint delivery behind a small Channel interface; the recording channel logs task events."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import psycopg

from vitalgate.domain import ChannelKind
from vitalgate.store import tasks as task_store

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


class Channel(Protocol):
    """Delivers touchpoints of one kind; runs inside the firing transaction."""

    name: str

    async def deliver(self, conn: psycopg.AsyncConnection, delivery: Delivery, now: datetime) -> None: ...


class RecordingChannel:
    """Records the delivery as a task event (used by tests and the demo; no real SMS/voice provider).

    Because the record is written in the same transaction that marks the touchpoint fired, a
    delivery is recorded exactly once. A real provider adapter should send from an outbox of
    these events, keyed by touchpoint id, so retries are idempotent on the provider side.
    """

    def __init__(self, name: str) -> None:
        if name not in CHANNEL_NAMES:
            raise ValueError(f"unknown channel {name!r}")
        self.name = name

    async def deliver(self, conn: psycopg.AsyncConnection, delivery: Delivery, now: datetime) -> None:
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
            },
        )


def recording_channels() -> dict[str, Channel]:
    """One recording channel per touchpoint kind."""
    return {name: RecordingChannel(name) for name in CHANNEL_NAMES}
