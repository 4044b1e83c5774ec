"""Glucose in the viewer's unit: worked examples (1 mmol/L = 18.0156 mg/dL, mmol/L to one decimal, half up)."""

from __future__ import annotations

import pytest

from vitalgate.api.glucose_display import TIR_BOUNDS, format_glucose, glucose_in, glucose_series
from vitalgate.domain import GlucoseUnit


@pytest.mark.parametrize(
    ("mg_dl", "mmol_l"),
    [(54, 3.0), (70, 3.9), (180, 10.0), (250, 13.9), (100, 5.6), (45, 2.5), (500, 27.8), (126, 7.0)],
)
def test_worked_examples(mg_dl: float, mmol_l: float) -> None:
    assert glucose_in(mg_dl, GlucoseUnit.MMOL_L) == mmol_l
    assert format_glucose(mg_dl, "mmol/L", "zh-Hans") == f"{mmol_l:.1f}"


def test_mg_dl_is_whole_numbers_and_unknown_units_fall_back() -> None:
    assert format_glucose(99.6, GlucoseUnit.MG_DL, "en") == "100"
    assert format_glucose(99.6, None, "en") == "100"
    assert format_glucose(99.6, "mmol/l?", "en") == "100"
    assert format_glucose(None, GlucoseUnit.MMOL_L, "en") == "—"


def test_half_up_at_the_display_step() -> None:
    # 53.145... mg/dL is exactly 2.95 mmol/L up to float noise: it shows as 3.0, never 2.9.
    assert glucose_in(2.95 * 18.0156, GlucoseUnit.MMOL_L) == 3.0


def test_series_keep_gaps_and_consensus_bounds_are_written_as_published() -> None:
    assert glucose_series([54.0, None, 180.0], GlucoseUnit.MMOL_L) == [3.0, None, 10.0]
    assert TIR_BOUNDS[GlucoseUnit.MMOL_L][2] == "3.9–10.0"
