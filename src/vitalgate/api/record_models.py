"""Validated shapes of the patient record, caregivers and consent (API bodies and import rows alike)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from vitalgate.store.patient_record import Condition
from vitalgate.store.record_vocab import (
    ConsentDecision,
    ConsentPurpose,
    ContactChannel,
    GivenBy,
    GlucoseUnit,
    JourneyStage,
    Language,
    Relationship,
    Sex,
    TargetPreset,
)
from vitalgate.store.targets import TargetOverrides

# E.164 allows 15 digits; separators are kept as typed and stripped before use.
Phone = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\+?[0-9][0-9 ()\-]{4,24}$")]
Email = Annotated[str, StringConstraints(strip_whitespace=True, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
AppId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128)]
ExternalId = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9._:\-]{1,64}$")]
Severities = list[Annotated[str, StringConstraints(pattern=r"^(urgent|high|routine)$")]]


def _no_nul(value: Any) -> Any:
    """PostgreSQL text cannot hold NUL: refuse it as a validation error instead of a failed INSERT."""
    if isinstance(value, str) and "\x00" in value:
        raise ValueError("text must not contain NUL characters")
    if isinstance(value, dict):
        for item in value.values():
            _no_nul(item)
    elif isinstance(value, list):
        for item in value:
            _no_nul(item)
    return value


class _Strict(BaseModel):
    """Unknown fields refused, NUL characters refused anywhere in the body."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _text(cls, data: Any) -> Any:
        return _no_nul(data)


