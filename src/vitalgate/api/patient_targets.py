"""A patient's glucose targets (store.targets: preset + overrides from the record) as pages show them.

The same numbers drive the in-range figures (store.patient_stats), the range legend and the charts'
reference band, so a patient on an older-adult range sees that range everywhere on their pages.
"""

from __future__ import annotations

import psycopg

from vitalgate.api.glucose_display import DECIMALS, glucose_in
from vitalgate.domain import GlucoseUnit
from vitalgate.store import patient_record
from vitalgate.store.targets import STANDARD, GlucoseTargets, resolve

# The charts' y range keeps the usual view of a meter's readings (mg/dL).
Y_MIN_MG_DL, Y_MAX_MG_DL = 40.0, 300.0


async def targets_of(conn: psycopg.AsyncConnection, patient_id: int) -> GlucoseTargets:
    """The record's preset with its overrides; the consensus standard when the record has none or they contradict."""
    record = await patient_record.get_record(conn, patient_id)
    if record is None:
        return STANDARD
    try:
        return resolve(record.target_preset, record.targets)
    except ValueError:  # validated on write; an old row that no longer validates falls back, never fails a page
        return STANDARD


def _fmt(value: float, unit: GlucoseUnit) -> str:
    return f"{value:.{DECIMALS[unit]}f}"


def tir_bounds(targets: GlucoseTargets, unit: GlucoseUnit) -> tuple[str, str, str, str, str]:
    """Labels of the five ranges in the unit, written as the consensus writes them (70-180 mg/dL ->
    '54–69', '70–180', '181–250'; in mmol/L '3.0–3.8', '3.9–10.0', '10.1–13.9'): a band's inner bound
    is one display step inside its neighbour's."""
    step = 1.0 if DECIMALS[unit] == 0 else 0.1
    vl, lo, hi = (
        glucose_in(v, unit) for v in (targets.very_low_mg_dl, targets.range_low_mg_dl, targets.range_high_mg_dl)
    )
    low = f"{_fmt(vl, unit)}–{_fmt(lo - step, unit)}"
    if targets.very_high_mg_dl is None:
        return (f"< {_fmt(vl, unit)}", low, f"{_fmt(lo, unit)}–{_fmt(hi, unit)}", f"> {_fmt(hi, unit)}", "—")
    vh = glucose_in(targets.very_high_mg_dl, unit)
    return (
        f"< {_fmt(vl, unit)}",
        low,
        f"{_fmt(lo, unit)}–{_fmt(hi, unit)}",
        f"{_fmt(hi + step, unit)}–{_fmt(vh, unit)}",
        f"> {_fmt(vh, unit)}",
    )


def chart_refs(targets: GlucoseTargets, unit: GlucoseUnit) -> dict[str, float | None]:
    """The charts' reference band (in range) and lines (level 2 low/high) in the viewer's unit."""
    refs = {
        "very_low": targets.very_low_mg_dl,
        "low": targets.range_low_mg_dl,
        "high": targets.range_high_mg_dl,
        "very_high": targets.very_high_mg_dl,
        "y_min": Y_MIN_MG_DL,
        "y_max": Y_MAX_MG_DL,
    }
    return {k: None if v is None else glucose_in(v, unit) for k, v in refs.items()}
