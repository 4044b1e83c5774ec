"""Is every msgid in use translated in every language, with the same {placeholders}? (test and CLI)"""

from __future__ import annotations

import string
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from babel.messages.catalog import Catalog, Message

from vitalgate.domain import Language
from vitalgate.i18n.catalogs import Conflict, merged
from vitalgate.i18n.extract import Found


@dataclass(frozen=True, slots=True)
class Missing:
    language: Language
    msgid: str
    where: str  # path:line of its first use


@dataclass(frozen=True, slots=True)
class BadPlaceholders:
    language: Language
    msgid: str
    expected: frozenset[str]
    found: frozenset[str]


def placeholders(text: str) -> frozenset[str]:
    """The named {fields} of a format string ('{{' and '}}' are literal braces)."""
    return frozenset(name for _lit, name, _spec, _conv in string.Formatter().parse(text) if name)


def missing(found: Iterable[Found], root: Path | None = None) -> list[Missing]:
    """Msgids in use without a translated entry in some language (first use each)."""
    out: list[Missing] = []
    catalogs = {lang: merged(lang, root)[0] for lang in Language}
    seen: set[tuple[Language, str]] = set()
    for item in found:
        for lang, catalog in catalogs.items():
            if (lang, item.msgid) not in seen and catalog.get(item.msgid) is None:
                seen.add((lang, item.msgid))
                out.append(Missing(lang, item.msgid, f"{item.path}:{item.line}"))
    return out


def _strings(message: Message) -> list[str]:
    strings = message.string if isinstance(message.string, (list, tuple)) else [message.string]
    return [str(s or "") for s in strings]


def bad_placeholders(root: Path | None = None) -> list[BadPlaceholders]:
    """Translations whose {fields} differ from their msgid's (a dropped {value} would hide a reading)."""
    out: list[BadPlaceholders] = []
    for lang in Language:
        catalog: Catalog = merged(lang, root)[0]
        for message in catalog:
            if not message.id:
                continue
            ids = [str(i) for i in message.id] if isinstance(message.id, (list, tuple)) else [str(message.id)]
            expected = frozenset().union(*(placeholders(i) for i in ids)) - {"n"}
            for text in _strings(message):
                got = placeholders(text) - {"n"}
                if got != expected:
                    out.append(BadPlaceholders(lang, ids[0], expected, got))
    return out


def conflicts(root: Path | None = None) -> list[Conflict]:
    return [c for lang in Language for c in merged(lang, root)[1]]
