"""Triage accuracy on the labelled message set: per-class precision and recall, urgent recall.

`python -m benchmarks triage_bench` (or `python -m benchmarks.triage_bench`). Measured in the same
run against two baselines: the majority class, and keyword-only (the first category, in
precedence order, any of whose lexicon phrases occurs; no negation, typo correction, values,
weights or education frames). `accuracy_table()` is what notify_bench prints.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from vitalgate.notify.triage import TriageCategory, classify, lexicon
from vitalgate.notify.triage.category import PRECEDENCE

LABELLED = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "triage" / "labelled.jsonl"


@dataclass(frozen=True, slots=True)
class Example:
    id: str
    language: str
    split: str
    label: TriageCategory
    text: str


@dataclass(frozen=True, slots=True)
class Scores:
    name: str
    n: int
    accuracy: float
    precision: dict[TriageCategory, float]
    recall: dict[TriageCategory, float]
    missed_urgent: tuple[str, ...]

    @property
    def urgent_recall(self) -> float:
        return self.recall[TriageCategory.URGENT_CLINICAL]


def load(path: Path = LABELLED) -> list[Example]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [Example(r["id"], r["language"], r["split"], TriageCategory(r["label"]), r["text"]) for r in rows]


def score(name: str, examples: Sequence[Example], predict: Callable[[Example], TriageCategory]) -> Scores:
    """Per-class precision and recall of `predict` over `examples`."""
    predicted = [predict(e) for e in examples]
    hits, said, truth = Counter(), Counter(predicted), Counter(e.label for e in examples)
    for example, guess in zip(examples, predicted, strict=True):
        hits[guess] += guess == example.label
    precision = {c: hits[c] / said[c] if said[c] else 0.0 for c in TriageCategory}
    recall = {c: hits[c] / truth[c] if truth[c] else 0.0 for c in TriageCategory}
    missed = tuple(
        e.id
        for e, g in zip(examples, predicted, strict=True)
        if e.label == TriageCategory.URGENT_CLINICAL and g != e.label
    )
    accuracy = sum(hits.values()) / len(examples)
    return Scores(name, len(examples), accuracy, precision, recall, missed)


def _keyword_patterns() -> list[tuple[TriageCategory, re.Pattern[str]]]:
    both = [(c, rf"\b(?:{p})") for c, _, p in lexicon.ENGLISH] + [(c, p) for c, _, p in lexicon.CHINESE]
    return [(c, re.compile(p)) for c, p in both]


def keyword_only(examples: Sequence[Example]) -> Callable[[Example], TriageCategory]:
    patterns = _keyword_patterns()

    def predict(example: Example) -> TriageCategory:
        text = example.text.lower()
        found = {c for c, p in patterns if p.search(text)}
        return next((c for c in PRECEDENCE if c in found), TriageCategory.EDUCATION)

    return predict


def majority(examples: Sequence[Example]) -> Callable[[Example], TriageCategory]:
    most = Counter(e.label for e in examples).most_common(1)[0][0]
    return lambda example: most


def rule_classifier(examples: Sequence[Example]) -> Callable[[Example], TriageCategory]:
    return lambda example: classify(example.text, example.language).category


def _rows(scores: Scores) -> list[str]:
    lines = [f"  {scores.name}: n={scores.n}  accuracy {scores.accuracy:.1%}  urgent recall {scores.urgent_recall:.1%}"]
    for c in TriageCategory:
        lines.append(f"    {c.value:<16} precision {scores.precision[c]:6.1%}  recall {scores.recall[c]:6.1%}")
    if scores.missed_urgent:
        lines.append(f"    missed urgent: {', '.join(scores.missed_urgent)}")
    return lines


def evaluate(examples: Sequence[Example] | None = None) -> dict[str, list[Scores]]:
    """Every part of the set (all, dev, held-out, en, zh-Hans) through the classifier and both baselines."""
    examples = list(examples if examples is not None else load())
    parts = {
        "all": [e for e in examples if e.split != "feedback"],
        "dev": [e for e in examples if e.split == "dev"],
        "held-out": [e for e in examples if e.split == "heldout"],
        "en": [e for e in examples if e.language == "en"],
        "zh-Hans": [e for e in examples if e.language == "zh-Hans"],
    }
    feedback = [e for e in examples if e.split == "feedback"]
    if feedback:
        parts["feedback"] = feedback
    result: dict[str, list[Scores]] = {}
    for part, items in parts.items():
        # The majority baseline learns its class on the dev part only.
        dev = parts["dev"]
        result[part] = [
            score("rules (vitalgate.notify.triage)", items, rule_classifier(dev)),
            score("baseline keyword-only", items, keyword_only(dev)),
            score("baseline majority class", items, majority(dev)),
        ]
    return result


def accuracy_table(examples: Sequence[Example] | None = None) -> str:
    """The report notify_bench prints: per part, the classifier then its baselines."""
    lines: list[str] = []
    for part, scores in evaluate(examples).items():
        lines.append(f"{part}:")
        for s in scores:
            lines += _rows(s)
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks triage", description=__doc__)
    parser.add_argument(
        "--also", type=Path, action="append", default=[],
        help="more labelled JSONL (e.g. GET /triage/feedback.jsonl, split 'feedback'), scored as its own part",
    )  # fmt: skip
    args = parser.parse_args(argv)
    examples = load() + [e for path in args.also for e in load(path)]
    started = time.perf_counter()
    for example in examples:
        classify(example.text, example.language)
    per_message_ms = (time.perf_counter() - started) / len(examples) * 1000
    by_label = Counter(e.label.value for e in examples)
    print(f"labelled set: {len(examples)} messages ({LABELLED.name}, written for VitalGate; see its README)")
    print("  " + ", ".join(f"{k} {v}" for k, v in sorted(by_label.items())))
    print(accuracy_table(examples))
    all_scores = evaluate(examples)["all"]
    rules, keywords = all_scores[0], all_scores[1]
    print(
        f"summary: accuracy {rules.accuracy:.1%} vs keyword-only {keywords.accuracy:.1%} "
        f"({rules.accuracy / keywords.accuracy:.2f}x); urgent recall {rules.urgent_recall:.1%}; "
        f"{per_message_ms:.2f} ms per message"
    )
    return 0 if rules.urgent_recall == 1.0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
