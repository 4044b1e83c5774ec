"""Which effective rule applies to which patient: rule segments, segment and patient overrides."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import structlog

from vitalgate.alerts.config import RuleError, RuleSet, apply_override
from vitalgate.alerts.segments import SegmentError, compile_segment, matches

log = structlog.get_logger(__name__)


def rule_groups(
    ruleset: RuleSet,
    tags_by_patient: Mapping[int, Iterable[str]],
    overrides: Iterable[Mapping[str, Any]] = (),
) -> list[tuple[Any, np.ndarray]]:
    """[(effective rule, sorted patient ids)]: patients sharing the same effective rule are grouped.

    Segment overrides apply in ascending priority, then the patient's own override wins. A
    broken override is logged and skipped (the shipped rule keeps protecting the patient).
    """
    by_rule_segment: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    by_rule_patient: dict[tuple[str, int], Mapping[str, Any]] = {}
    for o in overrides:
        if o.get("patient_id") is not None:
            by_rule_patient[(o["rule_id"], int(o["patient_id"]))] = o
        else:
            by_rule_segment[o["rule_id"]].append(o)
    # Patients sharing a tag set share every segment decision: decide once per tag set.
    by_tags: dict[frozenset[str], list[int]] = defaultdict(list)
    for pid, tags in tags_by_patient.items():
        by_tags[frozenset(t.lower() for t in tags)].append(int(pid))
    groups: list[tuple[Any, np.ndarray]] = []
    for base in ruleset.rules:
        segment_overrides = by_rule_segment.get(base.id, [])
        variants: dict[tuple[int, ...], Any] = {}
        members: dict[tuple[int, ...], list[int]] = defaultdict(list)
        for tagset, pids in by_tags.items():
            chosen = [o for o in segment_overrides if _safe_match(o["segment"], tagset)]
            seg_key = tuple(int(o["id"]) for o in chosen)
            for pid in pids:
                own = by_rule_patient.get((base.id, pid)) if by_rule_patient else None
                key = seg_key + ((-int(own["id"]),) if own else ())
                if key not in variants:
                    variants[key] = _merge(base, chosen + ([own] if own else []))
                rule = variants[key]
                if rule.enabled and compile_segment(rule.segment)(tagset):
                    members[key].append(pid)
        for key, pids in members.items():
            groups.append((variants[key], np.array(sorted(pids), dtype=np.int64)))
    return groups


def _safe_match(expression: str, tags: frozenset[str]) -> bool:
    try:
        return matches(expression, tags)
    except SegmentError as exc:
        log.warning("alerts.bad_override_segment", segment=expression, error=str(exc))
        return False


def _merge(base: Any, overrides: list[Mapping[str, Any]]) -> Any:
    rule = base
    for o in overrides:
        try:
            if not o["enabled"]:
                rule = apply_override(rule, {"enabled": False})
            rule = apply_override(rule, dict(o["params"] or {}))
        except RuleError as exc:
            log.warning("alerts.bad_override", override_id=o["id"], rule=base.id, error=str(exc))
    return rule
