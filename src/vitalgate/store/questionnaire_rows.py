"""Typed rows of questionnaires: definitions added by admins, licences, responses and what they produced."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class StoredDefinition:
    questionnaire_id: str
    version: str
    resource: dict[str, Any]
    added_by: str
    added_at: datetime


@dataclass(frozen=True, slots=True)
class Licence:
    instrument: str
    licensee: str
    reference: str
    valid_until: date | None
    recorded_by: str
    recorded_at: datetime


@dataclass(frozen=True, slots=True)
class Response:
    id: int
    patient_id: int
    questionnaire_id: str
    questionnaire_version: str
    status: str  # 'in-progress' | 'completed' (FHIR QuestionnaireResponse.status)
    answers: dict[str, Any]
    language: str
    entered_by: str  # 'patient' | 'caregiver' | 'staff'
    entered_by_user_id: int | None
    task_id: int | None
    started_at: datetime
    updated_at: datetime
    completed_at: datetime | None


@dataclass(frozen=True, slots=True)
class Score:
    response_id: int
    patient_id: int
    questionnaire_id: str
    name: str
    value: float
    band: str | None
    loinc: str | None
    scored_at: datetime


@dataclass(frozen=True, slots=True)
class ExtractedObservation:
    response_id: int
    patient_id: int
    link_id: str
    code_system: str
    code: str
    display: str
    value: float
    unit: str
    effective_at: datetime


@dataclass(frozen=True, slots=True)
class Extraction:
    """One change a completed response made to the record: a tag added/removed or a field set."""

    response_id: int
    patient_id: int
    link_id: str
    target: str  # 'tag_added' | 'tag_removed' | 'field'
    name: str
    value: str | None


@dataclass(frozen=True, slots=True)
class LatestScore:
    """A patient's score from their latest completed response to a questionnaire (alert input)."""

    patient_id: int
    questionnaire_id: str
    name: str
    value: float
    response_id: int
    completed_at: datetime
