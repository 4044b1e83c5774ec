"""Blood-pressure summary and chart bucket choice (glucose figures: api.glucose_stats)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from vitalgate.api.schemas import BloodPressureStats

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
