"""Missing-data rules: silence (no reading on whole local dates) and coverage (reading days in a window).

Both count the patient's LOCAL calendar dates, each reading dated in the zone in force when it was
measured (vitalgate.core.localtime; alerts/README.md has the exact definitions).
"""

from __future__ import annotations

import math

import numpy as np

from vitalgate.alerts.config import MissingDataRule
from vitalgate.alerts.context import PatientContext
from vitalgate.alerts.finding import Finding
from vitalgate.alerts.frame import DAY, KIND_CODES, ReadingFrame, local_day
from vitalgate.alerts.threshold import CLOCK_SKEW_S, cleared, restrict
from vitalgate.alerts.threshold import iso as _iso
from vitalgate.i18n import Msg


def evaluate_missing(
    rule: MissingDataRule,
    frame: ReadingFrame,
    patients: np.ndarray,
    now: float,
    ctx: PatientContext,
    keep: np.ndarray | None = None,
) -> list[Finding]:
    """Silence: no reading for silent_days. Coverage: < min_days reading days in window_days."""
    sub, idx = restrict(frame, patients)
    sel = sub.t <= now + CLOCK_SKEW_S
    if rule.measurement is not None:
        sel &= sub.kind == KIND_CODES[rule.measurement]
    start = ctx.monitoring_start[np.searchsorted(ctx.patients, patients)]
    findings = []
    if rule.mode == "silence":
        return _silence(rule, sub, idx, sel, patients, now, ctx, keep)
    # Reading days are the patient's last window_days LOCAL dates (today included).
    first = ctx.first_local_day(patients, now, rule.window_days)
    day = local_day(sub.local_t) - first[idx]
    sel &= day >= 0
    keys = np.unique(idx[sel] * (rule.window_days + 1) + day[sel])
    days = np.bincount(keys // (rule.window_days + 1), minlength=patients.size)
    # Judge only patients monitored for the whole window, or a new patient is always short.
    window_start = first * DAY - ctx.offsets(patients)  # local midnight of the first day (offset of now)
    judged = np.isfinite(start) & (np.nan_to_num(start, nan=np.inf) <= window_start)
    active = judged & (days < rule.min_days)
    findings = cleared(patients, judged & ~active, keep)
    for k in np.flatnonzero(active):
        findings.append(
            Finding(
                int(patients[k]),
                True,
                float(days[k]),
                Msg(
                    "{title}: {n} reading days in the last {window}",
                    title=rule.title,
                    n=int(days[k]),
                    window=rule.window_days,
                ),
                {"reading_days": int(days[k]), "window_days": rule.window_days, "required_days": rule.min_days},
            )
        )
    return findings


def _silence(rule, sub, idx, sel, patients, now, ctx, keep) -> list[Finding]:
    """No reading on `silent_days` whole local dates: the dates after the last reading's local date
    (in the zone in force when it was measured) and before today's local date (today is not over).
    Monitoring start stands in for a reading for a patient who has not read since (alerts/README.md).
    """
    rows = np.flatnonzero(sel)
    # The frame is sorted by (patient, t): each patient's last selected row is their latest reading.
    last_row = np.full(patients.size, -1)
    last_row[idx[rows]] = rows
    has_read = last_row >= 0
    last_day = np.full(patients.size, -np.inf)  # (indexing sub with no rows at all would fail)
    last_day[has_read] = local_day(sub.local_t[last_row[has_read]])
    ref_day = np.fmax(last_day, np.nan_to_num(ctx.start_local_days(patients), nan=-np.inf))
    known = np.isfinite(ref_day)  # never monitored and never read: nothing to miss
    today = local_day(now + ctx.offsets(patients))
    missed = np.where(known, today - np.where(known, ref_day, 0.0) - 1, 0.0)
    active = known & (missed >= math.ceil(rule.silent_days))
    findings = cleared(patients, known & ~active, keep)
    for k in np.flatnonzero(active):
        seen = _iso(float(sub.t[last_row[k]])) if has_read[k] else None
        days = int(missed[k])
        findings.append(
            Finding(
                int(patients[k]),
                True,
                float(days),
                Msg("{title}: silent for {days} days", title=rule.title, days=days),
                {"silent_days": days, "last_reading_at": seen, "counted_in": "whole local days"},
            )
        )
    return findings
