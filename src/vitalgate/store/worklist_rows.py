"""Typed rows of the worklist at scale (store.worklist, store.worklist_context)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from vitalgate.domain import Severity


@dataclass(frozen=True, slots=True)
class WorklistFilter:
    """What a worklist request asks for; empty / None fields do not filter."""

    care_team_ids: tuple[int, ...]
    statuses: tuple[str, ...]
    severities: tuple[str, ...] = ()
    assignee_id: int | None = None
    unassigned: bool = False
    rule_kind: str | None = None
    overdue: bool | None = None
    patient_responded: bool | None = None
    tag: str | None = None
    search: str | None = None  # part of the patient's name, or their external id
    program: str | None = None  # enrolled in this care program (vitalgate.programs)
    arm: str | None = None  # ... and allocated to this arm of its randomisation


@dataclass(frozen=True, slots=True)
class WorklistCursor:
    """Keyset position: the last row of the previous page in (severity rank, due, id) order."""

    rank: int
    due_at: datetime
    task_id: int


@dataclass(frozen=True, slots=True)
class WorklistRow:
    """A task on the worklist with what triggered it (its alert's rule and evidence)."""

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
    severity_rank: int
    status: str
    title: str
    due_at: datetime
    overdue: bool
    kind: str
    escalation_chain: str | None
    escalation_level: int
    next_touchpoint: str | None
    acknowledged_at: datetime | None
    patient_responded_at: datetime | None
    created_at: datetime
    closed_at: datetime | None
    outcome: str | None
    rule_id: str | None
    rule_kind: str | None
    evidence: dict[str, Any] | None
    # The title as msgid + parameters (migration 0020; None on rows older than it).
    title_key: str | None = None
    title_params: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class SeverityTotals:
    """True totals of the filtered worklist (not of one page)."""

    by_severity: dict[Severity, int] = field(default_factory=dict)
    overdue: int = 0

    @property
    def total(self) -> int:
        return sum(self.by_severity.values())


@dataclass(frozen=True, slots=True)
class LatestReading:
    patient_id: int
    kind: str
    measured_at: datetime
    glucose_mg_dl: float | None
    systolic_mmhg: float | None
    diastolic_mmhg: float | None


@dataclass(frozen=True, slots=True)
class PatientContext:
    """What a coordinator wants next to a task: the newest reading, last contact, last review, data gap."""

    latest: LatestReading | None
    last_contact_at: datetime | None
    last_reviewed_at: datetime | None
    gap_reason: str | None  # a DataGapReason value, only for patients whose data stopped


class DataGapReason(StrEnum):
    """Why a patient's data stopped, most specific first (store.worklist_context.gap_reasons)."""

    DEVICE_UNPAIRED = "device_unpaired"  # no device is bound to the patient any more
    HUB_OFFLINE = "hub_offline"  # the hub's retained status says offline
    HUB_BACKLOG = "hub_backlog"  # the hub is online but holds unsent readings in its outbox
    STOPPED_MEASURING = "stopped_measuring"  # device paired, hub fine: no new measurements
