"""Response and request models of the JSON API (they make the OpenAPI schema)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, Field, model_validator

from vitalgate.domain import DeviceKind, MeasurementKind, Outcome, Role, Severity, TaskStatus

UNITS = {
    "glucose_mg_dl": "mg/dL",
    "systolic_mmhg": "mm[Hg]",
    "diastolic_mmhg": "mm[Hg]",
    "map_mmhg": "mm[Hg]",
    "pulse_bpm": "/min",
}


class ErrorOut(BaseModel):
    detail: str | list[Any] = Field(description="what went wrong, in words (a list of field errors for 422)")


class TokenOut(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="seconds until the token expires")


class MeOut(BaseModel):
    id: int
    username: str
    display_name: str
    role: Role
    care_team_ids: list[int]
    patient_id: int | None


class PatientOut(BaseModel):
    id: int
    external_ref: str | None
    display_name: str
    care_team_id: int
    care_team: str
    tags: list[str]


class ReadingOut(BaseModel):
    id: UUID
    kind: MeasurementKind
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


class ReadingsPage(BaseModel):
    patient_id: int
    units: dict[str, str]
    readings: list[ReadingOut]


class SeriesPoint(BaseModel):
    t: datetime = Field(description="bucket start (or the measurement time for raw points)")
    n: int = Field(description="readings in the bucket")
    glucose_mean: float | None = None
    glucose_min: float | None = None
    glucose_max: float | None = None
    systolic_mean: float | None = None
    diastolic_mean: float | None = None
    pulse_mean: float | None = None


class SeriesOut(BaseModel):
    patient_id: int
    kind: MeasurementKind
    since: datetime
    until: datetime
    bucket: str = Field(description="bucket width actually used ('raw' for single readings)")
    units: dict[str, str]
    points: list[SeriesPoint]


class TimeInRanges(BaseModel):
    # Bounds are the patient's targets (StatisticsOut.glucose_targets); the consensus default is shown.
    very_low_pct: float = Field(description="below very_low (default < 54 mg/dL)")
    low_pct: float = Field(description="very_low to below range_low (default 54–69 mg/dL)")
    in_range_pct: float = Field(description="range_low to range_high (default 70–180 mg/dL)")
    high_pct: float = Field(description="above range_high to very_high (default 181–250 mg/dL)")
    very_high_pct: float = Field(description="above very_high (default > 250 mg/dL)")


class Withheld(BaseModel):
    """A figure not shown, and why (below its stated minimum of data)."""

    figure: str
    code: str
    reason: str = Field(description="in English")
    reason_key: str = Field(description="the reason's message id (vitalgate.i18n catalogs), filled from params")
    params: dict[str, float | int | str] = Field(default_factory=dict)


class GlucoseStats(BaseModel):
    readings: int
    variant: Literal["cgm", "bgm", "none"] = Field(
        description="cgm: time-based figures from CGM-like data; bgm: finger-stick meter figures (no GMI)"
    )
    window_days: int
    days_with_data: int = Field(description="the patient's local dates with at least one reading")
    coverage_pct: float | None = Field(
        default=None, description="cgm: 15-minute slots with data; bgm: days with data, % of the window"
    )
    readings_per_day: float | None = None
    lowest_mg_dl: float | None = None
    highest_mg_dl: float | None = None
    mean_mg_dl: float | None = None
    gmi_pct: float | None = Field(
        default=None, description="glucose management indicator, % (Bergenstal 2018); CGM only"
    )
    cv_pct: float | None = Field(default=None, description="coefficient of variation, % (target ≤ 36 %)")
    time_in_ranges: TimeInRanges | None = None
    ranges_basis: Literal["time", "readings"] | None = Field(
        default=None, description="time: % of time (CGM); readings: % of readings (meter)"
    )
    withheld: list[Withheld] = Field(default_factory=list, description="figures not shown and why")


class BloodPressureStats(BaseModel):
    readings: int
    systolic_mean_mmhg: float | None
    diastolic_mean_mmhg: float | None
    pulse_mean_bpm: float | None


class LatestReadingOut(BaseModel):
    id: UUID
    kind: MeasurementKind
    measured_at: datetime
    device_serial: str
    glucose_mg_dl: float | None
    systolic_mmhg: float | None
    diastolic_mmhg: float | None
    map_mmhg: float | None
    pulse_bpm: float | None
    status: list[str]


class GlucoseTargetsOut(BaseModel):
    """The ranges the figures were counted in: the patient's record (preset + overrides, store.targets)."""

    preset: str
    very_low_mg_dl: float
    range_low_mg_dl: float
    range_high_mg_dl: float
    very_high_mg_dl: float | None
    in_range_goal_pct: float


