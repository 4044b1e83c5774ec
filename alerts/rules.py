"""Rule definitions and their pure, numpy-vectorised evaluation (no I/O)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

Severity = Literal["urgent", "high", "routine"]


@dataclass(frozen=True, slots=True)
class ThresholdRule:
    """A single reading beyond a limit, e.g. glucose < 54 mg/dL."""

    id: str
    kind: Literal["glucose", "blood_pressure"]
    field: str  # column of the readings table, in stored units
    op: Literal["<", ">"]
    limit: float
    unit: str
    severity: Severity
    title: str


@dataclass(frozen=True, slots=True)
class Breach:
    """The readings of one patient that broke one rule in one evaluation."""

    rule: ThresholdRule
    patient_id: int
    reading_ids: tuple[str, ...]
    worst_value: float
    count: int


DEFAULT_RULES: tuple[ThresholdRule, ...] = (
    # ADA Standards of Care in Diabetes (2024), section 6 "Glycemic Goals and Hypoglycemia":
    # level 2 hypoglycemia is glucose < 54 mg/dL (3.0 mmol/L), clinically significant, needs
    # immediate action.
    ThresholdRule(
        id="glucose-level2-hypo",
        kind="glucose",
        field="glucose_mg_dl",
        op="<",
        limit=54.0,
        unit="mg/dL",
        severity="urgent",
        title="Level 2 hypoglycemia (glucose < 54 mg/dL)",
    ),
)


def threshold_mask(rule: ThresholdRule, values: np.ndarray) -> np.ndarray:
    """Boolean mask of values beyond the rule's limit (NaN never breaches)."""
    with np.errstate(invalid="ignore"):
        return values < rule.limit if rule.op == "<" else values > rule.limit


def find_breaches(
    rule: ThresholdRule, patient_ids: np.ndarray, reading_ids: np.ndarray, values: np.ndarray
) -> list[Breach]:
    """Group the breaching readings by patient (arrays are aligned, one entry per reading)."""
    mask = threshold_mask(rule, values)
    if not mask.any():
        return []
    hit_patients, hit_ids, hit_values = patient_ids[mask], reading_ids[mask], values[mask]
    breaches = []
    for patient in np.unique(hit_patients):
        sel = hit_patients == patient
        worst = float(hit_values[sel].min() if rule.op == "<" else hit_values[sel].max())
        breaches.append(
            Breach(rule, int(patient), tuple(str(i) for i in hit_ids[sel]), worst, int(sel.sum()))
        )
    return breaches
