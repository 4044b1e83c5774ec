"""Intervals for the KPIs (pure): Wilson for proportions, bootstrap for medians and p90, Welch for differences.

- Proportion: Wilson score interval (Wilson 1927), good at small n and near 0 or 1.
- Median / p90 of a duration: distribution-free order-statistic interval (the ranks n·q ± 1.96·√(n·q(1−q)),
  the binomial normal approximation; Conover 1999 §3.2), O(n log n) so the dashboard stays fast;
  `bootstrap_quantile` (percentile bootstrap, fixed seed) is kept for checking it on small samples.
- Rate per 1,000 patient-days: Poisson, normal approximation on the count (exact enough above ~20 events).
- Difference of two means (arm vs arm): Welch's normal interval, mean ± 1.96·SE.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import fmean, stdev

Z95 = 1.959963984540054
BOOTSTRAP_RESAMPLES = 2000
BOOTSTRAP_SEED = 17


@dataclass(frozen=True, slots=True)
class Estimate:
    """A KPI value with its 95 % interval, the count it rests on and how the interval was computed."""

    value: float | None
    low: float | None
    high: float | None
    n: int
    method: str
    numerator: int | None = None

    def fmt(self, digits: int = 1, scale: float = 1.0, unit: str = "") -> str:
        if self.value is None:
            return f"— (n={self.n})"
        lo = "?" if self.low is None else f"{self.low * scale:.{digits}f}"
        hi = "?" if self.high is None else f"{self.high * scale:.{digits}f}"
        return f"{self.value * scale:.{digits}f}{unit} [{lo}, {hi}] (n={self.n})"


def wilson(successes: int, n: int) -> Estimate:
    if n == 0:
        return Estimate(None, None, None, 0, "wilson", successes)
    p = successes / n
    denom = 1 + Z95**2 / n
    centre = (p + Z95**2 / (2 * n)) / denom
    half = Z95 * math.sqrt(p * (1 - p) / n + Z95**2 / (4 * n * n)) / denom
    return Estimate(p, max(0.0, centre - half), min(1.0, centre + half), n, "wilson", successes)


def percentile(values: Sequence[float], q: float) -> float:
    """The q-quantile (0..1) by linear interpolation between order statistics (numpy's default)."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    pos = q * (len(ordered) - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def bootstrap_quantile(values: Sequence[float], q: float, *, resamples: int = BOOTSTRAP_RESAMPLES) -> Estimate:
    if not values:
        return Estimate(None, None, None, 0, "bootstrap")
    rng = random.Random(BOOTSTRAP_SEED)
    n = len(values)
    stats = sorted(percentile(rng.choices(values, k=n), q) for _ in range(resamples))
    return Estimate(
        percentile(values, q), stats[int(0.025 * resamples)], stats[int(0.975 * resamples) - 1], n, "bootstrap"
    )


def quantile_ci(values: Sequence[float], q: float) -> Estimate:
    """The q-quantile with a distribution-free 95 % interval from order statistics."""
    if not values:
        return Estimate(None, None, None, 0, "order-statistic")
    ordered = sorted(values)
    n = len(ordered)
    half = Z95 * math.sqrt(n * q * (1 - q))
    lo_rank, hi_rank = math.floor(n * q - half), math.ceil(n * q + half)
    low = ordered[lo_rank - 1] if lo_rank >= 1 else None  # too few values for a bound on that side
    high = ordered[hi_rank - 1] if hi_rank <= n else None
    return Estimate(percentile(ordered, q), low, high, n, "order-statistic")


def poisson_rate(events: int, exposure: float, per: float) -> Estimate:
    """Events per `per` units of exposure (e.g. per 1,000 patient-days)."""
    if exposure <= 0:
        return Estimate(None, None, None, events, "poisson")
    rate = events / exposure * per
    half = Z95 * math.sqrt(events) / exposure * per
    return Estimate(rate, max(0.0, rate - half), rate + half, events, "poisson")


def mean_ci(values: Sequence[float]) -> Estimate:
    if not values:
        return Estimate(None, None, None, 0, "normal")
    m = fmean(values)
    if len(values) < 2:
        return Estimate(m, None, None, len(values), "normal")
    half = Z95 * stdev(values) / math.sqrt(len(values))
    return Estimate(m, m - half, m + half, len(values), "normal")


def welch_difference(a: Sequence[float], b: Sequence[float]) -> Estimate:
    """mean(a) - mean(b) with Welch's standard error."""
    if len(a) < 2 or len(b) < 2:
        diff = fmean(a) - fmean(b) if a and b else None
        return Estimate(diff, None, None, len(a) + len(b), "welch")
    diff = fmean(a) - fmean(b)
    se = math.sqrt(stdev(a) ** 2 / len(a) + stdev(b) ** 2 / len(b))
    return Estimate(diff, diff - Z95 * se, diff + Z95 * se, len(a) + len(b), "welch")
