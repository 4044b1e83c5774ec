"""The home-BP generator has the published day-to-day variability and some crisis readings (benchmarks/clinical_bp.py)."""

from __future__ import annotations

import numpy as np

from benchmarks.clinical_bp import simulate_bp


def test_day_to_day_sd_morning_evening_and_crisis() -> None:
    readings = simulate_bp(200, 14, seed=3)
    calm = [r for r in readings if not r.crisis_spell]
    sds_s, sds_d, diff = [], [], []
    for p in {r.patient for r in calm}:
        mine = [r for r in calm if r.patient == p and r.session == "morning"]
        sds_s.append(np.std([r.systolic_mmhg for r in mine], ddof=1))
        sds_d.append(np.std([r.diastolic_mmhg for r in mine], ddof=1))
        eve = [r.systolic_mmhg for r in calm if r.patient == p and r.session == "evening"]
        diff.append(np.mean([r.systolic_mmhg for r in mine]) - np.mean(eve))
    assert 7.0 <= np.mean(sds_s) <= 9.0  # Ohasama / IDHOCO: home systolic SD ~7-9 mmHg
    assert 4.5 <= np.mean(sds_d) <= 6.5  # diastolic ~5-6 mmHg
    assert 4.0 <= np.mean(diff) <= 8.0  # morning above evening
    assert sum(r.level2 for r in readings) > 0
    assert all(r.crisis_spell for r in readings if r.systolic_mmhg > 200)
