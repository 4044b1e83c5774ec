"""Shipped program files, the funnel's transition rules, program weeks in local time and the KPI intervals."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from vitalgate.followup.config import default_followup
from vitalgate.programs.definitions import shipped_programs
from vitalgate.programs.enrolment import program_week
from vitalgate.programs.funnel import FunnelError, check_transition
from vitalgate.programs.stats import bootstrap_quantile, percentile, poisson_rate, welch_difference, wilson
from vitalgate.store.program_rows import FunnelStep as S


def test_shipped_programs_parse_and_name_existing_chains() -> None:
    programs = shipped_programs()
    assert {"hypertension-12w", "glucose-22w"} <= set(programs)
    for program in programs.values():
        program.check_chains(default_followup())
    htn = programs["hypertension-12w"]
    assert htn.modules_for("control", 1) == [] and len(htn.modules_for("experiment", 1)) == 1
    glucose = programs["glucose-22w"]
    assert glucose.modules_for("control", 1)[0].education and not glucose.arms["control"].checkins


def test_funnel_transitions() -> None:
    check_transition(None, S.INVITED, None)
    check_transition(S.ACTIVE, S.PAUSED, "travelling")
    check_transition(S.PAUSED, S.ACTIVE, None)
    for current, step, reason in [
        (None, S.ENROLLED, None),
        (S.INVITED, S.ENROLLED, None),
        (S.WITHDRAWN, S.ACTIVE, None),
        (S.DISCHARGED, S.ACTIVE, None),
        (S.ACTIVE, S.WITHDRAWN, None),
        (S.ACTIVE, S.WITHDRAWN, "  "),
    ]:
        with pytest.raises(FunnelError):
            check_transition(current, step, reason)


def test_program_week_counts_local_days() -> None:
    enrolled = datetime(2026, 3, 1, 15, 30, tzinfo=UTC)  # 23:30 in Shanghai, Sunday 1 March
    assert program_week(enrolled, datetime(2026, 3, 7, 15, 59, tzinfo=UTC), "Asia/Shanghai", 12) == 1
    # 16:00 UTC on 7 March is 00:00 on 8 March in Shanghai: local day 7, week 2 (in UTC still week 1)
    assert program_week(enrolled, datetime(2026, 3, 7, 16, 0, tzinfo=UTC), "Asia/Shanghai", 12) == 2
    assert program_week(enrolled, datetime(2026, 3, 7, 16, 0, tzinfo=UTC), "UTC", 12) == 1
    assert program_week(enrolled, datetime(2026, 2, 28, tzinfo=UTC), "UTC", 12) is None
    assert program_week(enrolled, datetime(2026, 6, 1, tzinfo=UTC), "UTC", 12) is None


def test_wilson_interval_matches_published_values() -> None:
    # Newcombe 1998, table I: 81/263 → 0.2553-0.3662; 0/10 → 0-0.2775; 5/10 → 0.2366-0.7634.
    e = wilson(81, 263)
    assert (round(e.low, 4), round(e.high, 4)) == (0.2553, 0.3662)
    assert round(wilson(0, 10).high, 4) == 0.2775 and wilson(0, 10).low == 0.0
    assert (round(wilson(5, 10).low, 4), round(wilson(5, 10).high, 4)) == (0.2366, 0.7634)
    assert wilson(0, 0).value is None


def test_quantiles_bootstrap_rates_and_differences() -> None:
    assert percentile([1, 2, 3, 4], 0.5) == 2.5 and percentile([5, 1, 10], 0.9) == pytest.approx(9.0)
    values = [float(v) for v in range(1, 101)]
    median = bootstrap_quantile(values, 0.5)
    assert median.value == 50.5 and median.low < 50.5 < median.high and median.method == "bootstrap"
    assert bootstrap_quantile(values, 0.5) == median  # fixed seed: reproducible
    rate = poisson_rate(100, 10_000, 1000)
    assert rate.value == pytest.approx(10.0) and rate.low == pytest.approx(10 - 1.96, abs=0.01)
    diff = welch_difference([10.0, 12.0, 14.0] * 10, [8.0, 10.0, 12.0] * 10)
    assert diff.value == pytest.approx(2.0) and diff.low < 2.0 < diff.high


def test_order_statistic_interval_agrees_with_the_bootstrap() -> None:
    from vitalgate.programs.stats import quantile_ci

    values = [float((i * 37) % 101) for i in range(400)]
    exact, boot = quantile_ci(values, 0.5), bootstrap_quantile(values, 0.5)
    assert exact.value == boot.value
    assert abs(exact.low - boot.low) <= 3 and abs(exact.high - boot.high) <= 3
    p90 = quantile_ci(values, 0.9)
    assert p90.low <= p90.value <= p90.high
    assert quantile_ci([5.0], 0.9).high is None  # one value cannot bound a p90
