"""Baseline balance between arms: means or proportions by arm and the standardized mean difference (pure).

SMD (Austin 2009): continuous (m1 - m0) / sqrt((s1² + s0²) / 2) with sample SDs; a category
level (p1 - p0) / sqrt((p1(1-p1) + p0(1-p0)) / 2). |SMD| < 0.1 is the usual balance target.
Missing values are left out of a continuous covariate's mean (their count is shown).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from statistics import fmean, stdev
from typing import Any

from vitalgate.programs.definitions import CovariateSpec

SMD_TARGET = 0.1


@dataclass(frozen=True, slots=True)
class BalanceRow:
    """One line of the balance table: a continuous covariate, or one level of a categorical one."""

    covariate: str
    level: str | None  # None for a continuous covariate
    unit: str | None
    by_arm: dict[str, float | None]  # mean (continuous) or proportion (a level)
    n_by_arm: dict[str, int]  # patients with a value
    smd: float | None  # first arm vs second arm

    @property
    def balanced(self) -> bool:
        return self.smd is None or abs(self.smd) < SMD_TARGET


def _smd_continuous(a: Sequence[float], b: Sequence[float]) -> float | None:
    if len(a) < 2 or len(b) < 2:
        return None
    pooled = math.sqrt((stdev(a) ** 2 + stdev(b) ** 2) / 2)
    return _ratio(fmean(a) - fmean(b), pooled)


def _smd_proportion(p1: float, p0: float) -> float:
    pooled = math.sqrt((p1 * (1 - p1) + p0 * (1 - p0)) / 2)
    return _ratio(p1 - p0, pooled)


def _ratio(difference: float, pooled: float) -> float:
    # No spread at all: equal groups are balanced, different ones are completely separated (infinite SMD).
    if pooled == 0:
        return 0.0 if difference == 0 else math.copysign(math.inf, difference)
    return difference / pooled


def balance_table(
    rows: Sequence[tuple[str, Mapping[str, Any]]], specs: Sequence[CovariateSpec], arms: Sequence[str]
) -> list[BalanceRow]:
    """Rows of (arm, covariates) → one BalanceRow per continuous covariate and per categorical level."""
    if len(arms) < 2:
        raise ValueError("a balance table compares at least two arms")
    first, second = arms[0], arms[1]
    by_arm = {arm: [cov for a, cov in rows if a == arm] for arm in arms}
    table: list[BalanceRow] = []
    for spec in specs:
        if spec.kind == "continuous":
            values = {arm: [float(c[spec.name]) for c in by_arm[arm] if c.get(spec.name) is not None] for arm in arms}
            table.append(
                BalanceRow(
                    spec.name,
                    None,
                    spec.unit,
                    {arm: (fmean(v) if v else None) for arm, v in values.items()},
                    {arm: len(v) for arm, v in values.items()},
                    _smd_continuous(values[first], values[second]),
                )
            )
            continue
        levels = sorted({str(c.get(spec.name) if c.get(spec.name) is not None else "missing") for _, c in rows})
        for level in levels:
            props: dict[str, float | None] = {}
            for arm in arms:
                group = by_arm[arm]
                hits = sum(
                    1 for c in group if str(c.get(spec.name) if c.get(spec.name) is not None else "missing") == level
                )
                props[arm] = hits / len(group) if group else None
            p1, p0 = props[first], props[second]
            table.append(
                BalanceRow(
                    spec.name,
                    level,
                    None,
                    props,
                    {arm: len(by_arm[arm]) for arm in arms},
                    None if p1 is None or p0 is None else _smd_proportion(p1, p0),
                )
            )
    return table
