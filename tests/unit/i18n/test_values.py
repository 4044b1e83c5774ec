"""Stored titles as msgid + parameters: mg/dL values become glucose parameters, English round-trips."""

from __future__ import annotations

import pytest

from vitalgate.i18n.values import english, split_glucose

TITLES = [
    "Level 2 hypoglycemia (glucose < 54 mg/dL)",
    "Level 1 hypoglycemia (glucose 54-69 mg/dL)",
    "Time in range 70-180 mg/dL below 70 % over 14 days",
    "Meter HI: glucose above the meter's range (> 500 mg/dL), check ketones",
    "Glucose 48 mg/dL (level 2 hypoglycemia)",
    "7-day home systolic mean >= 135 mmHg",
    "Odd {braces} and 5.5 mg/dL",
]


@pytest.mark.parametrize("title", TITLES)
def test_round_trip(title: str) -> None:
    key, params = split_glucose(title)
    assert english(key, params) == title


def test_keys_and_params() -> None:
    key, params = split_glucose("Level 1 hypoglycemia (glucose 54-69 mg/dL)")
    assert key == "Level 1 hypoglycemia (glucose {g0}-{g1} {glucose_unit})"
    assert params == {"g0": {"mg_dl": 54.0}, "g1": {"mg_dl": 69.0}, "glucose_unit": "mg/dL"}
    key, params = split_glucose("Time in range 70-180 mg/dL below 70 % over 14 days")
    assert key == "Time in range {g0}-{g1} {glucose_unit} below 70 % over 14 days"  # the 70 % stays
    assert split_glucose("7-day home systolic mean >= 135 mmHg") == ("7-day home systolic mean >= 135 mmHg", {})
