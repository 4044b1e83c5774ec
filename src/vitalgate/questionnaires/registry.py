"""Which definitions exist: the built-in files in the package plus versions admins added (stored)."""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Any

import psycopg

from vitalgate.questionnaires.definition import parse_definition
from vitalgate.questionnaires.model import Definition, DefinitionError
from vitalgate.store import questionnaires as q_store

# Parsed stored versions; a (id, version) never changes once stored, so the cache never goes stale.
_PARSED: dict[tuple[str, str], Definition] = {}


class UnknownQuestionnaire(LookupError):
    """No definition with this id (and version)."""


@lru_cache(maxsize=1)
def builtin_definitions() -> dict[str, Definition]:
    """The shipped definitions (questionnaires/definitions/*.json), validated once."""
    out = {}
    folder = resources.files("vitalgate.questionnaires").joinpath("definitions")
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".json"):
            try:
                definition = parse_definition(json.loads(entry.read_text(encoding="utf-8")))
            except DefinitionError as exc:
                raise DefinitionError(f"definitions/{entry.name}: {exc}") from exc
            out[definition.id] = definition
    return out


async def _stored(conn: psycopg.AsyncConnection) -> list[Definition]:
    out = []
    for row in await q_store.stored_definitions(conn):
        key = (row.questionnaire_id, row.version)
        if key not in _PARSED:
            _PARSED[key] = parse_definition(row.resource)
        out.append(_PARSED[key])
    return out


async def current_definitions(conn: psycopg.AsyncConnection) -> dict[str, Definition]:
    """The version new responses use: the latest one an admin added, else the built-in."""
    out = dict(builtin_definitions())
    for definition in await _stored(conn):  # in order added: the last one wins
        out[definition.id] = definition
    return out


async def get_definition(
    conn: psycopg.AsyncConnection, questionnaire_id: str, version: str | None = None
) -> Definition:
    """The current definition, or the exact version a response answered."""
    builtin = builtin_definitions().get(questionnaire_id)
    if version is not None and builtin is not None and builtin.version == version:
        return builtin
    if version is None:
        found = (await current_definitions(conn)).get(questionnaire_id)
    else:
        found = next((d for d in await _stored(conn) if d.id == questionnaire_id and d.version == version), None)
    if found is None:
        raise UnknownQuestionnaire(
            f"no questionnaire {questionnaire_id!r}" + (f" version {version}" if version else "")
        )
    return found


async def add_definition(conn: psycopg.AsyncConnection, resource: dict[str, Any], *, added_by: str) -> Definition:
    """Validate and store an admin's definition; an existing (id, version) is refused (versions are immutable)."""
    definition = parse_definition(resource)
    builtin = builtin_definitions().get(definition.id)
    if builtin is not None and builtin.version == definition.version:
        raise DefinitionError(
            f"Questionnaire {definition.id}: version {definition.version} is built in; use a new version"
        )
    if not await q_store.add_definition(conn, definition.id, definition.version, resource, added_by=added_by):
        raise DefinitionError(f"Questionnaire {definition.id}: version {definition.version} exists; use a new version")
    return definition
