"""Answers: parse what a form or API sent per item type, decide which items are enabled, check completeness."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from vitalgate.questionnaires.model import Definition, EnableWhen, Item, ItemType

Answers = dict[str, Any]  # linkId -> bool | int | float | str (choice code, text, ISO date)
# Bounds that keep a typo from becoming a record value (a year of birth of 19800, a HbA1c of 75).
MAX_STRING = 2000
_TRUE = {"true", "yes", "1", "on"}
_FALSE = {"false", "no", "0", "off"}


class AnswerError(ValueError):
    """An answer that does not fit its item; `link_id` names it."""

    def __init__(self, link_id: str, message: str) -> None:
        super().__init__(f"item {link_id!r}: {message}")
        self.link_id = link_id


class Incomplete(ValueError):
    """Required, enabled items left unanswered."""

    def __init__(self, missing: list[str]) -> None:
        super().__init__(f"required items unanswered: {', '.join(missing)}")
        self.missing = missing


def parse_value(item: Item, raw: Any) -> Any:
    """One answer in its item's type; None for an empty answer."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    text = raw.strip() if isinstance(raw, str) else raw
    try:
        if item.type == ItemType.BOOLEAN:
            if isinstance(text, bool):
                return text
            if str(text).lower() in _TRUE:
                return True
            if str(text).lower() in _FALSE:
                return False
            raise ValueError
        if item.type == ItemType.INTEGER:
            if isinstance(text, bool) or (isinstance(text, float) and not text.is_integer()):
                raise ValueError
            return int(text)
        if item.type == ItemType.DECIMAL:
            value = float(text)
            if value != value or value in (float("inf"), float("-inf")):
                raise ValueError
            return value
        if item.type == ItemType.DATE:
            return date.fromisoformat(str(text)).isoformat()
        if item.type == ItemType.CHOICE:
            if item.option(str(text)) is None:
                raise AnswerError(item.link_id, f"{text!r} is not one of its options")
            return str(text)
        if item.type == ItemType.STRING:
            if len(str(text)) > MAX_STRING:
                raise AnswerError(item.link_id, f"longer than {MAX_STRING} characters")
            str(text).encode("utf-8")  # lone surrogates cannot be stored: refused like any bad answer
            return str(text)
    except AnswerError:
        raise
    except (TypeError, ValueError):  # UnicodeEncodeError is a ValueError
        raise AnswerError(item.link_id, f"{raw!r} is not a valid {item.type} answer") from None
    raise AnswerError(item.link_id, "takes no answer")


def _holds(cond: EnableWhen, answers: Mapping[str, Any]) -> bool:
    value = answers.get(cond.question)
    if cond.operator == "exists":
        return (value is not None) == bool(cond.answer)
    if value is None:
        return cond.operator == "!="  # FHIR: != holds when there is no answer
    if cond.operator == "=":
        return bool(value == cond.answer)
    if cond.operator == "!=":
        return bool(value != cond.answer)
    try:
        return {
            ">": value > cond.answer,
            "<": value < cond.answer,
            ">=": value >= cond.answer,
            "<=": value <= cond.answer,
        }[cond.operator]
    except TypeError:
        return False


def enabled_items(definition: Definition, answers: Mapping[str, Any]) -> set[str]:
    """linkIds shown for these answers (in document order an item depends only on earlier ones)."""
    shown: set[str] = set()
    kept: dict[str, Any] = {}
    for item in definition.items:
        if item.section is not None and item.section not in shown:
            continue
        if item.enable_when:
            results = [_holds(c, kept) for c in item.enable_when]
            if not (all(results) if item.enable_all else any(results)):
                continue
        shown.add(item.link_id)
        if item.link_id in answers:
            kept[item.link_id] = answers[item.link_id]
    return shown


def parse_answers(definition: Definition, raw: Mapping[str, Any]) -> Answers:
    """Typed answers of the enabled questions (answers to hidden items are dropped, unknown ids refused)."""
    questions = {i.link_id: i for i in definition.questions}
    unknown = sorted(set(raw) - set(questions))
    if unknown:
        raise AnswerError(unknown[0], "is not a question of this questionnaire")
    typed = {k: v for k, v in ((k, parse_value(questions[k], v)) for k, v in raw.items()) if v is not None}
    shown = enabled_items(definition, typed)
    return {k: v for k, v in typed.items() if k in shown}


def check_complete(definition: Definition, answers: Mapping[str, Any]) -> None:
    shown = enabled_items(definition, answers)
    missing = [
        i.link_id for i in definition.questions if i.required and i.link_id in shown and i.link_id not in answers
    ]
    if missing:
        raise Incomplete(missing)


def numeric(item: Item, value: Any) -> float | None:
    """The number an answer contributes to a score or rule: true=1, a choice's ordinalValue, the number."""
    if value is None:
        return None
    if item.type == ItemType.BOOLEAN:
        return 1.0 if value else 0.0
    if item.type == ItemType.CHOICE:
        option = item.option(str(value))
        return option.ordinal if option is not None else None
    if item.type in (ItemType.INTEGER, ItemType.DECIMAL):
        return float(value)
    return None
