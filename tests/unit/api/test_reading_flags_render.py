"""The patient page's readings table shows a hub-placed time and a meter's HI/LO bound (issue 12, items 2-3)."""

from __future__ import annotations

from datetime import UTC, datetime

from vitalgate.api.web_common import templates


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
    macros = templates.env.get_template("_macros.html").module
    html = str(
        macros.readings_table(
            [_row(status=["time_uncertain"]), _row(glucose_mg_dl=500.0, context={"glucose_comparator": ">"})],
            lambda t: t.isoformat(),
        )
    )
    assert html.count("time uncertain") == 1
    assert "&gt; 500 mg/dL" in html or "> 500 mg/dL" in html
