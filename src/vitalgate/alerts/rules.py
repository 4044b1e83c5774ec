"""Pure, numpy-vectorised rule evaluation over a ReadingFrame (no I/O).

Each evaluator gets the sorted unique patient ids the (effective) rule applies to and returns a
Finding per patient whose state is known: active (open or update the episode) or not (clear it).
Patients with too little data to judge are left out, so their episodes stay as they are.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from vitalgate.alerts.config import (
    ConsecutiveRule,
    ForecastRule,
    MissingDataRule,
    QuestionnaireRule,
    ThresholdRule,
    TrendRule,
)
from vitalgate.alerts.context import PatientContext
from vitalgate.alerts.finding import Finding
from vitalgate.alerts.frame import DAY, KIND_CODES, ReadingFrame, compare, local_day, rank_from_end, split_by_group
from vitalgate.alerts.missing_data import evaluate_missing
from vitalgate.alerts.questionnaire_rule import evaluate_questionnaire
from vitalgate.alerts.threshold import CLOCK_SKEW_S, cleared, evaluate_threshold, meal_mask, reading_evidence, restrict
from vitalgate.alerts.threshold import iso as _iso
from vitalgate.alerts.trends import evaluate_trend
from vitalgate.domain import MeasurementKind
from vitalgate.i18n import Msg
from vitalgate.i18n.values import glucose

# Summary parameters are keyword arguments, never literals: Babel's extractor would take a string
# literal in a Msg(...) call for a second message.
MG_DL = "mg/dL"


def _value(value: float, unit: str) -> object:
    """A rule's bound as a summary parameter: glucose in the reader's unit, others as written."""
    return glucose(value) if unit == "mg/dL" else f"{value:g}"


def evaluate_consecutive(
    rule: ConsecutiveRule, frame: ReadingFrame, patients: np.ndarray, now: float, keep: np.ndarray | None = None
) -> list[Finding]:
    """Active while at least n of the patient's last m matching readings are beyond the limit."""
    sub, idx = restrict(frame, patients)
    c = rule.condition
    sel = (
        (sub.kind == KIND_CODES[rule.measurement])
        & meal_mask(sub, rule.meals)
        & ~np.isnan(sub.values[c.field])
        & (sub.t >= now - rule.lookback_days * DAY)
        & (sub.t <= now + CLOCK_SKEW_S)
    )
    rows = np.flatnonzero(sel)
    g = idx[rows]
    if rule.one_per_local_day:
        # The day's last matching reading stands for the day (a repeated morning check is one fasting value).
        day = local_day(sub.local_t[rows])
        last_of_day = np.ones(rows.size, dtype=bool)
        last_of_day[:-1] = (g[1:] != g[:-1]) | (day[1:] != day[:-1])
        rows, g = rows[last_of_day], g[last_of_day]
    last_m = rank_from_end(g, patients.size) < rule.m
    rows, g = rows[last_m], g[last_m]
    beyond = compare(sub.values[c.field][rows], c.op, c.value)
    n_beyond = np.bincount(g[beyond], minlength=patients.size)
    groups = split_by_group(rows[beyond], idx)
    active = n_beyond >= rule.n
    findings = cleared(patients, ~active, keep)
    for k in np.flatnonzero(active):
        pid = patients[k]
        hit = groups[int(k)]
        findings.append(
            Finding(
                int(pid),
                True,
                float(n_beyond[k]),
                Msg(
                    "{title}: {n} of last {m} beyond {value} {unit}",
                    title=rule.title,
                    n=int(n_beyond[k]),
                    m=rule.m,
                    value=_value(c.value, c.unit),
                    unit=c.unit,
                ),
                {"n": int(n_beyond[k]), "m": rule.m, "readings": reading_evidence(sub, hit, [c.field], c.unit)},
                latest_at=float(sub.t[hit[-1]]),
                has_new=bool(sub.is_new[hit].any()),
            )
        )
    return findings


# Nightscout AR2 (cgm-remote-monitor lib/plugins/ar2.js): glucose in log space around a central
# tendency of 140 mg/dL, y[t+1] = -0.723*y[t-1] + 1.716*y[t] on 5-minute CGM steps, clamped to
# the 36..400 mg/dL meter range.
AR2_COEFFICIENTS = (-0.723, 1.716)
AR2_BG_REF, AR2_BG_MIN, AR2_BG_MAX = 140.0, 36.0, 400.0
AR2_STEP_S = 300.0


