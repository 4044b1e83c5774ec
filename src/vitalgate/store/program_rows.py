"""Care programs' stored vocabulary and typed rows (migration 0017): funnel steps, allocations, module items."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any


class FunnelStep(StrEnum):
    """Where a patient is in a program: invited → consented → enrolled → active ⇄ paused → discharged | withdrawn."""

    INVITED = "invited"
    CONSENTED = "consented"
    ENROLLED = "enrolled"
    ACTIVE = "active"
    PAUSED = "paused"
    DISCHARGED = "discharged"
    WITHDRAWN = "withdrawn"


class EnrolChannel(StrEnum):
    """How the invitation reached the patient (drop-off is reported per channel)."""

    SMS = "sms"
    PHONE = "phone"
    EMAIL = "email"
    APP = "app"
    CLINIC = "clinic"
    IMPORT = "import"


class ModuleItemKind(StrEnum):
    EDUCATION = "education"
    CHECKIN = "checkin"


@dataclass(frozen=True, slots=True)
class EnrolmentEvent:
    id: int
    program_id: str
    patient_id: int
    step: str
    at: datetime
    actor: str
    channel: str | None
    segment: str | None
    reason: str | None


ENROLMENT_EVENT_COLUMNS = "id, program_id, patient_id, step, at, actor, channel, segment, reason"


@dataclass(frozen=True, slots=True)
class Randomisation:
    program_id: str
    seed: int
    block_size: int
    arms: list[str]
    covariates: list[str]
    created_at: datetime
    created_by: str


@dataclass(frozen=True, slots=True)
class Allocation:
    program_id: str
    patient_id: int
    arm: str
    stratum: str
    block_index: int
    position: int
    covariates: dict[str, Any]
    allocated_at: datetime
    allocated_by: str


ALLOCATION_COLUMNS = (
    "program_id, patient_id, arm, stratum, block_index, position, covariates, allocated_at, allocated_by"
)


@dataclass(frozen=True, slots=True)
class ModuleItem:
    id: int
    program_id: str
    patient_id: int
    week: int
    item_kind: str
    item_key: str
    due_at: datetime
    delivery_id: int | None
    sent_at: datetime | None
    opened_at: datetime | None
    completed_at: datetime | None


MODULE_ITEM_COLUMNS = (
    "id, program_id, patient_id, week, item_kind, item_key, due_at, delivery_id, sent_at, opened_at, completed_at"
)
