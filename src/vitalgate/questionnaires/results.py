"""What a completed response yields (pure): scores with bands, tag and field changes, observations."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from vitalgate.questionnaires.answers import enabled_items, numeric
from vitalgate.questionnaires.model import Definition, ItemType


@dataclass(frozen=True, slots=True)
class ScoreValue:
    name: str
    value: float
    band: str | None
    code: dict[str, str] | None


@dataclass(frozen=True, slots=True)
class ObservationValue:
    link_id: str
    code: dict[str, str]
    value: float
    unit: str


@dataclass(frozen=True, slots=True)
class RecordChanges:
    """Tags to add and remove (each with the item that decided it) and record fields to set."""

    tags_added: dict[str, str] = field(default_factory=dict)  # tag -> linkId
    tags_removed: dict[str, str] = field(default_factory=dict)
    fields: dict[str, tuple[str, Any]] = field(default_factory=dict)  # field -> (linkId, value)
    sop_dates: dict[str, tuple[str, date]] = field(default_factory=dict)  # purpose -> (linkId, date)


def scores(definition: Definition, answers: Mapping[str, Any]) -> list[ScoreValue]:
    """Each declared score as the sum of its items' numbers (unanswered items count 0; hidden ones too)."""
    out = []
    for rule in definition.scores:
        total = 0.0
        for link_id in rule.items:
            total += numeric(definition.item(link_id), answers.get(link_id)) or 0.0
        out.append(ScoreValue(rule.name, total, rule.band(total), rule.code))
    return out


def observations(definition: Definition, answers: Mapping[str, Any]) -> list[ObservationValue]:
    return [
        ObservationValue(i.link_id, i.code, float(answers[i.link_id]), i.unit)
        for i in definition.questions
        if i.observation and i.code is not None and i.unit is not None and answers.get(i.link_id) is not None
    ]


def record_changes(definition: Definition, answers: Mapping[str, Any], current_tags: Iterable[str]) -> RecordChanges:
    """Each answered item replaces the tags it owns; an item hidden by the answers withdraws its tags."""
    current = set(current_tags)
    chosen: dict[str, str] = {}
    owned: dict[str, str] = {}
    changes = RecordChanges()
    shown = enabled_items(definition, answers)
    for item in definition.questions:
        for owned_tag in item.owned_tags():
            owned[owned_tag] = item.link_id
        value = answers.get(item.link_id) if item.link_id in shown else None
        if value is None:
            continue
        tag: str | None = None
        if item.type == ItemType.BOOLEAN:
            tag = item.tag_when_true if value else item.tag_when_false
        elif item.type == ItemType.CHOICE:
            option = item.option(str(value))
            tag = option.tag if option else None
            if item.record_field and option is not None:
                changes.fields[item.record_field] = (item.link_id, option.field_value or option.code)
        if tag:
            chosen[tag] = item.link_id
        if item.record_field and item.type != ItemType.CHOICE:
            changes.fields[item.record_field] = (item.link_id, value)
        if item.schedules_sop and item.type == ItemType.DATE:
            changes.sop_dates[item.schedules_sop] = (item.link_id, date.fromisoformat(str(value)))
    for tag, link_id in owned.items():
        if tag in current and tag not in chosen:
            changes.tags_removed[tag] = link_id
    for tag, link_id in chosen.items():
        if tag not in current:
            changes.tags_added[tag] = link_id
    return changes