class ConditionIn(_Strict):
    """One coded condition, e.g. {"code": "C50", "stage": "II", "subtype": "HR+/HER2-"}."""

    model_config = ConfigDict(extra="forbid")

    code: Annotated[str, StringConstraints(pattern=r"^[A-Z][0-9][0-9A-Z](\.[0-9A-Z]{1,4})?$")]
    code_system: Annotated[str, StringConstraints(min_length=1, max_length=32)] = "ICD-10"
    type: Annotated[str, StringConstraints(max_length=64)] | None = None
    stage: Annotated[str, StringConstraints(max_length=32)] | None = None
    subtype: Annotated[str, StringConstraints(max_length=64)] | None = None
    diagnosed_on: date | None = None

    @field_validator("code", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.strip().upper() if isinstance(value, str) else value

    def to_row(self) -> Condition:
        return Condition(self.code, self.code_system, self.type, self.stage, self.subtype, self.diagnosed_on)


class RecordFields(_Strict):
    """The record fields shared by a change (all optional) and an import row."""

    model_config = ConfigDict(extra="forbid")

    external_id: ExternalId | None = None
    birth_date: date | None = None
    birth_year: int | None = Field(default=None, ge=1880, le=2200)
    sex: Sex | None = None
    journey_stage: JourneyStage | None = None
    language: Language | None = None
    glucose_unit: GlucoseUnit | None = None
    phone: Phone | None = None
    email: Email | None = None
    app_id: AppId | None = None
    preferred_channel: ContactChannel | None = None
    target_preset: TargetPreset | None = None
    targets: TargetOverrides | None = None
    conditions: list[ConditionIn] | None = Field(default=None, max_length=50)

    @model_validator(mode="after")
    def _birth(self) -> RecordFields:
        codes = [(c.code_system, c.code) for c in self.conditions or []]
        if len(set(codes)) != len(codes):
            raise ValueError("conditions: a code is listed twice")
        if self.birth_date is not None:
            if self.birth_date > datetime.now(UTC).date():
                raise ValueError("birth_date is in the future")
            if self.birth_year is not None and self.birth_year != self.birth_date.year:
                raise ValueError("birth_year does not match birth_date")
        return self


class RecordChange(RecordFields):
    """PATCH body: only the fields sent change (null clears an optional field)."""


def check_record(values: dict[str, Any]) -> None:
    """Rules across fields of a whole (merged) record: ValueError in plain words."""
    birth_date, birth_year = values.get("birth_date"), values.get("birth_year")
    if birth_date is not None and birth_year is not None and date.fromisoformat(str(birth_date)).year != birth_year:
        raise ValueError("birth_year does not match birth_date")
    check_reachable(values)


def check_reachable(values: dict[str, Any]) -> None:
    """A preferred channel needs its contact point (ValueError in plain words otherwise)."""
    channel = values.get("preferred_channel")
    if channel is None:
        return
    needs = {"sms": "phone", "phone": "phone", "email": "email", "app": "app_id"}[str(channel)]
    if not values.get(needs):
        raise ValueError(f"preferred channel {channel} needs {needs}")


class PatientRecordOut(BaseModel):
    id: int
    program: str
    external_id: str | None
    display_name: str
    care_team_id: int
    birth_date: date | None
    birth_year: int | None
    sex: str | None
    journey_stage: str | None
    language: str
    glucose_unit: str
    phone: str | None
    email: str | None
    app_id: str | None
    preferred_channel: str | None
    target_preset: str
    targets: dict[str, Any] = Field(description="the preset with this patient's overrides applied (mg/dL, %)")
    target_overrides: dict[str, Any]
    conditions: list[ConditionIn]
    monitoring_consent: bool
    updated_at: datetime | None


class CaregiverIn(_Strict):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    relationship: Relationship
    phone: Phone | None = None
    email: Email | None = None
    app_id: AppId | None = None
    preferred_channel: ContactChannel | None = None
    language: Language = Language.EN
    alert_severities: Severities = Field(default_factory=lambda: ["urgent"])
    receives_reminders: bool = False

    @model_validator(mode="after")
    def _reachable(self) -> CaregiverIn:
        check_reachable(self.model_dump())
        return self


class CaregiverChange(_Strict):
    model_config = ConfigDict(extra="forbid")

    phone: Phone | None = None
    email: Email | None = None
    app_id: AppId | None = None
    preferred_channel: ContactChannel | None = None
    language: Language | None = None
    alert_severities: Severities | None = None
    receives_reminders: bool | None = None
    active: bool | None = None


class CaregiverOut(BaseModel):
    id: int
    patient_id: int
    name: str
    relationship: str
    phone: str | None
    email: str | None
    app_id: str | None
    preferred_channel: str | None
    language: str
    alert_severities: list[str]
    receives_reminders: bool
    has_login: bool
    sharing_consent: bool = Field(description="the patient consented to share their data with this caregiver")
    active: bool


class ConsentIn(_Strict):
    """One decision. Withdrawals take effect now; a paper consent given earlier may be back-dated."""

    model_config = ConfigDict(extra="forbid")

    purpose: ConsentPurpose
    decision: ConsentDecision
    channel: ContactChannel | None = None
    caregiver_id: int | None = Field(default=None, ge=1, le=2**63 - 1)
    text_version: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
    given_by: GivenBy = GivenBy.PATIENT
    given_by_name: Annotated[str, StringConstraints(max_length=200)] | None = None
    effective_at: datetime | None = Field(default=None, description="given: when it was signed (default now)")

    @model_validator(mode="after")
    def _scope(self) -> ConsentIn:
        if (self.purpose is ConsentPurpose.CONTACT) != (self.channel is not None):
            raise ValueError("channel is required for purpose contact, and only for it")
        if (self.purpose is ConsentPurpose.SHARE_CAREGIVER) != (self.caregiver_id is not None):
            raise ValueError("caregiver_id is required for purpose share_caregiver, and only for it")
        if self.given_by is GivenBy.GUARDIAN and not self.given_by_name:
            raise ValueError("a guardian's consent names the guardian (given_by_name)")
        if self.decision is ConsentDecision.WITHDRAWN and self.effective_at is not None:
            raise ValueError("a withdrawal takes effect now: leave effective_at out")
        return self

    @field_validator("effective_at")
    @classmethod
    def _aware_past(cls, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        aware = value.replace(tzinfo=UTC) if value.tzinfo is None else value
        if aware > datetime.now(UTC):
            raise ValueError("effective_at may not be in the future")
        return aware


class ConsentOut(BaseModel):
    id: int
    patient_id: int
    purpose: str
    channel: str | None
    caregiver_id: int | None
    decision: str
    text_version: str
    effective_at: datetime
    given_by: str
    given_by_name: str | None
    recorded_by: str
    recorded_at: datetime
