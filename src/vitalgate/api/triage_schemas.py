"""Request and response models of triage, reply scripts and the on-call roster."""

from __future__ import annotations

from datetime import datetime, time
from typing import Literal

from pydantic import BaseModel, Field, field_validator

from vitalgate.notify.triage import TriageCategory

ScriptCategory = Literal["urgent_clinical", "medication", "device", "logistics", "education", "general"]


class TriageOut(BaseModel):
    id: int
    patient_id: int
    inbound_message_id: int | None
    body: str
    language: str
    category: TriageCategory = Field(description="what the classifier said")
    confidence: float
    needs_person: bool
    evidence: list[str] = Field(description="the phrases that decided it")
    route_category: TriageCategory = Field(description="where it is now (after any re-route)")
    routed_to: str
    task_id: int | None
    suggested_script_id: int | None
    received_at: datetime


class RerouteIn(BaseModel):
    category: TriageCategory
    note: str | None = Field(default=None, max_length=1000)


class ClassifyIn(BaseModel):
    text: str = Field(min_length=1, max_length=4000)


class ClassifyOut(BaseModel):
    category: TriageCategory
    confidence: float
    needs_person: bool
    evidence: list[str]


class ScriptIn(BaseModel):
    key: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]{1,63}$")
    category: ScriptCategory
    title_en: str = Field(min_length=1, max_length=200)
    title_zh: str = Field(min_length=1, max_length=200)
    body_en: str = Field(min_length=1, max_length=2000)
    body_zh: str = Field(min_length=1, max_length=2000)
    keywords: list[str] = Field(default_factory=list, max_length=50)
    active: bool = True

    @field_validator("body_en", "body_zh")
    @classmethod
    def _balanced_braces(cls, value: str) -> str:
        """A placeholder is {name}; a stray brace would make the script unrenderable."""
        from vitalgate.notify.triage.scripts import placeholders

        try:
            placeholders(value)
        except ValueError as exc:
            raise ValueError(f"unbalanced braces: {exc}") from exc
        return value


class ScriptOut(ScriptIn):
    id: int
    usage_count: int
    placeholders: list[str]
    updated_at: datetime


class ScriptUseIn(BaseModel):
    patient_id: int | None = Field(default=None, ge=1, le=2**63 - 1, description="fills {name} and {team}")
    locale: Literal["zh-Hans", "en"] | None = Field(default=None, description="default: the patient's language")


class ScriptUseOut(BaseModel):
    script_id: int
    locale: str
    text: str
    usage_count: int


class ShiftIn(BaseModel):
    user_id: int = Field(ge=1, le=2**63 - 1)
    weekday: int = Field(ge=1, le=7, description="ISO weekday in the team's zone: 1 = Monday")
    starts_at: time
    ends_at: time = Field(description="not after starts_at: the shift ends the next day")
    rank: int = Field(default=1, ge=1, le=9, description="1 is called first")


class RosterOut(BaseModel):
    care_team_id: int
    time_zone: str
    shifts: list[ShiftIn]


class OnCallOut(BaseModel):
    user_id: int
    display_name: str
    role: str
    reachable: bool = Field(description="has an alert channel")


class AlertChannelIn(BaseModel):
    medium: Literal["sms", "email", "app"] | None
    address: str | None = Field(default=None, max_length=320)
