"""Typed rows of the main entities, as the store's queries return them (psycopg `class_row`).

Each class names exactly the columns its query selects, so a query and its row type change
together. Text columns holding shared vocabulary (severity, status, role, kind, channel) come as
plain strings equal to the `vitalgate.domain` enum values.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID


@dataclass(frozen=True, slots=True)
class Patient:
    id: int
    external_ref: str | None
    display_name: str
    care_team_id: int
    tags: list[str]
    care_team: str


@dataclass(frozen=True, slots=True)
class User:
    id: int
    username: str
    display_name: str
    role: str
    password_hash: str | None
    on_duty: bool
    disabled: bool
    created_at: datetime
    sessions_revoked_at: datetime | None


@dataclass(frozen=True, slots=True)
class UserSummary:
    """A user for the admin list: no password hash, with their care teams."""

    id: int
    username: str
    display_name: str
    role: str
    on_duty: bool
    disabled: bool
    created_at: datetime
    care_team_ids: list[int]


@dataclass(frozen=True, slots=True)
class CareTeam:
    id: int
    name: str
    created_at: datetime
    members: int
    patients: int


@dataclass(frozen=True, slots=True)
class Device:
    """A device matched by serial or claim code, with its open binding (if any)."""

    serial: str
    kind: str
    model: str | None
    manufacturer: str | None
    first_seen_at: datetime
    last_seen_at: datetime
    bound_patient_id: int | None
    bound_since: datetime | None
    bound_care_team_id: int | None


@dataclass(frozen=True, slots=True)
class UnboundDevice:
    """A device whose readings are stored without a patient."""

    serial: str
    kind: str | None
    model: str | None
    manufacturer: str | None
    readings: int
    first_measured_at: datetime
    last_measured_at: datetime
    last_gateway_id: str | None


@dataclass(frozen=True, slots=True)
class Binding:
    """One device binding: the device belongs to the patient from valid_from until valid_to."""

    id: int
    device_serial: str
    patient_id: int
    valid_from: datetime
    valid_to: datetime | None
    bound_by: str | None


@dataclass(frozen=True, slots=True)
class BindResult:
    """A new binding and the earlier unassigned readings it filed to the patient."""

    binding: Binding
    filed_reading_ids: list[UUID]

    @property
    def readings_filed(self) -> int:
        return len(self.filed_reading_ids)


@dataclass(frozen=True, slots=True)
class PatientDevice:
    """One of a patient's bindings with its device."""

    binding_id: int
    serial: str
    kind: str
    model: str | None
    manufacturer: str | None
    valid_from: datetime
    valid_to: datetime | None
    bound_by: str | None
    last_seen_at: datetime


@dataclass(frozen=True, slots=True)
class Reading:
    id: UUID
    kind: str
    measured_at: datetime
    device_time: datetime
    received_at: datetime
    device_serial: str
    sequence_number: int | None
    glucose_mg_dl: float | None
    systolic_mmhg: float | None
    diastolic_mmhg: float | None
    map_mmhg: float | None
    pulse_bpm: float | None
    status: list[str]
    context: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Alert:
    id: int
    patient_id: int
    rule_id: str
    severity: str
    status: str
    dedup_key: str
    summary: str
    evidence: dict[str, Any]
    opened_at: datetime
    updated_at: datetime
    resolved_at: datetime | None
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    resolved_by: str | None
    # The summary as msgid + parameters (migration 0020; None on rows older than it).
    summary_key: str | None = None
    summary_params: dict[str, Any] | None = None


ALERT_COLUMNS = (
    "id, patient_id, rule_id, severity, status, dedup_key, summary, evidence, opened_at, updated_at, resolved_at,"
    " acknowledged_at, acknowledged_by, resolved_by, summary_key, summary_params"
)


@dataclass(frozen=True, slots=True)
class Task:
    id: int
    alert_id: int | None
    patient_id: int
    care_team_id: int
    assignee_id: int | None
    severity: str
    status: str
    title: str
    due_at: datetime
    created_at: datetime
    closed_at: datetime | None
    outcome: str | None
    kind: str
    escalation_chain: str | None
    escalation_step: int | None
    acknowledged_at: datetime | None
    patient_responded_at: datetime | None


TASK_COLUMNS = (
    "id, alert_id, patient_id, care_team_id, assignee_id, severity, status, title, due_at, created_at, closed_at,"
    " outcome, kind, escalation_chain, escalation_step, acknowledged_at, patient_responded_at"
)


@dataclass(frozen=True, slots=True)
class WorklistTask:
    """A task on the worklist: with its patient, assignee, lateness and next step."""

    id: int
    alert_id: int | None
    patient_id: int
    patient_ref: str | None
    patient_name: str
    patient_tags: list[str]
    care_team_id: int
    assignee_id: int | None
    assignee: str | None
    severity: str
    status: str
    title: str
    due_at: datetime
    overdue: bool
    kind: str
    escalation_chain: str | None
    escalation_step: int | None
    escalation_level: int
    next_touchpoint: str | None
    acknowledged_at: datetime | None
    patient_responded_at: datetime | None
    created_at: datetime
    closed_at: datetime | None
    outcome: str | None
    # The title as msgid + parameters (migration 0020; None on rows older than it).
    title_key: str | None = None
    title_params: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class PatientTask:
    """A task in a patient's history."""

    id: int
    alert_id: int | None
    severity: str
    status: str
    title: str
    due_at: datetime
    created_at: datetime
    closed_at: datetime | None
    outcome: str | None
    assignee: str | None
    # The title as msgid + parameters (migration 0020; None on rows older than it).
    title_key: str | None = None
    title_params: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class TaskEvent:
    id: int
    task_id: int
    at: datetime
    actor: str
    kind: str
    detail: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Touchpoint:
    """One step of a task's escalation chain or SOP chain."""

    id: int
    task_id: int
    sop_instance_id: int | None
    step_index: int
    step_name: str
    channel: str
    template: str
    due_at: datetime
    fired_at: datetime | None
    cancelled_at: datetime | None
    cancel_reason: str | None
    cancel_on_confirm: bool


@dataclass(frozen=True, slots=True)
class DueTouchpoint:
    """A step due for delivery, with the state of its task and SOP instance."""

    id: int
    task_id: int
    sop_instance_id: int | None
    step_index: int
    step_name: str
    channel: str
    template: str
    due_at: datetime
    cancel_on_confirm: bool
    patient_id: int
    care_team_id: int
    task_status: str
    patient_responded_at: datetime | None
    task_severity: str
    sop_status: str | None
