"""Stored text that must not freeze one language or one unit: a msgid and its parameters.

A task title or alert summary is stored as English text *and* as a key (the msgid, placeholders
named) with parameters; glucose values are parameters {"mg_dl": value}, shown in the viewer's unit
when the text is rendered. `split_glucose` turns an English text written with mg/dL values (a rule
title from TOML, an older row) into that form:
    "Level 1 hypoglycemia (glucose 54-69 mg/dL)"
    -> "Level 1 hypoglycemia (glucose {g0}-{g1} {glucose_unit})", {"g0": {"mg_dl": 54.0}, "g1": {"mg_dl": 69.0}, ...}
"""

from __future__ import annotations

import re
from typing import Any

# A number (or a range a-b) directly followed by mg/dL; not part of a longer word or number.
_GLUCOSE = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)(?:(\s*[-–]\s*)(\d+(?:\.\d+)?))?\s*mg/dL\b")
GLUCOSE_UNIT_PARAM = "glucose_unit"


def glucose(mg_dl: float) -> dict[str, float]:
    """A glucose parameter (stored in mg/dL; shown in the reader's unit)."""
    return {"mg_dl": float(mg_dl)}


def is_glucose(value: object) -> bool:
    return isinstance(value, dict) and "mg_dl" in value


def split_glucose(text: str) -> tuple[str, dict[str, Any]]:
    """The msgid (mg/dL values as {gN} {glucose_unit}) and parameters of an English text."""
    params: dict[str, Any] = {}

    def placeholder(value: str) -> str:
        name = f"g{sum(1 for k in params if k != GLUCOSE_UNIT_PARAM)}"
        params[name] = glucose(float(value))
        return "{" + name + "}"

    def replace(match: re.Match[str]) -> str:
        first = placeholder(match.group(1))
        if match.group(3) is None:
            return f"{first} {{{GLUCOSE_UNIT_PARAM}}}"
        return f"{first}{match.group(2)}{placeholder(match.group(3))} {{{GLUCOSE_UNIT_PARAM}}}"

    escaped = text.replace("{", "{{").replace("}", "}}")
    key = _GLUCOSE.sub(replace, escaped)
    if not params:
        return text, {}
    params[GLUCOSE_UNIT_PARAM] = "mg/dL"
    return key, params


def english(key: str, params: dict[str, Any]) -> str:
    """The text in English and mg/dL (what is stored in the plain text column)."""
    if not params:
        return key
    values = {k: f"{v['mg_dl']:g}" if is_glucose(v) else v for k, v in params.items()}
    return key.format_map(values)


def text_key(text: str) -> tuple[str, dict[str, Any]]:
    """The msgid and parameters to store for a text: a Msg's own, else split from the English."""
    msgid, params = getattr(text, "msgid", None), getattr(text, "params", None)
    if isinstance(msgid, str) and isinstance(params, dict):
        return msgid, params
    return split_glucose(str(text))
