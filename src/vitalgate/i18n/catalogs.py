"""The message catalogs: one .po file per area and language, read at run time (no compile step) and cached.

Layout: catalogs/<area>/<po name>.po, e.g. catalogs/web/zh_Hans.po and catalogs/web/en.po. Each
helper owns its area's files, so no two of them edit one file. All areas of a language are merged
into one Babel `Translations`; a msgid may appear in several areas only with the same translation.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from io import BytesIO
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from vitalgate.domain import Language
from vitalgate.i18n.locales import BABEL_LOCALE

CATALOG_DIR = Path(__file__).parent / "catalogs"
PO_NAME: dict[Language, str] = {Language.ZH_HANS: "zh_Hans.po", Language.EN: "en.po"}


@dataclass(frozen=True, slots=True)
class Conflict:
    """One msgid translated differently in two areas of one language."""

    language: Language
    msgid: str
    areas: tuple[str, str]


def _root(root: Path | None) -> Path:
    return CATALOG_DIR if root is None else root  # read at call time: tests point it elsewhere


def areas(root: Path | None = None) -> list[str]:
    """The catalog areas (folders holding at least one .po file), sorted."""
    return sorted(p.name for p in _root(root).iterdir() if p.is_dir() and any(p.glob("*.po")))


def po_path(area: str, language: Language, root: Path | None = None) -> Path:
    return _root(root) / area / PO_NAME[language]


def read_area(area: str, language: Language, root: Path | None = None) -> Catalog:
    """One area's catalog for a language (an empty catalog when the file does not exist yet)."""
    path = po_path(area, language, root)
    if not path.exists():
        catalog = Catalog(locale=BABEL_LOCALE[language], project="VitalGate", fuzzy=False)
        catalog.header_comment = f"# VitalGate messages, area {area!r}, {language} (vitalgate/i18n/README.md)."
        return catalog
    with path.open("rb") as handle:
        return read_po(handle, locale=BABEL_LOCALE[language])


def message_key(message: Message) -> str:
    """The msgid of a message (the singular for a plural entry)."""
    return message.id[0] if isinstance(message.id, (list, tuple)) else str(message.id)


def is_translated(message: Message) -> bool:
    """A message counts only with every form translated and no fuzzy flag (gettext skips fuzzy entries)."""
    strings = message.string if isinstance(message.string, (list, tuple)) else (message.string,)
    return not message.fuzzy and bool(strings) and all(strings)


def merged(language: Language, root: Path | None = None) -> tuple[Catalog, list[Conflict]]:
    """Every area's translated messages for a language in one catalog, and the conflicts between areas."""
    catalog = Catalog(locale=BABEL_LOCALE[language])
    owner: dict[str, str] = {}
    conflicts: list[Conflict] = []
    for area in areas(root):
        for message in read_area(area, language, root):
            if not message.id or not is_translated(message):
                continue
            key = message_key(message)
            existing = catalog.get(message.id, context=message.context)
            if existing is not None and existing.string != message.string:
                conflicts.append(Conflict(language, key, (owner[key], area)))
                continue
            owner[key] = area
            catalog.add(message.id, message.string, context=message.context)
    return catalog, conflicts


@lru_cache(maxsize=8)
def translations(language: Language) -> Translations:
    """The merged, compiled-in-memory translations of a language (read once per process)."""
    catalog, _conflicts = merged(language)
    buffer = BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer)


def reload() -> None:
    """Forget the cached catalogs (after a .po file changed in a running process, e.g. in tests)."""
    translations.cache_clear()
