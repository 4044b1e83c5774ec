"""Declarative rule definitions: pydantic models for the TOML rule file, loading and overrides."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from vitalgate.alerts.segments import validate_segment
from vitalgate.core.toml_model import parse_toml_model
from vitalgate.domain import MeasurementKind, Severity

Op = Literal["<", "<=", ">", ">="]

# Stored units per readings column (the store keeps mg/dL and mmHg only).
FIELD_UNITS: dict[str, str] = {
    "glucose_mg_dl": "mg/dL",
    "systolic_mmhg": "mmHg",
    "diastolic_mmhg": "mmHg",
    "map_mmhg": "mmHg",
    "pulse_bpm": "/min",
}
FIELD_MEASUREMENT: dict[str, MeasurementKind] = {"glucose_mg_dl": MeasurementKind.GLUCOSE} | {
    f: MeasurementKind.BLOOD_PRESSURE for f in ("pulse_bpm", "systolic_mmhg", "diastolic_mmhg", "map_mmhg")
}
# 1 mmol/L glucose = 18.0156 mg/dL (molar mass 180.156 g/mol); 1 kPa = 7.50062 mmHg.
_CONVERT = {("mmol/L", "mg/dL"): 18.0156, ("kPa", "mmHg"): 7.50062, ("mm[Hg]", "mmHg"): 1.0}


class RuleError(ValueError):
    """A rule file or override that does not validate."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Condition(_Model):
    """One value against a limit, with its unit (converted to the stored unit on load)."""

    field: Literal["glucose_mg_dl", "systolic_mmhg", "diastolic_mmhg", "map_mmhg", "pulse_bpm"]
    op: Op
    value: float
    unit: str

    @model_validator(mode="after")
    def _to_stored_unit(self) -> Condition:
        stored = FIELD_UNITS[self.field]
        if self.unit == stored:
            return self
        factor = _CONVERT.get((self.unit, stored))
        if factor is None:
            raise ValueError(f"unit {self.unit!r} cannot be used for {self.field} (stored in {stored})")
        return Condition(field=self.field, op=self.op, value=round(self.value * factor, 3), unit=stored)


class _RuleBase(_Model):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9\-]*$")
    title: str
    severity: Severity
    segment: str = "*"  # tag expression selecting the patients this rule applies to
    enabled: bool = True
    escalation: str | None = None  # escalation chain id; None = chosen by segment/severity
    auto_resolve: bool = True  # resolve the episode when the condition clears
    # Statistic rules (trend, missing data) only: how long a person's closure holds while the same
    # condition persists. Reading rules never use it: a new reading is a new event (alerts/README.md).
    cooldown_hours: float = Field(default=24.0, ge=0)
    # Rules of one group share a task per patient: a higher-severity event raises the open task of a
    # lower one (level 1 -> level 2 hypoglycemia); a lower one is added to an open higher task.
    group: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9\-]*$")
    source: str = ""  # clinical source, shown with the alert

    _segment_parses = field_validator("segment")(validate_segment)


class ThresholdRule(_RuleBase):
    """Any reading in the window (or in the just-ingested batch) meeting the conditions."""

    kind: Literal["threshold"] = "threshold"
    measurement: MeasurementKind
    conditions: list[Condition] = Field(min_length=1)
    match: Literal["any", "all"] = "any"
    window_hours: float = Field(default=24.0, gt=0)  # episode stays open this long after the last breach
    meals: list[str] | None = None  # only readings with context meal in this list
    # Only readings whose value is a meter's reporting limit with this comparator (HI: ">", LO: "<").
    comparator: Literal["<", ">"] | None = None


class ConsecutiveRule(_RuleBase):
    """At least n of a patient's last m readings (optionally of given meal contexts) beyond a limit."""

    kind: Literal["consecutive"] = "consecutive"
    measurement: MeasurementKind
    condition: Condition
    n: int = Field(ge=1)
    m: int = Field(ge=1)
    meals: list[str] | None = None
    lookback_days: float = Field(default=14.0, gt=0)
    one_per_local_day: bool = False  # count the last matching reading of each patient-local date only

    @model_validator(mode="after")
    def _n_le_m(self) -> ConsecutiveRule:
        if self.n > self.m:
            raise ValueError("n must not exceed m")
        return self


