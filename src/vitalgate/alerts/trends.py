"""Trend rules over a window of days, all patients at once: mean, slope of daily means, CV, TIR/TBR.

Meter readings are samples, not a continuous trace, and patients test more when they feel low: a
low with two rechecks would count three times. Time in range and time below range are therefore
slot-weighted: each (local day, 6-hour local slot: night 0-6, morning 6-12, afternoon 12-18,
evening 18-24) that has readings counts once, split equally among its readings, so symptomatic
extra checks cannot outweigh the routine ones. CV is the sample SD (n - 1) over the mean, the same
definition as the patient page (store/patient_stats.py, stddev_samp). The 2019 consensus targets
were set for CGM; applied to finger sticks they are an approximation, which is why these rules ask
for a minimum number of readings and reading days before they judge anything.
"""

from __future__ import annotations

import numpy as np

from vitalgate.alerts.config import TrendRule
from vitalgate.alerts.finding import Finding
from vitalgate.alerts.frame import ReadingFrame, compare, dense_index, local_day, local_hour, part_of_day_mask
from vitalgate.i18n import Msg
from vitalgate.i18n.values import glucose

_UNIT_SUFFIX = {"mean": "", "slope_per_week": "/week"}
# Local slots per day for TIR/TBR weighting: 4 x 6 h, about one per routine meter check.
SLOTS_PER_DAY = 4


def _slot_weights(idx: np.ndarray, day: np.ndarray, hour: np.ndarray, patients: int, days: int) -> np.ndarray:
    """Per reading 1 / (readings in its patient's local day and slot): every slot-day weighs 1."""
    key = (idx * days + day) * SLOTS_PER_DAY + hour * SLOTS_PER_DAY // 24
    counts = np.bincount(key, minlength=patients * days * SLOTS_PER_DAY)
    return 1.0 / counts[key]


def _daily(idx: np.ndarray, day: np.ndarray, values: np.ndarray, patients: int, days: int):
    """Per (patient, day) sums and counts, flattened as patient * days + day."""
    key = idx * days + day
    sums = np.bincount(key, weights=values, minlength=patients * days)
    counts = np.bincount(key, minlength=patients * days)
    return sums, counts


# Student t, one-sided 95 %, by degrees of freedom (df > 30: 1.697 is used, a little conservative).
_T95 = np.array([
    0.0, 6.314, 2.920, 2.353, 2.132, 2.015, 1.943, 1.895, 1.860, 1.833, 1.812, 1.796, 1.782, 1.771, 1.761,
    1.753, 1.746, 1.740, 1.734, 1.729, 1.725, 1.721, 1.717, 1.714, 1.711, 1.708, 1.706, 1.703, 1.701, 1.699,
    1.697,
])  # fmt: skip


def _slope_per_week(sums: np.ndarray, counts: np.ndarray, patients: int, days: int) -> tuple[np.ndarray, np.ndarray]:
    """Least-squares slope of daily means against day number, times 7, and its standard error.

    NaN slope with < 2 days; NaN standard error with < 3 (no residual degrees of freedom).
    """
    has = counts > 0
    key = np.flatnonzero(has)
    p, x = key // days, (key % days).astype(np.float64)
    y = sums[key] / counts[key]
    n = np.bincount(p, minlength=patients).astype(np.float64)
    sx, sy = np.bincount(p, x, patients), np.bincount(p, y, patients)
    sxx, sxy = np.bincount(p, x * x, patients), np.bincount(p, x * y, patients)
    syy = np.bincount(p, y * y, patients)
    denom = n * sxx - sx * sx
    with np.errstate(invalid="ignore", divide="ignore"):
        slope = np.where(denom > 0, (n * sxy - sx * sy) / denom, np.nan)
        # residual sum of squares = Syy - b^2 Sxx (centred sums)
        ssr = np.maximum((syy - sy * sy / n) - slope * slope * (denom / n), 0.0)
        se = np.where((denom > 0) & (n > 2), np.sqrt(ssr / (n - 2) / (denom / n)), np.nan)
    return slope * 7.0, se * 7.0


def _t95(df: np.ndarray) -> np.ndarray:
    return _T95[np.clip(df, 0, len(_T95) - 1).astype(np.int64)]


