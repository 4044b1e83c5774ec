"""The typed view of a questionnaire definition: items, options, conditions, scores (read by definition.py)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class DefinitionError(ValueError):
    """A Questionnaire VitalGate cannot use; the message names the item (linkId) at fault."""


class ItemType(StrEnum):
    BOOLEAN = "boolean"
    CHOICE = "choice"
    INTEGER = "integer"
    DECIMAL = "decimal"
    DATE = "date"
    STRING = "string"
    DISPLAY = "display"
    GROUP = "group"


@dataclass(frozen=True, slots=True)
class Text:
    en: str
    zh: str

    def get(self, language: str) -> str:
        return self.zh if language == "zh-Hans" else self.en


@dataclass(frozen=True, slots=True)
class Option:
    code: str
    text: Text
    system: str | None = None
    ordinal: float | None = None
    tag: str | None = None
    field_value: str | None = None


@dataclass(frozen=True, slots=True)
class EnableWhen:
    question: str
    operator: str
    answer: Any  # bool, int, float, str (a choice code) or an ISO date string


@dataclass(frozen=True, slots=True)
class Item:
    link_id: str
    type: ItemType
    text: Text
    section: str | None = None  # linkId of the group holding it
    required: bool = False
    options: tuple[Option, ...] = ()
    enable_when: tuple[EnableWhen, ...] = ()
    enable_all: bool = True  # enableBehavior 'all' (default with one condition) or 'any'
    unit: str | None = None  # UCUM code of a decimal item
    code: dict[str, str] | None = None  # the item's first coding (LOINC where one exists)
    record_field: str | None = None
    tag_when_true: str | None = None
    tag_when_false: str | None = None
    observation: bool = False
    schedules_sop: str | None = None  # SOP purpose scheduled at this date's answer

    @property
    def answerable(self) -> bool:
        return self.type not in (ItemType.DISPLAY, ItemType.GROUP)

    def option(self, code: str) -> Option | None:
        return next((o for o in self.options if o.code == code), None)

    def owned_tags(self) -> set[str]:
        """Every tag an answer to this item can set (an answer replaces the item's earlier ones)."""
        tags = {o.tag for o in self.options if o.tag} | {self.tag_when_true, self.tag_when_false}
        return {t for t in tags if t}


@dataclass(frozen=True, slots=True)
class Band:
    low: float
    high: float
    label: str


@dataclass(frozen=True, slots=True)
class ScoreRule:
    name: str
    title: Text
    items: tuple[str, ...]
    code: dict[str, str] | None = None
    bands: tuple[Band, ...] = ()

    def band(self, value: float) -> str | None:
        return next((b.label for b in self.bands if b.low <= value <= b.high), None)


@dataclass(frozen=True, slots=True)
class Definition:
    id: str
    version: str
    title: Text
    items: tuple[Item, ...]  # document order, groups flattened (a group is an item of type GROUP)
    scores: tuple[ScoreRule, ...]
    licence: str | None
    copyright: str | None
    resource: dict[str, Any]

    @property
    def questions(self) -> tuple[Item, ...]:
        return tuple(i for i in self.items if i.answerable)

    def item(self, link_id: str) -> Item:
        for i in self.items:
            if i.link_id == link_id:
                return i
        raise KeyError(link_id)
