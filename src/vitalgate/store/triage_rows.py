"""Typed rows of triage, reply scripts, the on-call roster and staff alerts (migration 0015)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time


@dataclass(frozen=True, slots=True)
class TriageRecord:
    """One inbound message as triage classified and routed it."""

    id: int
    patient_id: int
    inbound_message_id: int | None
    body: str
    language: str
    category: str
    confidence: float
    needs_person: bool
    evidence: list[str]
    route_category: str
    routed_to: str
    task_id: int | None
    suggested_script_id: int | None
    received_at: datetime
    created_at: datetime


TRIAGE_COLUMNS = (
    "id, patient_id, inbound_message_id, body, language, category, confidence, needs_person, evidence,"
    " route_category, routed_to, task_id, suggested_script_id, received_at, created_at"
)


@dataclass(frozen=True, slots=True)
class NewTriage:
    patient_id: int
    inbound_message_id: int | None
    body: str
    language: str
    category: str
    confidence: float
    needs_person: bool
    evidence: list[str]
    routed_to: str
    task_id: int | None
    suggested_script_id: int | None
    received_at: datetime


@dataclass(frozen=True, slots=True)
class Feedback:
    """A staff re-route with the message it corrects: one labelled example."""

    id: int
    triage_id: int
    body: str
    language: str
    from_category: str
    to_category: str
    user_id: int | None
    note: str | None
    at: datetime


@dataclass(frozen=True, slots=True)
class ReplyScript:
    id: int
    key: str
    category: str
    title_en: str
    title_zh: str
    body_en: str
    body_zh: str
    keywords: list[str]
    active: bool
    usage_count: int
    updated_by: int | None
    updated_at: datetime


SCRIPT_COLUMNS = (
    "id, key, category, title_en, title_zh, body_en, body_zh, keywords, active, usage_count, updated_by, updated_at"
)


@dataclass(frozen=True, slots=True)
class OnCallShift:
    """A weekly shift in the team's zone; ends_at <= starts_at means it ends the next day."""

    id: int
    care_team_id: int
    user_id: int
    weekday: int
    starts_at: time
    ends_at: time
    rank: int


@dataclass(frozen=True, slots=True)
class StaffContact:
    """A staff member's own alert channel (None: none set) and language."""

    id: int
    display_name: str
    role: str
    on_duty: bool
    alert_medium: str | None
    alert_address: str | None
    language: str | None = None


@dataclass(frozen=True, slots=True)
class StaffAlert:
    id: int
    task_id: int
    attempt: int
    user_id: int
    delivery_id: int | None
    link_path: str | None
    notified_at: datetime
    renotify_at: datetime


@dataclass(frozen=True, slots=True)
class UnacknowledgedAlert:
    """An urgent task whose latest staff alert has waited past its time without acknowledgement."""

    task_id: int
    patient_id: int
    care_team_id: int
    time_zone: str
    attempt: int
    notified_user_ids: list[int]
