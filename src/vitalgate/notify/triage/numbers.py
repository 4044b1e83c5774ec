"""Glucose and blood-pressure values written in a message ("sugar 2.8", "血糖28", "BP 195/118")."""

from __future__ import annotations

import re

# ADA Standards of Care: level 1 hypoglycaemia < 70 mg/dL (3.9 mmol/L); a reading >= 300 mg/dL
# (16.7 mmol/L) with a patient writing in warrants a ketone check. Both are reasons to call.
LOW_MMOL_L = 3.9
HIGH_MMOL_L = 16.7
MG_DL_PER_MMOL_L = 18.0156
# A value at or under this is taken as mmol/L (no meter reads 33 mg/dL without saying LO).
LARGEST_MMOL_L = 33.3
# ACC/AHA 2017: hypertensive crisis above 180 systolic and/or 120 diastolic mmHg.
CRISIS_SYSTOLIC_MM_HG = 180
CRISIS_DIASTOLIC_MM_HG = 120

_GLUCOSE_WORD = r"(?:blood\s+sugar|sugars?|glucose|\bbg\b|meter|reading|low\s+again|血糖|测了|又低了|低了)"
_FILLER = (
    r"(?:[\s:：,，]*(?:is|was|were|are|at|of|reads?|said|says|showed|shows|above|below|about|around|only|just|"
    r"now|still|仪显示|显示|是|到|为|只有|才))*[\s:：,，]*"
)
_GLUCOSE = re.compile(_GLUCOSE_WORD + _FILLER + r"(\d{1,3}(?:\.\d+)?)(?![\d/])")
_METER_LO_HI = re.compile(r"(?:says|shows|reads|显示)\s*['\"]?(lo|hi)\b")
_BLOOD_PRESSURE = re.compile(r"(?<![\d.])(\d{2,3})\s*(?:/|over|\\)\s*(\d{2,3})(?![\d.])")


def glucose_mmol_l(value: str) -> float:
    """A written glucose value in mmol/L (mg/dL when it is too large to be mmol/L)."""
    number = float(value)
    return number if "." in value or number <= LARGEST_MMOL_L else number / MG_DL_PER_MMOL_L


def alarming_values(text: str) -> list[str]:
    """The glucose and BP values in a normalised message that a nurse must hear about."""
    found: list[str] = []
    for match in _GLUCOSE.finditer(text):
        mmol_l = glucose_mmol_l(match.group(1))
        if mmol_l < LOW_MMOL_L or mmol_l >= HIGH_MMOL_L:
            found.append(match.group(0).strip())
    found += [m.group(0) for m in _METER_LO_HI.finditer(text)]
    for match in _BLOOD_PRESSURE.finditer(text):
        systolic, diastolic = int(match.group(1)), int(match.group(2))
        if systolic >= 70 and (systolic >= CRISIS_SYSTOLIC_MM_HG or diastolic >= CRISIS_DIASTOLIC_MM_HG):
            found.append(match.group(0))
    return found
