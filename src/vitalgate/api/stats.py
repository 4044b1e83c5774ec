"""Clinical summary numbers computed from SQL aggregates (pure functions, units in the names)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from vitalgate.api.schemas import BloodPressureStats, GlucoseStats, TimeInRanges

# Chart series: the widest bucket that still shows shape; about 300–600 points per chart.
_AUTO_BUCKETS = (
    (timedelta(days=2), None),
    (timedelta(days=14), timedelta(hours=1)),
    (timedelta(days=92), timedelta(hours=6)),
    (timedelta(days=400), timedelta(days=1)),
)
BUCKETS = {
    "raw": None,
    "15m": timedelta(minutes=15),
    "1h": timedelta(hours=1),
    "6h": timedelta(hours=6),
    "1d": timedelta(days=1),
    "7d": timedelta(days=7),
}


def gmi_percent(mean_mg_dl: float) -> float:
    """Glucose management indicator: GMI (%) = 3.31 + 0.02392 × mean glucose (mg/dL) (Bergenstal et al., Diabetes Care 2018)."""
    return 3.31 + 0.02392 * mean_mg_dl


def glucose_summary(agg: dict[str, Any]) -> GlucoseStats:
    """Mean, GMI, CV and time in the consensus ranges from the aggregate row of store.patient_stats."""
    n = int(agg["n"])
    if n == 0:
        return GlucoseStats(readings=0, mean_mg_dl=None, gmi_pct=None, cv_pct=None, time_in_ranges=None)
    mean = float(agg["mean"])
    cv = float(agg["sd"]) / mean * 100.0 if agg["sd"] is not None and mean > 0 else None
    pct = {k: round(100.0 * int(agg[k]) / n, 1) for k in ("very_low", "low", "in_range", "high", "very_high")}
    return GlucoseStats(
        readings=n,
        mean_mg_dl=round(mean, 1),
        gmi_pct=round(gmi_percent(mean), 1),
        cv_pct=round(cv, 1) if cv is not None else None,
        time_in_ranges=TimeInRanges(**{f"{k}_pct": v for k, v in pct.items()}),
    )


def bp_summary(agg: dict[str, Any]) -> BloodPressureStats:
    """Home blood-pressure means (ACC/AHA 2017: average several days of home readings)."""

    def r(v: Any) -> float | None:
        return round(float(v), 1) if v is not None else None

    return BloodPressureStats(
        readings=int(agg["n"]),
        systolic_mean_mmhg=r(agg["systolic"]),
        diastolic_mean_mmhg=r(agg["diastolic"]),
        pulse_mean_bpm=r(agg["pulse"]),
    )


def pick_bucket(name: str, window: timedelta) -> tuple[str, timedelta | None]:
    """The bucket for a request: a named width, or 'auto' chosen from the window length."""
    if name != "auto":
        return name, BUCKETS[name]
    for limit, bucket in _AUTO_BUCKETS:
        if window <= limit:
            return _name_of(bucket), bucket
    return "7d", BUCKETS["7d"]


def _name_of(bucket: timedelta | None) -> str:
    return next(k for k, v in BUCKETS.items() if v == bucket)