def ar2_forecast(prev: np.ndarray, last: np.ndarray, gap_s: np.ndarray, steps: int) -> np.ndarray:
    """Predicted mg/dL for each of `steps` 5-minute steps after `last` (rows: patients).

    Meter readings are not 5 minutes apart, so the value 5 minutes before `last` is interpolated
    in log space along the line through the two readings; the AR2 recursion then runs unchanged.
    """
    y1 = np.log(np.clip(last, AR2_BG_MIN, AR2_BG_MAX) / AR2_BG_REF)
    yp = np.log(np.clip(prev, AR2_BG_MIN, AR2_BG_MAX) / AR2_BG_REF)
    y0 = y1 - (y1 - yp) * (AR2_STEP_S / gap_s)
    out = np.empty((last.size, steps))
    for step in range(steps):
        y0, y1 = y1, AR2_COEFFICIENTS[0] * y0 + AR2_COEFFICIENTS[1] * y1
        out[:, step] = np.clip(AR2_BG_REF * np.exp(y1), AR2_BG_MIN, AR2_BG_MAX)
    return out


def evaluate_forecast(
    rule: ForecastRule, frame: ReadingFrame, patients: np.ndarray, now: float, keep: np.ndarray | None = None
) -> list[Finding]:
    """Active when AR2 on the last two glucose readings predicts < below_mg_dl within the horizon.

    Only pairs at most max_gap_minutes apart are used: across longer gaps between finger sticks
    the rate of change says nothing about the next half hour, so no forecast is made (the
    patient's state is left unknown). Readings already below the limit are the threshold rules'.
    """
    sub, idx = restrict(frame, patients)
    g_all = sub.values["glucose_mg_dl"]
    rows = np.flatnonzero(
        (sub.kind == KIND_CODES[MeasurementKind.GLUCOSE]) & ~np.isnan(g_all) & (sub.t <= now + CLOCK_SKEW_S)
    )
    g = idx[rows]
    rank = rank_from_end(g, patients.size)
    last_rows = np.full(patients.size, -1)
    prev_rows = np.full(patients.size, -1)
    last_rows[g[rank == 0]] = rows[rank == 0]
    prev_rows[g[rank == 1]] = rows[rank == 1]
    ok = (last_rows >= 0) & (prev_rows >= 0)
    if not ok.any():
        return []
    t_last, t_prev = sub.t[np.maximum(last_rows, 0)], sub.t[np.maximum(prev_rows, 0)]
    gap = np.where(ok, t_last - t_prev, np.inf)
    fresh = ok & (now - t_last <= rule.horizon_minutes * 60)
    usable = ok & (gap > 0) & (gap <= rule.max_gap_minutes * 60) & fresh
    findings = cleared(patients, ok & ~usable, keep)
    k = np.flatnonzero(usable)
    if k.size:
        last, prev = g_all[last_rows[k]], g_all[prev_rows[k]]
        predicted = ar2_forecast(prev, last, gap[k], rule.horizon_minutes // 5).min(axis=1)
        for j, kk in enumerate(k):
            active = bool(last[j] >= rule.below_mg_dl and predicted[j] < rule.below_mg_dl)
            findings.append(
                Finding(
                    int(patients[kk]),
                    active,
                    float(predicted[j]),
                    Msg(
                        "{title}: {previous} -> {last} {glucose_unit}, predicted {predicted} {glucose_unit}",
                        title=rule.title,
                        previous=glucose(float(prev[j])),
                        last=glucose(float(last[j])),
                        predicted=glucose(round(float(predicted[j]))),
                        glucose_unit=MG_DL,
                    ),
                    {
                        "previous": float(prev[j]),
                        "last": float(last[j]),
                        "predicted_min": float(predicted[j]),
                        "unit": "mg/dL",
                        "at": _iso(float(sub.t[last_rows[kk]])),
                        "horizon_minutes": rule.horizon_minutes,
                    },
                    latest_at=float(sub.t[last_rows[kk]]),
                    has_new=bool(sub.is_new[last_rows[kk]]),
                )
            )
    return findings


def evaluate_rule(
    rule: Any,
    frame: ReadingFrame,
    patients: np.ndarray,
    now: float,
    ctx: PatientContext,
    keep: np.ndarray | None = None,
) -> list[Finding]:
    """Dispatch on the rule kind; `keep` (bool per patient) limits inactive findings to those that matter."""
    if isinstance(rule, ThresholdRule):
        return evaluate_threshold(rule, frame, patients, now, keep)
    if isinstance(rule, ConsecutiveRule):
        return evaluate_consecutive(rule, frame, patients, now, keep)
    if isinstance(rule, TrendRule):
        return evaluate_trend(rule, frame, patients, now, keep, ctx.first_local_day(patients, now, rule.window_days))
    if isinstance(rule, ForecastRule):
        return evaluate_forecast(rule, frame, patients, now, keep)
    if isinstance(rule, MissingDataRule):
        return evaluate_missing(rule, frame, patients, now, ctx, keep)
    if isinstance(rule, QuestionnaireRule):
        return evaluate_questionnaire(rule, ctx.scores or {}, patients, now, keep)
    raise TypeError(f"unknown rule type {type(rule).__name__}")
