"""Honest glucose statistics: every figure with the data behind it, withheld below a stated minimum.

Two variants, chosen from the data and never mixed:
- CGM-like data (a reading every ≤ 20 minutes on the days with data): time-based figures —
  time in ranges, mean, CV, and GMI — per the international consensus on CGM metrics
  (Battelino et al., Diabetes Care 2019: ≥ 14 days and ≥ 70 % of possible data).
- Finger-stick meter (BGM) data: "% of readings in ranges", readings per day, lowest/highest, mean
  and CV when there are enough readings; never GMI (an estimate of HbA1c from *continuous* data).
"""

from __future__ import annotations

from typing import Any

from vitalgate.api.schemas import GlucoseStats, TimeInRanges, Withheld
from vitalgate.i18n import Msg

# A reading every 20 minutes or more often on the days with data: 5-minute CGMs give 288 a day,
# 15-minute flash sensors 96; four finger-sticks a day are far below.
CGM_LIKE_READINGS_PER_DAY = 72
# Battelino 2019: at least 14 days of CGM data, with at least 70 % of the possible data.
CGM_MIN_DAYS = 14
CGM_MIN_COVERAGE_PCT = 70.0
# Below one finger-stick a day over two weeks, a percentage of readings says little (stated minimum).
BGM_MIN_READINGS = 14
_SLOTS_PER_DAY = 96  # coverage counts 15-minute slots holding at least one reading


def _withheld(figure: str, code: str, reason: Msg) -> Withheld:
    return Withheld(figure=figure, code=code, reason=str(reason), reason_key=reason.msgid, params=reason.params)


def gmi_percent(mean_mg_dl: float) -> float:
    """Glucose management indicator: GMI (%) = 3.31 + 0.02392 × mean glucose (mg/dL) (Bergenstal et al., Diabetes Care 2018)."""
    return 3.31 + 0.02392 * mean_mg_dl


def _ranges(agg: dict[str, Any], n: int) -> TimeInRanges:
    pct = {k: round(100.0 * int(agg[k]) / n, 1) for k in ("very_low", "low", "in_range", "high", "very_high")}
    return TimeInRanges(**{f"{k}_pct": v for k, v in pct.items()})


def glucose_summary(agg: dict[str, Any], window_days: int) -> GlucoseStats:
    """The statistics block from the aggregate row of store.patient_stats.glucose_stats."""
    n = int(agg["n"])
    days = int(agg.get("days_with_data") or 0)
    base: dict[str, Any] = {"readings": n, "window_days": window_days, "days_with_data": days}
    if n == 0:
        return GlucoseStats(**base, variant="none", withheld=[_withheld("all", "no_data", Msg("no glucose readings"))])
    per_day = n / days if days else 0.0
    mean = float(agg["mean"])
    cv = float(agg["sd"]) / mean * 100.0 if agg.get("sd") is not None and mean > 0 else None
    base |= {
        "readings_per_day": round(n / window_days, 1),
        "lowest_mg_dl": float(agg["lowest"]),
        "highest_mg_dl": float(agg["highest"]),
    }
    if per_day >= CGM_LIKE_READINGS_PER_DAY:
        return _cgm(agg, base, n, days, window_days, mean, cv)
    return _bgm(agg, base, n, days, window_days, mean, cv)


def _cgm(
    agg: dict[str, Any], base: dict[str, Any], n: int, days: int, window_days: int, mean: float, cv: float | None
) -> GlucoseStats:
    coverage = min(100.0, 100.0 * int(agg.get("quarter_hours_with_data") or 0) / (_SLOTS_PER_DAY * window_days))
    withheld: list[Withheld] = []
    enough = coverage >= CGM_MIN_COVERAGE_PCT
    if not enough:
        withheld.append(
            _withheld(
                "time_in_ranges",
                "coverage_below_minimum",
                Msg(
                    "CGM data covers {coverage} % of the window; time in ranges, mean and CV need ≥ {minimum} %",
                    coverage=round(coverage),
                    minimum=round(CGM_MIN_COVERAGE_PCT),
                ),
            )
        )
    gmi_ok = enough and days >= CGM_MIN_DAYS
    if not gmi_ok:
        withheld.append(
            _withheld(
                "gmi",
                "cgm_days_below_minimum",
                Msg(
                    "GMI needs ≥ {min_days} days of CGM data with ≥ {minimum} % coverage ({days} days, {coverage} %)",
                    min_days=CGM_MIN_DAYS,
                    minimum=round(CGM_MIN_COVERAGE_PCT),
                    days=days,
                    coverage=round(coverage),
                ),
            )
        )
    return GlucoseStats(
        **base,
        variant="cgm",
        coverage_pct=round(coverage, 1),
        ranges_basis="time",
        mean_mg_dl=round(mean, 1) if enough else None,
        cv_pct=round(cv, 1) if enough and cv is not None else None,
        gmi_pct=round(gmi_percent(mean), 1) if gmi_ok else None,
        time_in_ranges=_ranges(agg, n) if enough else None,
        withheld=withheld,
    )


def _bgm(
    agg: dict[str, Any], base: dict[str, Any], n: int, days: int, window_days: int, mean: float, cv: float | None
) -> GlucoseStats:
    withheld = [_withheld("gmi", "not_for_meter_data", Msg("GMI is estimated from CGM data only"))]
    enough = n >= BGM_MIN_READINGS
    if not enough:
        withheld.append(
            _withheld(
                "readings_in_ranges",
                "readings_below_minimum",
                Msg(
                    "{n} meter readings; % of readings in ranges, mean and CV need ≥ {minimum}",
                    n=n,
                    minimum=BGM_MIN_READINGS,
                ),
            )
        )
    return GlucoseStats(
        **base,
        variant="bgm",
        coverage_pct=round(min(100.0, 100.0 * days / window_days), 1),
        ranges_basis="readings",
        mean_mg_dl=round(mean, 1) if enough else None,
        cv_pct=round(cv, 1) if enough and cv is not None else None,
        gmi_pct=None,
        time_in_ranges=_ranges(agg, n) if enough else None,
        withheld=withheld,
    )
