"""Per-patient glucose target ranges: consensus presets plus validated per-patient overrides (pure)."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from vitalgate.store.record_vocab import TargetPreset


@dataclass(frozen=True, slots=True)
class GlucoseTargets:
    """Ranges (mg/dL) and goals (% of readings) a patient's data are judged against."""

    preset: TargetPreset
    range_low_mg_dl: float  # lower bound of "in range"
    range_high_mg_dl: float  # upper bound of "in range"
    very_low_mg_dl: float  # level 2 hypoglycaemia
    very_high_mg_dl: float | None  # level 2 hyperglycaemia (none stated for pregnancy)
    in_range_goal_pct: float  # more than this in range
    below_goal_pct: float  # less than this below range_low
    very_low_goal_pct: float | None  # less than this below very_low
    above_goal_pct: float | None  # less than this above range_high
    very_high_goal_pct: float | None  # less than this above very_high
    fasting_low_mg_dl: float | None  # pre-meal (fasting) goal, finger-stick
    fasting_high_mg_dl: float
    postprandial_high_mg_dl: float  # peak after a meal (pregnancy: 1 h after)


# Battelino T, et al. Clinical targets for CGM data interpretation: International Consensus on
# Time in Range. Diabetes Care 2019;42:1593-1603 (Table 2/Figure 2): type 1 and type 2 diabetes,
# TIR 70-180 > 70 %, < 70 under 4 %, < 54 under 1 %, > 180 under 25 %, > 250 under 5 %.
# Finger-stick goals: ADA Standards of Care 2024, §6 Glycemic Goals: pre-meal 80-130, peak after a meal < 180.
STANDARD = GlucoseTargets(
    TargetPreset.STANDARD, 70, 180, 54, 250, 70, 4, 1, 25, 5, fasting_low_mg_dl=80, fasting_high_mg_dl=130,
    postprandial_high_mg_dl=180,
)  # fmt: skip
# Battelino 2019, older/high-risk: TIR 70-180 > 50 %, < 70 under 1 %, > 250 under 10 %.
# ADA Standards of Care 2024, §13 Older Adults, Table 13.1 "complex/intermediate": fasting 90-150,
# bedtime 100-180 (we use 180 as the after-meal bound).
OLDER_ADULT = GlucoseTargets(
    TargetPreset.OLDER_ADULT, 70, 180, 54, 250, 50, 1, None, None, 10, fasting_low_mg_dl=90, fasting_high_mg_dl=150,
    postprandial_high_mg_dl=180,
)  # fmt: skip
# Battelino 2019, pregnancy (type 1): TIR 63-140 > 70 %, < 63 under 4 %, < 54 under 1 %, > 140 under 25 %.
# ADA Standards of Care 2024, §15 Management of Diabetes in Pregnancy: fasting < 95, 1 h after a meal
# < 140 (2 h < 120) mg/dL.
PREGNANCY = GlucoseTargets(
    TargetPreset.PREGNANCY, 63, 140, 54, None, 70, 4, 1, 25, None, fasting_low_mg_dl=None, fasting_high_mg_dl=95,
    postprandial_high_mg_dl=140,
)  # fmt: skip

PRESETS: dict[TargetPreset, GlucoseTargets] = {t.preset: t for t in (STANDARD, OLDER_ADULT, PREGNANCY)}


class TargetOverrides(BaseModel):
    """Numbers a clinician changes for one patient; anything left out comes from the preset."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    range_low_mg_dl: float | None = Field(default=None, ge=40, le=200)
    range_high_mg_dl: float | None = Field(default=None, ge=100, le=400)
    very_low_mg_dl: float | None = Field(default=None, ge=30, le=70)
    very_high_mg_dl: float | None = Field(default=None, ge=180, le=600)
    in_range_goal_pct: float | None = Field(default=None, ge=0, le=100)
    below_goal_pct: float | None = Field(default=None, ge=0, le=100)
    fasting_low_mg_dl: float | None = Field(default=None, ge=40, le=200)
    fasting_high_mg_dl: float | None = Field(default=None, ge=60, le=300)
    postprandial_high_mg_dl: float | None = Field(default=None, ge=100, le=400)

    @model_validator(mode="after")
    def _ordered(self) -> TargetOverrides:
        for low, high in (("range_low_mg_dl", "range_high_mg_dl"), ("fasting_low_mg_dl", "fasting_high_mg_dl")):
            lo, hi = getattr(self, low), getattr(self, high)
            if lo is not None and hi is not None and lo >= hi:
                raise ValueError(f"{low} must be below {high}")
        return self


def resolve(preset: str, overrides: dict[str, Any] | None = None) -> GlucoseTargets:
    """The preset's targets with the patient's overrides applied (ValueError when they contradict)."""
    base = PRESETS[TargetPreset(preset)]
    given = TargetOverrides.model_validate(overrides or {}).model_dump(exclude_none=True)
    merged = replace(base, **given)
    if merged.range_low_mg_dl >= merged.range_high_mg_dl or merged.very_low_mg_dl >= merged.range_low_mg_dl:
        raise ValueError("targets must satisfy very_low < range_low < range_high")
    return merged


def as_dict(targets: GlucoseTargets) -> dict[str, Any]:
    """Plain values for JSON."""
    return {f.name: getattr(targets, f.name) for f in fields(targets)}