class TrendRule(_RuleBase):
    """A statistic over a window of days: mean, slope of daily means, CV, time in / below range."""

    kind: Literal["trend"] = "trend"
    metric: Literal["mean", "slope_per_week", "cv_percent", "time_in_range_percent", "time_below_percent"]
    field: Literal["glucose_mg_dl", "systolic_mmhg", "diastolic_mmhg", "map_mmhg", "pulse_bpm"]
    op: Op
    value: float
    unit: str  # unit of `value`: the field's unit, its unit per week, or '%'
    window_days: int = Field(default=14, ge=1, le=90)
    exclude_first_day: bool = False
    min_readings: int = Field(default=1, ge=1)
    min_days: int = Field(default=1, ge=1)
    range_low: float | None = None  # mg/dL, for time in / below range
    range_high: float | None = None
    parts_of_day: list[Literal["morning", "evening"]] | None = None  # patient-local; None: all readings
    # slope_per_week only: compare the one-sided 95 % confidence bound of the slope (lower for ">",
    # upper for "<") instead of the estimate, so day-to-day scatter alone does not make a trend.
    slope_confidence_95: bool = False


class ForecastRule(_RuleBase):
    """A predicted glucose below a limit within a short horizon (AR2 adapted to meter readings)."""

    kind: Literal["forecast"] = "forecast"
    below_mg_dl: float = Field(gt=0)
    horizon_minutes: int = Field(default=30, ge=5, le=60)
    max_gap_minutes: int = Field(default=30, ge=5, le=120)


class MissingDataRule(_RuleBase):
    """No reading for `silent_days`, or fewer than `min_days` reading days in the last `window_days`."""

    kind: Literal["missing_data"] = "missing_data"
    mode: Literal["silence", "coverage"]
    silent_days: float = Field(default=3.0, gt=0)
    min_days: int = Field(default=16, ge=1)
    window_days: int = Field(default=30, ge=1, le=90)
    measurement: MeasurementKind | None = None  # None: any reading counts


class QuestionnaireRule(_RuleBase):
    """A score of the patient's latest completed response to a questionnaire beyond a limit.

    Scores are declared in the questionnaire definition (vitalgate.questionnaires); a single
    answer is a score of one item (e.g. PHQ-9 'item-9'). Each completed response is one event.
    """

    kind: Literal["questionnaire"] = "questionnaire"
    questionnaire: str = Field(pattern=r"^[a-z0-9][a-z0-9\-]*$")
    score: str = Field(pattern=r"^[a-z0-9][a-z0-9\-]*$")
    op: Op
    value: float
    within_days: float = Field(default=14.0, gt=0)  # older responses say nothing about now


Rule = Annotated[
    ThresholdRule | ConsecutiveRule | TrendRule | ForecastRule | MissingDataRule | QuestionnaireRule,
    Field(discriminator="kind"),
]


class RuleSet(_Model):
    """A validated rule file."""

    version: Literal[1] = 1
    rules: list[Rule]

    @model_validator(mode="after")
    def _unique_ids(self) -> RuleSet:
        ids = [r.id for r in self.rules]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"duplicate rule ids: {dupes}")
        return self

    def by_id(self, rule_id: str) -> Any:
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(rule_id)


def parse_rules(text: str, *, origin: str = "<rules>") -> RuleSet:
    """Parse and validate TOML rule text; a bad file raises RuleError naming the problem."""
    return parse_toml_model(RuleSet, text, origin=origin, error=RuleError)


@lru_cache(maxsize=1)
def default_rules() -> RuleSet:
    """The rules shipped in the package (alerts/default_rules.toml)."""
    text = resources.files("vitalgate.alerts").joinpath("default_rules.toml").read_text(encoding="utf-8")
    return parse_rules(text, origin="alerts/default_rules.toml")


def load_rules(path: Path | None = None) -> RuleSet:
    """A rule file from disk, or the shipped defaults."""
    if path is None:
        return default_rules()
    return parse_rules(path.read_text(encoding="utf-8"), origin=str(path))


def apply_override(rule: Any, params: dict[str, Any]) -> Any:
    """The rule with override params merged over it, validated by the same model."""
    if {"id", "kind"} & params.keys():
        raise RuleError(f"override of {rule.id} may not change its id or kind")
    try:
        return type(rule).model_validate({**rule.model_dump(), **params})
    except ValidationError as exc:
        raise RuleError(f"override of {rule.id}: {exc}") from exc
