"""One-slip English typo correction for the words triage must not miss ("chest pian", "apointment").

Only a short list of target words is corrected toward, and only at edit distance one (a
transposition for four-letter words), so ordinary words are left alone.
"""

from __future__ import annotations

import re

TARGETS: frozenset[str] = frozenset(
    {
        "pain", "chest", "breath", "breathe", "breathing", "faint", "fainted", "dizzy", "confused",
        "stroke", "seizure", "vomiting", "sweating", "shaking", "unconscious", "pressure", "insulin",
        "metformin", "amlodipine", "prescription", "medication", "tablets", "dose", "appointment",
        "reschedule", "bluetooth", "meter", "strips", "battery", "password", "cancel",
    }
)  # fmt: skip
# Real words one slip away from a target that must stay as written.
KEEP: frozenset[str] = frozenset(
    {"paint", "pains", "paid", "meters", "metre", "does", "fizzy", "cancer", "cheat", "peter", "breadth"}
)
_WORD = re.compile(r"[a-z]{4,}")


def _one_edit_apart(a: str, b: str) -> bool:
    """Damerau-Levenshtein distance exactly one (substitution, insertion, deletion or transposition)."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        return len(diff) == 1 or (
            len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]]
        )
    short, long = (a, b) if len(a) < len(b) else (b, a)
    return any(long[:i] + long[i + 1 :] == short for i in range(len(long)))


def _is_transposition(a: str, b: str) -> bool:
    return len(a) == len(b) and sorted(a) == sorted(b) and _one_edit_apart(a, b)


def _correct(word: str) -> str:
    if word in TARGETS or word in KEEP:
        return word
    for target in sorted(TARGETS):
        near = _is_transposition(word, target) if len(word) == 4 else _one_edit_apart(word, target)
        if near and len(target) >= 4:
            return target
    return word


def correct_typos(text: str) -> str:
    """The text with each word one slip from a target word replaced by that word."""
    return _WORD.sub(lambda m: _correct(m.group(0)), text)
