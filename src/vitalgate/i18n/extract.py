"""Find every user-visible msgid in the code and templates with Babel's extractors (python, jinja2).

Marked calls (see README): in Python `t(language, "...")`, `tn(language, "...", "...", n)`, `_("...")`,
`_n("...", "...", n)`, `lazy("...")`, `N_("...")` and `Msg("...", **params)`; in templates `_("...")` and `_n("...", "...", n)`.
Data files with user-visible text are read too (`DATA_FILES`): alert rule titles (as stored:
mg/dL values split out by vitalgate.i18n.values), follow-up step names and SOP task titles. A
package that ships another such file adds its reader to `DATA_FILES`.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from babel.messages.extract import extract_from_file

from vitalgate.i18n.values import split_glucose

PACKAGE_ROOT = Path(__file__).resolve().parents[1]  # src/vitalgate
PYTHON_KEYWORDS = {"t": (2,), "tn": (2, 3), "_": None, "_n": (1, 2), "lazy": None, "N_": None, "Msg": None}
TEMPLATE_KEYWORDS = {"_": None, "_n": (1, 2)}
# The i18n package's own docstrings and examples are not messages.
_SKIP = ("i18n/",)


@dataclass(frozen=True, slots=True)
class Found:
    """A msgid (and its plural) and where it is used."""

    msgid: str
    plural: str | None
    path: str
    line: int


def _rule_titles(data: dict[str, Any]) -> Iterator[str]:
    for rule in data.get("rules", []):
        yield split_glucose(rule["title"])[0]


def _followup_names(data: dict[str, Any]) -> Iterator[str]:
    for chain in data.get("escalation", []) + data.get("sop", []):
        for step in chain.get("steps", []):
            yield step["name"]
    for sop in data.get("sop", []):
        # followup.sop titles an SOP task "<Purpose>: reminders and check".
        yield f"{str(sop.get('purpose', 'visit')).capitalize()}: reminders and check"


# Data files under src/vitalgate whose strings people read, and how to list those strings.
DATA_FILES: dict[str, Callable[[dict[str, Any]], Iterator[str]]] = {
    "alerts/default_rules.toml": _rule_titles,
    "followup/default_followup.toml": _followup_names,
}


def _files(root: Path) -> Iterator[tuple[Path, str]]:
    for path in sorted(root.rglob("*.py")):
        yield path, "python"
    for path in sorted(root.rglob("templates/**/*.html")):
        yield path, "jinja2"


def extract(root: Path = PACKAGE_ROOT) -> list[Found]:
    """Every marked string under root (src/vitalgate by default), in file order."""
    found: list[Found] = []
    for path, method in _files(root):
        rel = path.relative_to(root).as_posix()
        if rel.startswith(_SKIP):
            continue
        keywords = PYTHON_KEYWORDS if method == "python" else TEMPLATE_KEYWORDS
        func = "python" if method == "python" else "jinja2.ext:babel_extract"
        for line, message, _comments, _context in extract_from_file(func, str(path), keywords=keywords):
            if isinstance(message, tuple):
                found.append(Found(message[0], message[1], rel, line))
            else:
                found.append(Found(message, None, rel, line))
    for rel, reader in DATA_FILES.items():
        path = root / rel
        if path.exists():
            data = tomllib.loads(path.read_text(encoding="utf-8"))
            found.extend(Found(msgid, None, rel, 0) for msgid in reader(data))
    return found
