"""The education library (content/library.toml) and matching items to a patient (pure).

An item is offered in a language when it has a title and a body or link in it. Matching: every
condition of the item (ICD-10 prefixes) and journey stage it lists must fit the patient when the
item lists any; then items rank by how many of their tags the patient's tags match (globs), ties
by key. Items already sent are never offered again.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from fnmatch import fnmatchcase
from functools import lru_cache
from importlib import resources
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from vitalgate.core.toml_model import parse_toml_model
from vitalgate.store.record_vocab import JourneyStage, Language


class ContentError(ValueError):
    """A library file that does not validate."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class ContentItem(_Model):
    key: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,80}$")
    title: dict[Language, str]
    body: dict[Language, str] = {}
    link: dict[Language, str] = {}
    conditions: list[str] = []
    journey_stages: list[JourneyStage] = []
    tags: list[str] = []

    @model_validator(mode="after")
    def _texts(self) -> ContentItem:
        for language in self.title:
            if language not in self.body and language not in self.link:
                raise ValueError(f"{self.key}: a {language} title needs a {language} body or link")
        return self

    @property
    def languages(self) -> frozenset[Language]:
        return frozenset(self.title)


class Library(_Model):
    version: Literal[1] = 1
    items: list[ContentItem]

    @model_validator(mode="after")
    def _unique(self) -> Library:
        keys = [i.key for i in self.items]
        if len(keys) != len(set(keys)):
            raise ValueError("item keys must be unique")
        return self

    def get(self, key: str) -> ContentItem:
        for item in self.items:
            if item.key == key:
                return item
        raise KeyError(key)


@lru_cache(maxsize=1)
def shipped_library() -> Library:
    text = resources.files("vitalgate.programs").joinpath("content/library.toml").read_text(encoding="utf-8")
    return parse_toml_model(Library, text, origin="programs/content/library.toml", error=ContentError)


@dataclass(frozen=True, slots=True)
class PatientProfile:
    tags: frozenset[str]
    conditions: frozenset[str]
    journey_stage: str | None
    language: str


@dataclass(frozen=True, slots=True)
class Match:
    item: ContentItem
    language: Language
    score: int
    matched_tags: tuple[str, ...]


def _fits(item: ContentItem, patient: PatientProfile) -> bool:
    if item.conditions and not any(c.startswith(p) for c in patient.conditions for p in item.conditions):
        return False
    return not item.journey_stages or patient.journey_stage in item.journey_stages


def language_for(item: ContentItem, wanted: str) -> Language | None:
    if wanted in item.languages:
        return Language(wanted)
    return Language.EN if Language.EN in item.languages else None


def matches(library: Library, patient: PatientProfile, already_sent: Iterable[str]) -> list[Match]:
    """Items this patient may receive next, best first (never one already sent)."""
    sent = set(already_sent)
    out = []
    for item in library.items:
        if item.key in sent or not _fits(item, patient):
            continue
        language = language_for(item, patient.language)
        if language is None:
            continue
        hit = tuple(t for t in item.tags if any(fnmatchcase(pt, t) for pt in patient.tags))
        if item.tags and not hit:
            continue
        score = len(hit) + len(item.conditions and [1]) + len(item.journey_stages and [1])
        out.append(Match(item, language, score, hit))
    return sorted(out, key=lambda m: (-m.score, m.item.key))
