"""The labelled set is big enough, in both languages, every class present, and no urgent message is missed."""

from __future__ import annotations

from collections import Counter

from benchmarks.triage_bench import evaluate, load
from vitalgate.notify.triage import TriageCategory


def test_the_set_is_large_balanced_and_split() -> None:
    examples = load()
    assert len(examples) >= 300
    languages = Counter(e.language for e in examples)
    assert set(languages) == {"en", "zh-Hans"} and min(languages.values()) >= 0.4 * len(examples)
    assert {e.label for e in examples} == set(TriageCategory)
    assert len({e.id for e in examples}) == len(examples)
    held_out = [e for e in examples if e.split == "heldout"]
    assert 0.2 * len(examples) <= len(held_out) <= 0.4 * len(examples)


def test_urgent_recall_is_total_and_the_rules_beat_both_baselines() -> None:
    results = evaluate()
    for part in ("all", "dev", "held-out", "en", "zh-Hans"):
        rules, keywords, majority = results[part]
        assert rules.urgent_recall == 1.0, (part, rules.missed_urgent)
        assert rules.accuracy > keywords.accuracy > majority.accuracy