class StatisticsOut(BaseModel):
    patient_id: int
    glucose_window_days: int
    glucose: GlucoseStats
    glucose_targets: GlucoseTargetsOut | None = Field(
        default=None, description="the ranges time_in_ranges counts (the patient's targets)"
    )
    bp_home_7d: BloodPressureStats
    reading_days_last_30: int = Field(
        description="the last 30 of the patient's local dates (today included) with a reading"
    )
    meets_16_of_30_days: bool = Field(
        description="remote-monitoring adherence (CMS CPT 99454: data on ≥ 16 of 30 days)"
    )
    latest: list[LatestReadingOut]


class ProfileHour(BaseModel):
    hour: int = Field(ge=0, le=23)
    n: int
    p05: float | None = Field(description="None when the bands are withheld")
    p25: float | None
    p50: float
    p75: float | None
    p95: float | None


class MealSlot(BaseModel):
    slot: str = Field(description="fasting, preprandial, postprandial, bedtime, casual or unspecified")
    n: int
    median_mg_dl: float
    lowest_mg_dl: float
    highest_mg_dl: float


class DailyProfileOut(BaseModel):
    patient_id: int
    days: int
    timezone: str
    hours: list[ProfileHour] = Field(description="by local hour: count and median; percentile bands unless withheld")
    bands_withheld: str | None = Field(
        default=None, description="why the percentile bands are not drawn (too few readings in some hours)"
    )
    min_readings_per_hour: int
    meal_slots: list[MealSlot] = Field(default_factory=list, description="meter summary when bands are withheld")


class DeviceOut(BaseModel):
    binding_id: int
    serial: str
    kind: DeviceKind
    model: str | None
    manufacturer: str | None
    valid_from: datetime
    valid_to: datetime | None
    bound_by: str | None
    last_seen_at: datetime | None


class BindRequest(BaseModel):
    serial: str | None = Field(default=None, min_length=1, max_length=64, description="device serial number")
    claim_code: str | None = Field(
        default=None, max_length=20, description="claim code printed by `vitalgate gateway pair` (XXXX-XXXX-XXXX)"
    )
    kind: DeviceKind | None = Field(default=None, description="needed only for a device the server has not seen yet")
    valid_from: datetime | None = Field(default=None, description="staff only: binding start (default now)")

    @model_validator(mode="after")
    def _one_identifier(self) -> BindRequest:
        if (self.serial is None) == (self.claim_code is None):
            raise ValueError("give exactly one of serial or claim_code")
        return self


class BindingOut(BaseModel):
    binding_id: int
    serial: str
    patient_id: int
    valid_from: datetime
    readings_filed: int = Field(description="earlier unassigned readings now filed to this patient")


class UnboundDeviceOut(BaseModel):
    serial: str
    kind: DeviceKind | None
    model: str | None
    manufacturer: str | None
    unassigned_readings: int
    first_measured_at: datetime
    last_measured_at: datetime
    gateway_id: str | None


class TaskOut(BaseModel):
    id: int
    alert_id: int | None
    patient_id: int
    patient_ref: str | None
    patient_name: str
    patient_tags: list[str]
    care_team_id: int
    assignee_id: int | None
    assignee: str | None
    severity: Severity
    status: TaskStatus
    title: str
    due_at: datetime
    overdue: bool
    escalation_chain: str | None
    escalation_level: int = Field(description="escalation steps delivered so far")
    next_touchpoint: str | None = Field(description="channel of the next pending escalation step")
    created_at: datetime
    closed_at: datetime | None
    outcome: str | None


class OutcomeRequest(BaseModel):
    outcome: Outcome
    note: str | None = Field(default=None, max_length=2000)


class TaskEventOut(BaseModel):
    task_id: int
    at: datetime
    actor: str
    kind: str
    detail: dict[str, Any]


class AlertOut(BaseModel):
    id: int
    rule_id: str
    severity: Severity
    status: str
    summary: str
    opened_at: datetime
    resolved_at: datetime | None


class AuditOut(BaseModel):
    id: int
    at: datetime
    actor: str
    actor_id: int | None
    role: str
    action: str
    patient_id: int | None
    source: str | None
    detail: dict[str, Any]


class UserIn(BaseModel):
    username: str = Field(min_length=3, max_length=64, pattern=r"^[A-Za-z0-9_.@-]+$")
    display_name: str = Field(min_length=1, max_length=200)
    role: Role
    password: str = Field(min_length=12, max_length=256, description="at least 12 characters")
    care_team_id: int | None = None
    patient_id: int | None = Field(default=None, description="for role patient: the patient record to sign in as")
    caregiver_id: int | None = Field(
        default=None, ge=1, le=2**63 - 1, description="for role caregiver: the caregiver entry this login stands for"
    )


class UserOut(BaseModel):
    id: int
    username: str
    display_name: str
    role: Role
    on_duty: bool
    disabled: bool
    care_team_ids: list[int]


class TeamIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)


class TeamOut(BaseModel):
    id: int
    name: str
    members: int
    patients: int


class MemberIn(BaseModel):
    user_id: int
