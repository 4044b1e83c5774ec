"""Task titles and alert summaries in the reader's language and glucose unit (stored key + params, old rows too)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from vitalgate.alerts.threshold import _summary
from vitalgate.api.glucose_display import showing_unit
from vitalgate.api.web_titles import alert_text, task_title
from vitalgate.domain import GlucoseUnit, Language
from vitalgate.i18n import using
from vitalgate.i18n.values import text_key


@dataclass
class Row:
    title: str
    title_key: str | None = None
    title_params: dict[str, Any] | None = None


@dataclass
class AlertRow:
    summary: str
    summary_key: str | None = None
    summary_params: dict[str, Any] | None = None


def _read(row: Row | AlertRow, language: Language, unit: GlucoseUnit) -> str:
    with using(language), showing_unit(unit):
        return task_title(row) if isinstance(row, Row) else alert_text(row)


def test_stored_key_in_chinese_and_mmol() -> None:
    title = "Level 2 hypoglycemia (glucose < 54 mg/dL)"
    key, params = text_key(title)  # what store.tasks writes
    row = Row(title, key, params)
    assert _read(row, Language.ZH_HANS, GlucoseUnit.MMOL_L) == "2 级低血糖（血糖 < 3.0 mmol/L）"
    assert _read(row, Language.EN, GlucoseUnit.MG_DL) == title
    assert _read(row, Language.EN, GlucoseUnit.MMOL_L) == "Level 2 hypoglycemia (glucose < 3.0 mmol/L)"


def test_old_rows_without_a_key_still_read() -> None:
    row = Row("Level 1 hypoglycemia (glucose 54-69 mg/dL)")
    assert _read(row, Language.ZH_HANS, GlucoseUnit.MMOL_L) == "1 级低血糖（血糖 3.0-3.8 mmol/L）"
    free = Row("Glucose 48 mg/dL (level 2 hypoglycemia)")  # no catalog entry: English, unit converted
    assert _read(free, Language.ZH_HANS, GlucoseUnit.MMOL_L) == "Glucose 2.7 mmol/L (level 2 hypoglycemia)"
    assert _read(Row("Call the patient"), Language.ZH_HANS, GlucoseUnit.MMOL_L) == "Call the patient"


def test_threshold_alert_summary() -> None:
    summary = _summary("Level 2 hypoglycemia (glucose < 54 mg/dL)", 2, True, "", 48.0, "mg/dL")
    assert summary == "Level 2 hypoglycemia (glucose < 54 mg/dL): 2 reading(s), lowest 48 mg/dL"  # stored English
    key, params = text_key(summary)
    row = AlertRow(summary, key, params)
    assert (
        _read(row, Language.ZH_HANS, GlucoseUnit.MMOL_L) == "2 级低血糖（血糖 < 3.0 mmol/L）：2 次读数，最低 2.7 mmol/L"
    )
    bp = _summary("Hypertensive crisis (> 180 systolic or > 120 diastolic)", 1, False, "", 185.0, "mmHg")
    key, params = text_key(bp)
    assert _read(AlertRow(bp, key, params), Language.ZH_HANS, GlucoseUnit.MMOL_L) == (
        "高血压危象（收缩压 > 180 或舒张压 > 120）：1 次读数，最高 185 mmHg"
    )


def test_rule_summaries_keep_english_and_read_in_chinese() -> None:
    from vitalgate.i18n import Msg
    from vitalgate.i18n.values import glucose

    predicted = Msg(
        "{title}: {previous} -> {last} {glucose_unit}, predicted {predicted} {glucose_unit}",
        title="Predicted glucose < 70 mg/dL within 30 minutes",
        previous=glucose(110.0),
        last=glucose(90.0),
        predicted=glucose(65),
        glucose_unit="mg/dL",
    )
    assert predicted == "Predicted glucose < 70 mg/dL within 30 minutes: 110 -> 90 mg/dL, predicted 65 mg/dL"
    key, params = text_key(predicted)
    assert _read(AlertRow(predicted, key, params), Language.ZH_HANS, GlucoseUnit.MMOL_L) == (
        "预计 30 分钟内血糖 < 3.9 mmol/L：6.1 → 5.0 mmol/L，预计降至 3.6 mmol/L"
    )
