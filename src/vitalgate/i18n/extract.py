"""Find every user-visible msgid in the code and templates through Babel's extraction (jinja2's
extractor for templates, `extract_python_calls` for Python).

Marked calls (see README): in Python `t(language, "...")`, `tn(language, "...", "...", n)`, `_("...")`,
`_n("...", "...", n)`, `lazy("...")`, `N_("...")` and `Msg("...", **params)`; in templates `_("...")` and `_n("...", "...", n)`.
Data files with user-visible text are read too (`DATA_FILES`): alert rule titles (as stored:
mg/dL values split out by vitalgate.i18n.values), follow-up step names and SOP task titles. A
package that ships another such file adds its reader to `DATA_FILES`.
"""

from __future__ import annotations

import ast
import tomllib
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

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


def extract_python_calls(
    fileobj: IO[bytes], keywords: Collection[str], comment_tags: Collection[str], options: Mapping[str, Any]
) -> Iterator[tuple[int, str, tuple[str | None, ...], list[str]]]:
    """A Babel extraction method over Python's own parser: calls of a bare name in `keywords` only.

    Babel's token-based python extractor takes `sub.t[...]` or `zones.t(x, "short")` for the `t`
    keyword and then loses the real calls that follow; the syntax tree tells a call of `t` from an
    attribute named t. Like Babel's own, it yields every positional argument (None when not a
    string literal) and Babel picks the msgid by the keyword's spec.
    """
    tree = ast.parse(fileobj.read())
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in keywords:
            args = tuple(
                a.value if isinstance(a, ast.Constant) and isinstance(a.value, str) else None for a in node.args
            )
            if args:
                yield node.lineno, node.func.id, args, []


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
        func: Any = extract_python_calls if method == "python" else "jinja2.ext:babel_extract"
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
