"""Covariates of one patient at enrolment, from the stored baseline facts (age band, sex, condition, readings)."""

from __future__ import annotations

from datetime import date
from typing import Any

from vitalgate.programs.definitions import Covariate
from vitalgate.store.program_baseline import BaselineFacts

# Age bands as in most chronic-care program reports (adult, middle age, young-old, old).
AGE_BANDS = ((45, "<45"), (65, "45-64"), (75, "65-74"))
OLDEST_BAND = ">=75"


def age_on(facts: BaselineFacts, day: date) -> int | None:
    if facts.birth_date is not None:
        b = facts.birth_date
        return day.year - b.year - ((day.month, day.day) < (b.month, b.day))
    if facts.birth_year is not None:
        return day.year - facts.birth_year  # birth year only: the age reached this year
    return None


def age_band(age: int | None) -> str | None:
    if age is None:
        return None
    for upper, label in AGE_BANDS:
        if age < upper:
            return label
    return OLDEST_BAND


def covariates(facts: BaselineFacts, day: date) -> dict[str, Any]:
    """Every known covariate (None when unknown); a program uses the ones it declares."""
    return {
        Covariate.AGE_BAND: age_band(age_on(facts, day)),
        Covariate.SEX: facts.sex,
        Covariate.CONDITION_SUBTYPE: facts.condition_subtype,
        Covariate.CONDITION_STAGE: facts.condition_stage,
        Covariate.BASELINE_TIR_PCT: None if facts.tir_pct is None else round(float(facts.tir_pct), 1),
        Covariate.BASELINE_SYSTOLIC_MMHG: (
            None if facts.systolic_mean_mmhg is None else round(float(facts.systolic_mean_mmhg), 1)
        ),
    }
