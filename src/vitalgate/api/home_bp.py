"""Home blood-pressure report per the home protocol (pure).

Protocol (ESH 2021 practice guidelines for home BP; Stergiou et al., J Hypertens 2021): 7 days,
two readings in the morning and two in the evening, the first day discarded, the mean of the rest
compared with the home threshold 135/85 mmHg (ESH) and 130/80 mmHg (ACC/AHA 2017 home equivalent
of stage 1); at least 12 readings are needed for a reliable mean.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from vitalgate.store.report_data import LocalBp

PROTOCOL_DAYS = 7
MIN_READINGS = 12  # ESH: at least 12 readings after the first day is discarded
MORNING_HOURS = range(4, 12)  # local 04:00-11:59
EVENING_HOURS = range(17, 24)  # local 17:00-23:59
THRESHOLDS = {"esh": (135, 85), "acc_aha": (130, 80)}


@dataclass(frozen=True, slots=True)
class BpMean:
    readings: int
    systolic_mmhg: float | None
    diastolic_mmhg: float | None


@dataclass(frozen=True, slots=True)
class HomeBpReport:
    first_day: date  # the protocol's 7 local days: first_day (discarded) .. last_day
    last_day: date
    discarded: int  # readings of day 1
    used: int
    overall: BpMean
    morning: BpMean
    evening: BpMean
    above_pct: dict[str, float | None] = field(default_factory=dict)  # share of readings above each threshold
    mean_above: dict[str, bool | None] = field(default_factory=dict)  # the mean at or above each threshold
    withheld: str | None = None  # why the means are not stated


def _mean(rows: list[LocalBp], enough: bool) -> BpMean:
    if not rows or not enough:
        return BpMean(len(rows), None, None)
    return BpMean(
        len(rows),
        round(sum(r.systolic_mmhg for r in rows) / len(rows), 1),
        round(sum(r.diastolic_mmhg for r in rows) / len(rows), 1),
    )


def home_bp_report(readings: list[LocalBp], last_day: date) -> HomeBpReport:
    """The protocol over the 7 local days ending on `last_day` (readings in the patient's wall clock)."""
    first = last_day - timedelta(days=PROTOCOL_DAYS - 1)
    week = [r for r in readings if first <= r.local.date() <= last_day]
    used = [r for r in week if r.local.date() != first and r.local.hour in (*MORNING_HOURS, *EVENING_HOURS)]
    enough = len(used) >= MIN_READINGS
    overall = _mean(used, enough)
    above = {
        name: round(100.0 * sum(1 for r in used if r.systolic_mmhg >= s or r.diastolic_mmhg >= d) / len(used), 1)
        if used
        else None
        for name, (s, d) in THRESHOLDS.items()
    }
    mean_above = {
        name: (overall.systolic_mmhg >= s or overall.diastolic_mmhg >= d)  # type: ignore[operator]
        if overall.systolic_mmhg is not None
        else None
        for name, (s, d) in THRESHOLDS.items()
    }
    return HomeBpReport(
        first_day=first,
        last_day=last_day,
        discarded=sum(1 for r in week if r.local.date() == first),
        used=len(used),
        overall=overall,
        morning=_mean([r for r in used if r.local.hour in MORNING_HOURS], enough),
        evening=_mean([r for r in used if r.local.hour in EVENING_HOURS], enough),
        above_pct=above,
        mean_above=mean_above,
        withheld=None
        if enough
        else f"{len(used)} morning/evening readings after day 1; the protocol needs {MIN_READINGS}",
    )


def time_of_day_means(readings: list[LocalBp]) -> tuple[BpMean, BpMean]:
    """Morning and evening means of any window (the chart page's summary; no protocol minimum)."""
    morning = [r for r in readings if r.local.hour in MORNING_HOURS]
    evening = [r for r in readings if r.local.hour in EVENING_HOURS]
    return _mean(morning, True), _mean(evening, True)
