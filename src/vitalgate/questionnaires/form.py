"""The answering page's view of a definition (pure): items in one language with saved answers filled in."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from vitalgate.questionnaires.answers import enabled_items
from vitalgate.questionnaires.model import Definition, ItemType


@dataclass(frozen=True, slots=True)
class Choice:
    value: str
    label: str
    checked: bool


@dataclass(frozen=True, slots=True)
class FormItem:
    link_id: str
    type: str
    text: str
    section: str | None  # the section heading (group text) above it
    required: bool
    value: str  # the saved answer as the input shows it ('' = none)
    choices: tuple[Choice, ...]
    unit: str | None
    enable_when: list[dict[str, Any]]  # for the page script; the server decides again on submit
    enable_all: bool
    shown: bool  # enabled by the saved answers (without script, hidden items are still listed)


def _as_input(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value)) if abs(value) < 1e15 else str(value)
    return str(value)


def form_items(
    definition: Definition, answers: Mapping[str, Any], language: str, ui: Mapping[str, str]
) -> list[FormItem]:
    """Questions and display texts in document order (groups become the section of their items)."""
    shown = enabled_items(definition, answers)
    sections = {i.link_id: i.text.get(language) for i in definition.items if i.type == ItemType.GROUP}
    out = []
    for item in definition.items:
        if item.type == ItemType.GROUP:
            continue
        value = _as_input(answers.get(item.link_id))
        choices: tuple[Choice, ...]
        if item.type == ItemType.BOOLEAN:
            choices = (Choice("true", ui["yes"], value == "true"), Choice("false", ui["no"], value == "false"))
        else:
            choices = tuple(Choice(o.code, o.text.get(language), value == o.code) for o in item.options)
        out.append(
            FormItem(
                item.link_id,
                str(item.type),
                item.text.get(language),
                sections.get(item.section) if item.section else None,
                item.required,
                value,
                choices,
                item.unit,
                [{"q": c.question, "op": c.operator, "v": _as_input(c.answer)} for c in item.enable_when],
                item.enable_all,
                item.link_id in shown,
            )
        )
    return out
