"""The patient page's readings table shows a hub-placed time and a meter's HI/LO bound (issue 12, items 2-3)."""

from __future__ import annotations

from datetime import UTC, datetime

from vitalgate.api.glucose_display import format_glucose
from vitalgate.api.web_common import templates
from vitalgate.domain import GlucoseUnit, Language
from vitalgate.i18n import using


def _macros(unit: GlucoseUnit, language: Language = Language.EN):  # type: ignore[no-untyped-def]
    """The macros as a page imports them (with its context: the viewer's unit)."""
    context = {"unit": unit, "glu": lambda mg_dl: format_glucose(mg_dl, unit, language)}
    return templates.env.get_template("_macros.html").make_module(context)


def _row(**extra):
    return {
        "kind": "glucose",
        "measured_at": datetime(2026, 11, 29, 12, tzinfo=UTC),
        "glucose_mg_dl": 45.0,
        "device_serial": "VGM-1",
        "status": [],
        "context": {},
        **extra,
    }


def test_time_uncertain_reading_is_flagged_and_hi_shows_its_comparator() -> None:
    macros = _macros(GlucoseUnit.MG_DL)
    html = str(
        macros.readings_table(
            [_row(status=["time_uncertain"]), _row(glucose_mg_dl=500.0, context={"glucose_comparator": ">"})],
            lambda t: t.isoformat(),
        )
    )
    assert html.count("time uncertain") == 1
    assert "&gt; 500 mg/dL" in html or "> 500 mg/dL" in html


def test_readings_table_in_mmol_per_l_and_chinese() -> None:
    """A Chinese reader with mmol/L: 45 mg/dL shows as 2.5 mmol/L, the HI bound 500 as 27.8, words in Chinese."""
    with using(Language.ZH_HANS):
        macros = _macros(GlucoseUnit.MMOL_L, Language.ZH_HANS)
        html = str(
            macros.readings_table(
                [_row(status=["time_uncertain"]), _row(glucose_mg_dl=500.0, context={"glucose_comparator": ">"})],
                lambda t: t.isoformat(),
            )
        )
    assert "2.5 mmol/L" in html and "&gt; 27.8 mmol/L" in html and "mg/dL" not in html
    assert "时间不确定" in html and "测量时间" in html and "血糖" in html
