"""Text of the visit reports in the viewer's language and glucose unit.

`t(language, msgid, **params)` is the translate call the reports use; until the shared catalogs
(vitalgate.i18n) are in place it formats the English msgid, so every report string already goes
through one call that the catalogs take over.
"""

from __future__ import annotations

from typing import Any, Literal

GlucoseUnit = Literal["mg/dL", "mmol/L"]
MG_DL_PER_MMOL_L = 18.016  # glucose molar mass 180.16 g/mol


def t(language: str, msgid: str, **params: Any) -> str:
    return msgid.format(**params) if params else msgid


def glucose(value_mg_dl: float | None, unit: GlucoseUnit) -> str:
    """'48 mg/dL' or '2.7 mmol/L' (no unit for None: an em dash)."""
    if value_mg_dl is None:
        return "—"
    if unit == "mmol/L":
        return f"{value_mg_dl / MG_DL_PER_MMOL_L:.1f} mmol/L"
    return f"{value_mg_dl:.0f} mg/dL"


def glucose_number(value_mg_dl: float, unit: GlucoseUnit) -> float:
    return value_mg_dl / MG_DL_PER_MMOL_L if unit == "mmol/L" else value_mg_dl
