"""Task titles and alert summaries as a person reads them: in their language, glucose in their unit.

Rows carry the text as msgid + parameters (migration 0020): glucose parameters ({"mg_dl": v}) and
a "mg/dL" unit parameter are shown in the page's unit, a "title" parameter (a rule title) is
rendered the same way. Older rows have only the English text: its mg/dL values are split out
(vitalgate.i18n.values.split_glucose) and the rest is looked up as a msgid, so they read too.
"""

from __future__ import annotations

from typing import Any, Protocol

from vitalgate.api.glucose_display import current_unit, format_glucose
from vitalgate.i18n import current_language, t
from vitalgate.i18n.values import GLUCOSE_UNIT_PARAM, english, is_glucose, split_glucose


class Titled(Protocol):
    @property
    def title(self) -> str: ...


class Summarised(Protocol):
    @property
    def summary(self) -> str: ...


def render_text(key: str, params: dict[str, Any] | None) -> str:
    """A stored msgid + parameters in the current language and glucose unit."""
    language, unit = current_language(), current_unit()
    if not params:
        return t(language, key)
    values: dict[str, Any] = {}
    for name, value in params.items():
        if is_glucose(value):
            values[name] = format_glucose(value["mg_dl"], unit, language)
        elif name == GLUCOSE_UNIT_PARAM or value == "mg/dL":
            values[name] = str(unit)
        elif name == "title" and isinstance(value, str):
            values[name] = render_text(*split_glucose(value))
        else:
            values[name] = value
    try:
        return t(language, key, **values)
    except (KeyError, IndexError, ValueError):  # a stored key that does not fit its parameters
        return english(key, params)


def task_title(task: Titled) -> str:
    key: str | None = getattr(task, "title_key", None)
    if key is None:
        return render_text(*split_glucose(task.title))
    return render_text(key, getattr(task, "title_params", None))


def alert_text(alert: Summarised) -> str:
    key: str | None = getattr(alert, "summary_key", None)
    if key is None:
        return render_text(*split_glucose(alert.summary))
    return render_text(key, getattr(alert, "summary_params", None))
