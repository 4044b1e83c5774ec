"""A transparent rule classifier for inbound messages (zh-Hans and en), erring toward urgent.

Why rules and not a model: every decision can be shown to the nurse as the phrases that made it
("chest pain", "血糖 2.6"), a missed urgent message is traced to one line of the lexicon, and no
model whose weights ship in a PyPI package was measured to do better on the labelled set
(benchmarks/triage_bench.py reports the figures).
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache

from vitalgate.notify.triage import lexicon
from vitalgate.notify.triage.category import PRECEDENCE, TriageCategory, TriageResult
from vitalgate.notify.triage.numbers import alarming_values
from vitalgate.notify.triage.typos import correct_typos

_CJK = re.compile(r"[\u3400-\u9fff]")
_LATIN = re.compile(r"[a-z]")
# How far back a negation reaches: five English words, six Chinese characters, within one clause.
_ENGLISH_NEGATION_WORDS = 5
_CHINESE_NEGATION_CHARS = 6
# An urgent phrase this strong decides alone; a weaker one (e.g. "hypo") yields to an education frame.
DECISIVE = 3.0
# Below this confidence a person decides where the message goes.
NEEDS_PERSON_BELOW = 0.6


@dataclass(frozen=True, slots=True)
class _Pattern:
    category: TriageCategory
    weight: float
    regex: re.Pattern[str]
    chinese: bool


@lru_cache(maxsize=1)
def _patterns() -> tuple[_Pattern, ...]:
    english = [_Pattern(c, w, re.compile(rf"\b(?:{p})"), False) for c, w, p in lexicon.ENGLISH]
    chinese = [_Pattern(c, w, re.compile(p), True) for c, w, p in lexicon.CHINESE]
    return tuple(english + chinese)


_EN_NEGATION = re.compile(rf"\b(?:{lexicon.ENGLISH_NEGATIONS})\b")
_EN_PSEUDO = re.compile(rf"\b(?:{lexicon.ENGLISH_PSEUDO_NEGATIONS})\b")
_EN_BREAK = re.compile(lexicon.ENGLISH_CLAUSE_BREAK)
_ZH_NEGATION = re.compile(lexicon.CHINESE_NEGATIONS)
_ZH_PSEUDO = re.compile(lexicon.CHINESE_PSEUDO_NEGATIONS)
_ZH_BREAK = re.compile(lexicon.CHINESE_CLAUSE_BREAK)
_EDUCATION_FRAME = re.compile(lexicon.EDUCATION_FRAMES)


def normalise(text: str) -> str:
    """Full-width to half-width, lower case, one kind of apostrophe, English typos corrected."""
    text = unicodedata.normalize("NFKC", text).lower().replace("\u2019", "'").replace("\u2018", "'")
    return correct_typos(text)


def _clause_before(text: str, start: int, breaks: re.Pattern[str]) -> str:
    """The part of the clause that precedes position `start`."""
    before = text[:start]
    ends = [m.end() for m in breaks.finditer(before)]
    return before[ends[-1] :] if ends else before


def is_negated(text: str, start: int, *, chinese: bool) -> bool:
    """Whether a negation word governs the phrase starting at `start` ("no chest pain", "没有胸痛")."""
    if chinese:
        window = _clause_before(text, start, _ZH_BREAK)[-_CHINESE_NEGATION_CHARS:]
        return _ZH_NEGATION.search(_ZH_PSEUDO.sub(" ", window)) is not None
    clause = _clause_before(text, start, _EN_BREAK)
    window = " ".join(clause.split()[-_ENGLISH_NEGATION_WORDS:])
    return _EN_NEGATION.search(_EN_PSEUDO.sub(" ", window)) is not None


def _scores(text: str) -> tuple[dict[TriageCategory, float], dict[TriageCategory, list[str]]]:
    """Each category's score: the weights of the patterns found un-negated (each pattern counts once)."""
    scores: dict[TriageCategory, float] = defaultdict(float)
    evidence: dict[TriageCategory, list[str]] = defaultdict(list)
    has_cjk, has_latin = _CJK.search(text) is not None, _LATIN.search(text) is not None
    for pattern in _patterns():
        if (pattern.chinese and not has_cjk) or (not pattern.chinese and not has_latin):
            continue
        for match in pattern.regex.finditer(text):
            # Only symptoms are negated: "I didn't take my pills" is still about medication.
            urgent = pattern.category == TriageCategory.URGENT_CLINICAL
            if not (urgent and is_negated(text, match.start(), chinese=pattern.chinese)):
                scores[pattern.category] += pattern.weight
                evidence[pattern.category].append(match.group(0).strip())
                break
    for value in alarming_values(text):
        scores[TriageCategory.URGENT_CLINICAL] += DECISIVE
        evidence[TriageCategory.URGENT_CLINICAL].append(value)
    return scores, evidence


def classify(text: str, language: str | None = None) -> TriageResult:
    """Classify one message; any un-negated urgent sign makes it urgent (recall before precision).

    `language` is accepted for the interface; both lexicons run on every message, because families
    mix languages ("app打不开", "血糖 45 mg/dL").
    """
    del language
    normalised = normalise(text)
    scores, evidence = _scores(normalised)
    urgent = scores.get(TriageCategory.URGENT_CLINICAL, 0.0)
    if urgent and urgent < DECISIVE and _EDUCATION_FRAME.search(normalised):
        urgent = 0.0  # "how can I prevent hypos?" asks about a symptom, it does not report one
    if urgent:
        confidence = 0.95 if urgent >= DECISIVE else 0.75
        return TriageResult(
            TriageCategory.URGENT_CLINICAL, confidence, True, tuple(evidence[TriageCategory.URGENT_CLINICAL])
        )
    ranked = sorted(
        (c for c in PRECEDENCE if c != TriageCategory.URGENT_CLINICAL and scores.get(c)),
        key=lambda c: (-scores[c], PRECEDENCE.index(c)),
    )
    if not ranked:
        return TriageResult(TriageCategory.EDUCATION, 0.3, True)
    top = ranked[0]
    second = scores[ranked[1]] if len(ranked) > 1 else 0.0
    # Sure when the winner is clear of the runner-up and rests on more than a hint.
    margin = (scores[top] - second) / scores[top]
    confidence = round(min(1.0, 0.5 + 0.5 * margin) * (1.0 if scores[top] >= 2 else 0.8), 2)
    return TriageResult(top, confidence, confidence < NEEDS_PERSON_BELOW, tuple(evidence[top]))
