"""Baseline for the alerts benchmark: the same rules, one patient at a time, one reading at a time.

This is how a first version is usually written (a query per patient, Python loops per reading);
the benchmark measures it in the same run and cross-checks its verdicts against the engine's.
"""

from __future__ import annotations

import math
from typing import Any

from vitalgate.alerts.config import ConsecutiveRule, ForecastRule, MissingDataRule, RuleSet, ThresholdRule, TrendRule
from vitalgate.alerts.rules import AR2_BG_MAX, AR2_BG_MIN, AR2_BG_REF, AR2_COEFFICIENTS
from vitalgate.alerts.segments import matches

DAY = 86_400.0
_OPS = {"<": lambda a, b: a < b, "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b}


def naive_patient(
    ruleset: RuleSet, rows: list[dict[str, Any]], tags: list[str], start: float | None, now: float
) -> dict[str, bool]:
    """{rule id: active} for one patient; rows sorted by time, dicts with kind, t and value columns."""
    out: dict[str, bool] = {}
    for rule in ruleset.rules:
        if not rule.enabled or not matches(rule.segment, tags):
            continue
        verdict = _one(rule, rows, start, now)
        if verdict is not None:
            out[rule.id] = verdict
    return out


def _one(rule: Any, rows: list[dict[str, Any]], start: float | None, now: float) -> bool | None:
    if isinstance(rule, ThresholdRule):
        hit = False
        for r in rows:
            if r["kind"] != rule.measurement or r["t"] < now - rule.window_hours * 3600 or r["t"] > now + 3600:
                continue
            checks = [(r[c.field] is not None and _OPS[c.op](r[c.field], c.value)) for c in rule.conditions]
            if any(checks) if rule.match == "any" else all(checks):
                hit = True
        return hit
    if isinstance(rule, ConsecutiveRule):
        c = rule.condition
        sel = [
            r
            for r in rows
            if r["kind"] == rule.measurement
            and r[c.field] is not None
            and (rule.meals is None or r["meal"] in rule.meals)
            and now - rule.lookback_days * DAY <= r["t"] <= now + 3600
        ]
        return sum(1 for r in sel[-rule.m :] if _OPS[c.op](r[c.field], c.value)) >= rule.n
    if isinstance(rule, TrendRule):
        return _trend(rule, rows, now)
    if isinstance(rule, ForecastRule):
        g = [r for r in rows if r["kind"] == "glucose" and r["glucose_mg_dl"] is not None and r["t"] <= now + 3600]
        if len(g) < 2:
            return None
        prev, last = g[-2], g[-1]
        gap = last["t"] - prev["t"]
        if not (0 < gap <= rule.max_gap_minutes * 60 and now - last["t"] <= rule.horizon_minutes * 60):
            return False
        clip = lambda v: min(max(v, AR2_BG_MIN), AR2_BG_MAX)  # noqa: E731
        y1 = math.log(clip(last["glucose_mg_dl"]) / AR2_BG_REF)
        yp = math.log(clip(prev["glucose_mg_dl"]) / AR2_BG_REF)
        y0 = y1 - (y1 - yp) * (300.0 / gap)
        low = math.inf
        for _ in range(rule.horizon_minutes // 5):
            y0, y1 = y1, AR2_COEFFICIENTS[0] * y0 + AR2_COEFFICIENTS[1] * y1
            low = min(low, clip(AR2_BG_REF * math.exp(y1)))
        return last["glucose_mg_dl"] >= rule.below_mg_dl and low < rule.below_mg_dl
    if isinstance(rule, MissingDataRule):
        sel = [r for r in rows if r["t"] <= now + 3600 and (rule.measurement is None or r["kind"] == rule.measurement)]
        if rule.mode == "silence":
            ref = max([r["t"] for r in sel] + ([start] if start is not None else []), default=None)
            return None if ref is None else (now - ref) / DAY >= rule.silent_days
        window_start = now - rule.window_days * DAY
        if start is None or start > window_start:
            return None
        days = {int((r["t"] - window_start) // DAY) for r in sel if r["t"] >= window_start}
        return len(days) < rule.min_days
    raise TypeError(type(rule).__name__)


def _trend(rule: TrendRule, rows: list[dict[str, Any]], now: float) -> bool | None:
    start = now - rule.window_days * DAY
    vals: list[float] = []
    daily: dict[int, list[float]] = {}
    for r in rows:
        v = r[rule.field]
        if v is None or not (start <= r["t"] <= now):
            continue
        day = min(int((r["t"] - start) // DAY), rule.window_days - 1)
        if rule.exclude_first_day and day == 0:
            continue
        vals.append(v)
        daily.setdefault(day, []).append(v)
    if len(vals) < rule.min_readings or len(daily) < rule.min_days or not vals:
        return None
    n = len(vals)
    mean = sum(vals) / n
    if rule.metric == "mean":
        stat = mean
    elif rule.metric == "cv_percent":
        stat = 100 * math.sqrt(max(sum(v * v for v in vals) / n - mean * mean, 0.0)) / mean
    elif rule.metric == "time_in_range_percent":
        stat = 100 * sum(1 for v in vals if (rule.range_low or 70) <= v <= (rule.range_high or 180)) / n
    elif rule.metric == "time_below_percent":
        stat = 100 * sum(1 for v in vals if v < (rule.range_low or 70)) / n
    else:
        xs = sorted(daily)
        ys = [sum(daily[d]) / len(daily[d]) for d in xs]
        k = len(xs)
        sx, sy = sum(xs), sum(ys)
        sxx, sxy = sum(x * x for x in xs), sum(x * y for x, y in zip(xs, ys, strict=True))
        denom = k * sxx - sx * sx
        if denom <= 0:
            return None
        stat = (k * sxy - sx * sy) / denom * 7
    return _OPS[rule.op](stat, rule.value)