def evaluate_trend(
    rule: TrendRule,
    frame: ReadingFrame,
    patients: np.ndarray,
    now: float,
    keep: np.ndarray | None = None,
    first_day: np.ndarray | None = None,
) -> list[Finding]:
    """Compute the rule's statistic per patient over their last window_days local dates and compare it.

    `first_day`: each patient's first local day number of the window (rules.PatientContext); None = UTC days.
    """
    if first_day is None:
        first_day = np.full(patients.size, local_day(np.asarray([now]))[0] - rule.window_days + 1)
    vals_all = frame.values[rule.field]
    sel = np.isin(frame.patient, patients) & ~np.isnan(vals_all) & (frame.t <= now)
    sel &= part_of_day_mask(frame.local_t, rule.parts_of_day)
    idx = dense_index(patients, frame.patient[sel])
    day = local_day(frame.local_t[sel]) - first_day[idx]
    inside = day >= 0
    idx, day = idx[inside], np.minimum(day[inside], rule.window_days - 1)
    v = vals_all[sel][inside]
    hour = local_hour(frame.local_t[sel][inside])
    if rule.exclude_first_day:
        # Home-BP protocols discard day 1 of a measurement week (first-day readings run high).
        after_day1 = day > 0
        idx, day, v, hour = idx[after_day1], day[after_day1], v[after_day1], hour[after_day1]
    P, W = patients.size, rule.window_days
    n = np.bincount(idx, minlength=P)
    sums, counts = _daily(idx, day, v, P, W)
    reading_days = (counts.reshape(P, W) > 0).sum(axis=1)
    bound: np.ndarray | None = None  # the slope's confidence bound, when the rule asks for one
    with np.errstate(invalid="ignore", divide="ignore"):
        if rule.metric == "mean":
            stat = np.bincount(idx, v, P) / n
        elif rule.metric == "slope_per_week":
            stat, se = _slope_per_week(sums, counts, P, W)
            if rule.slope_confidence_95:
                margin = _t95(reading_days - 2) * se
                bound = stat - margin if rule.op in (">", ">=") else stat + margin
        elif rule.metric == "cv_percent":
            # Sample SD (n - 1), as the patient page computes it.
            mean = np.bincount(idx, v, P) / n
            var = (np.bincount(idx, v * v, P) - n * mean * mean) / (n - 1)
            stat = 100.0 * np.sqrt(np.maximum(var, 0.0)) / mean
        else:  # time in / below range, slot-weighted
            w = _slot_weights(idx, day, hour, P, W)
            if rule.metric == "time_in_range_percent":
                hit = (v >= (rule.range_low or 70.0)) & (v <= (rule.range_high or 180.0))
            else:  # time_below_percent
                hit = v < (rule.range_low or 70.0)
            stat = 100.0 * np.bincount(idx, w * hit, P) / np.bincount(idx, w, P)
    judged = stat if bound is None else bound
    enough = (n >= rule.min_readings) & (reading_days >= rule.min_days) & ~np.isnan(judged)
    active = compare(judged, rule.op, rule.value) & enough
    wanted = enough if keep is None else enough & (active | keep)
    findings = []
    for k in np.flatnonzero(wanted):
        s = float(stat[k])
        findings.append(
            Finding(
                int(patients[k]),
                bool(active[k]),
                s,
                Msg(
                    "{title}: {metric} {value} {unit} over {days} days",
                    title=rule.title,
                    metric=rule.metric,
                    unit=rule.unit,
                    days=rule.window_days,
                    value=glucose(round(float(s), 1)) if rule.unit == "mg/dL" else round(float(s), 1),
                ),
                {
                    "metric": rule.metric,
                    "value": round(s, 3),
                    "unit": rule.unit,
                    "readings": int(n[k]),
                    "reading_days": int(reading_days[k]),
                    "window_days": rule.window_days,
                    "excluded_first_day": rule.exclude_first_day,
                    "parts_of_day": rule.parts_of_day,
                    **({"confidence_bound_95": round(float(bound[k]), 3)} if bound is not None else {}),
                },
            )
        )
    return findings
