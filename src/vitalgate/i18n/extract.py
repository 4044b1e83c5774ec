"""Find every user-visible msgid in the code and templates with Babel's extractors (python, jinja2).

Marked calls (see README): in Python `t(language, "...")`, `tn(language, "...", "...", n)`, `_("...")`,
`_n("...", "...", n)`, `lazy("...")`, `N_("...")` and `Msg("...", **params)`; in templates `_("...")` and `_n("...", "...", n)`.
Data files with user-visible text (alert rules, follow-up chains) register their strings with
`register_data_strings` in the test that checks them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from babel.messages.extract import extract_from_file

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
    return found
