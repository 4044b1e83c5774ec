"""Threshold rules as events: a run of breaching readings, ended by a reading that is not (no I/O).

An event of a threshold rule is the patient's current run of readings beyond the limit: it starts
with the first breaching reading after the last one that was not, and it ends (the condition has
cleared) as soon as a later reading of the same measurement is not beyond, or when the run's last
breaching reading leaves `window_hours`. A breaching reading in the just-ingested batch counts even
when a later reading cleared it (a late sync: the team hears of the low it did not see).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np

from vitalgate.alerts.config import ThresholdRule
from vitalgate.alerts.finding import Finding
from vitalgate.alerts.frame import KIND_CODES, ReadingFrame, compare, dense_index, split_by_group
from vitalgate.i18n import Msg
from vitalgate.i18n.values import glucose

# Evidence keeps the latest breaching readings only, so an episode with hundreds of readings
# stays a small row.
EVIDENCE_READINGS = 20
# Readings stamped slightly in the future (device clock drift) still count as "now".
CLOCK_SKEW_S = 3600.0


def _summary(title: str, n: int, low: bool, bound: str, worst: float, unit: str) -> Msg:
    """'<title>: 3 reading(s), lowest < 48 mg/dL' kept as msgid + parameters (glucose in the reader's unit)."""
    value: object = glucose(worst) if unit == "mg/dL" else f"{worst:g}"
    if low:
        return Msg(
            "{title}: {n} reading(s), lowest {bound}{worst} {unit}",
            title=title,
            n=n,
            bound=bound,
            worst=value,
            unit=unit,
        )
    return Msg(
        "{title}: {n} reading(s), highest {bound}{worst} {unit}", title=title, n=n, bound=bound, worst=value, unit=unit
    )


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).isoformat()


def restrict(frame: ReadingFrame, patients: np.ndarray) -> tuple[ReadingFrame, np.ndarray]:
    """The frame limited to these (sorted) patients, and each row's position among them."""
    if frame.universe is not None and patients.size == frame.universe.size:
        return frame, dense_index(patients, frame.patient)  # the rule applies to everyone: no copy
    sub = frame.select(np.isin(frame.patient, patients))
    return sub, dense_index(patients, sub.patient)


def meal_mask(frame: ReadingFrame, meals: list[str] | None) -> np.ndarray:
    if meals is None:
        return np.ones(len(frame), dtype=bool)
    return np.isin(frame.meal, np.asarray(meals, dtype=object))


def cleared(patients: np.ndarray, inactive: np.ndarray, keep: np.ndarray | None) -> list[Finding]:
    """Inactive findings, only for patients whose clearing matters (an open episode); None = all."""
    sel = inactive if keep is None else inactive & keep
    return [Finding(int(p), False) for p in patients[sel]]


def reading_evidence(frame: ReadingFrame, rows: np.ndarray, fields: Sequence[str], unit: str) -> list[dict[str, Any]]:
    rows = rows[-EVIDENCE_READINGS:]
    out = []
    for r in rows:
        item: dict[str, Any] = {"at": iso(float(frame.t[r])), "unit": unit}
        for f in fields:
            item[f] = float(frame.values[f][r])
        if len(frame.comparator) and frame.comparator[r] is not None:
            item["comparator"] = frame.comparator[r]
        if frame.ids[r] is not None:
            item["reading_id"] = str(frame.ids[r])
        out.append(item)
    return out


def _run_starts(sel: np.ndarray, breach: np.ndarray, idx: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Per row: time of the first breaching reading of the run it belongs to (NaN outside runs)."""
    rows = np.flatnonzero(sel)
    out = np.full(sel.size, np.nan)
    if rows.size == 0:
        return out
    g = idx[rows]
    boundary = ~breach[rows] | np.concatenate(([True], g[1:] != g[:-1]))
    key = np.cumsum(boundary)
    is_b = breach[rows]
    first = np.full(int(key.max()) + 1, np.inf)
    np.minimum.at(first, key[is_b], t[rows][is_b])
    out[rows[is_b]] = first[key[is_b]]
    return out


def evaluate_threshold(
    rule: ThresholdRule, frame: ReadingFrame, patients: np.ndarray, now: float, keep: np.ndarray | None = None
) -> list[Finding]:
    """Active while the patient's current run of breaching readings is within window_hours (or new)."""
    sub, idx = restrict(frame, patients)
    masks = [compare(sub.values[c.field], c.op, c.value) for c in rule.conditions]
    beyond = np.logical_or.reduce(masks) if rule.match == "any" else np.logical_and.reduce(masks)
    if rule.comparator is not None:
        comp = sub.comparator if len(sub.comparator) else np.full(len(sub), None, dtype=object)
        beyond = beyond & (comp == rule.comparator)
    measured = np.logical_or.reduce([~np.isnan(sub.values[c.field]) for c in rule.conditions])
    sel = (sub.kind == KIND_CODES[rule.measurement]) & meal_mask(sub, rule.meals) & measured
    sel &= sub.t <= now + CLOCK_SKEW_S
    breach = sel & beyond
    clear_rows = sel & ~beyond
    last_clear = np.full(patients.size, -np.inf)
    np.maximum.at(last_clear, idx[clear_rows], sub.t[clear_rows])
    ongoing = breach & (sub.t > last_clear[idx]) & (sub.t >= now - rule.window_hours * 3600)
    hit = ongoing | (breach & sub.is_new)
    starts = _run_starts(sel, breach, idx, sub.t)
    groups = split_by_group(np.flatnonzero(hit), idx)
    fields = list(dict.fromkeys(c.field for c in rule.conditions))
    first = rule.conditions[0]
    has = np.zeros(patients.size, dtype=bool)
    has[list(groups)] = True
    findings = cleared(patients, ~has, keep)
    low = first.op in ("<", "<=")
    for k, rows in groups.items():
        vals = sub.values[first.field][rows]
        worst = float(np.nanmin(vals) if low else np.nanmax(vals))
        last = rows[-1]
        bound = f"{rule.comparator} " if rule.comparator else ""
        findings.append(
            Finding(
                int(patients[k]),
                True,
                worst,
                _summary(rule.title, int(rows.size), low, bound, worst, first.unit),
                {
                    "count": int(rows.size),
                    "worst": worst,
                    "unit": first.unit,
                    "event_start": iso(float(starts[last])),
                    "event_start_ts": float(starts[last]),
                    "readings": reading_evidence(sub, rows, fields, first.unit),
                },
                event_start=float(starts[last]),
                latest_at=float(sub.t[last]),
                has_new=bool(sub.is_new[rows].any()),
            )
        )
    return findings
