"""Simulated home blood pressure of treated hypertensive patients (for benchmarks.clinical_bench).

Each patient measures at home in the morning (06:30-08:00 local, before medication) and in the
evening (20:00-22:00), one reading per session, 5 % of sessions skipped. A reading is

    patient mean + morning/evening offset + day effect (shared by the day's two sessions) + reading noise

with the components sized so that the within-patient day-to-day SD of single home readings matches
published home-BP variability:
- day-to-day SD of home systolic about 7-9 mmHg and of diastolic about 5-6 mmHg: Kikuya M et al.,
  "Day-by-day variability of blood pressure and heart rate at home as a novel predictor of
  prognosis: the Ohasama study", Hypertension 2008;52:1045-1050; Juhanoja EP et al. (IDHOCO,
  Stergiou GS, Niiranen TJ et al.), "Outcome-driven thresholds for increased home blood pressure
  variability", Hypertension 2017;69:599-607. Here: systolic sqrt(5^2 + 6^2) = 7.8 mmHg,
  diastolic sqrt(3^2 + 4.5^2) = 5.4 mmHg.
- morning readings higher than evening ones by a few mmHg in treated patients (Ohasama home-BP
  measurements, Imai Y et al., J Hypertens 1990s; J-HOP, Kario K et al.): +4 / +2 mmHg morning,
  -2 / -1 mmHg evening here.
- patient means: treated, not all controlled — home systolic N(142, 10), diastolic N(86, 6) mmHg
  (home hypertension threshold 135/85, 2017 ACC/AHA Table 11).
- crisis: about one patient in eight (at least one) has one 2-3 day spell (missed medication,
  NSAIDs, ...) of +40 / +22 mmHg over their mean, so some readings exceed the 2017 ACC/AHA
  crisis limits (> 180 systolic and/or > 120 diastolic): level 2 here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from benchmarks.clinical_sim import MINUTES_PER_DAY

SBP_DAY_SD, SBP_READING_SD = 5.0, 6.0  # mmHg: day-to-day SD of a single reading sqrt(25 + 36) = 7.8
DBP_DAY_SD, DBP_READING_SD = 3.0, 4.5  # mmHg: sqrt(9 + 20.25) = 5.4
SESSIONS = (("morning", 6 * 60 + 30, 90, 4.0, 2.0), ("evening", 20 * 60, 120, -2.0, -1.0))  # start, spread, offsets
CRISIS_SBP, CRISIS_DBP = 40.0, 22.0  # mmHg over the patient's mean during a crisis spell
CRISIS_SHARE = 1 / 8
HOME_BP_HIGH = (135, 85)  # home hypertension threshold (2017 ACC/AHA Table 11): the naive alarm's limit


@dataclass(frozen=True, slots=True)
class BpReading:
    patient: int  # 0-based among the BP patients
    minute: int  # since the start of the simulation
    systolic_mmhg: int
    diastolic_mmhg: int
    pulse_bpm: int
    session: str  # "morning" | "evening"
    crisis_spell: bool

    @property
    def level2(self) -> bool:
        """Hypertensive crisis values (2017 ACC/AHA): > 180 systolic and/or > 120 diastolic."""
        return self.systolic_mmhg > 180 or self.diastolic_mmhg > 120


def simulate_bp(patients: int, days: int, seed: int = 1) -> list[BpReading]:
    """Morning and evening home readings of `patients` treated hypertensive patients over `days` days."""
    rng = np.random.default_rng(seed + 1000)
    sbp_mean = rng.normal(142.0, 10.0, patients)
    dbp_mean = rng.normal(86.0, 6.0, patients)
    pulse_mean = rng.normal(72.0, 8.0, patients)
    n_crisis = max(1, round(patients * CRISIS_SHARE)) if patients else 0
    crisis_days: dict[int, set[int]] = {}
    for p in rng.choice(patients, size=n_crisis, replace=False) if patients else []:
        first = int(rng.integers(2, max(3, days - 3)))
        crisis_days[int(p)] = set(range(first, min(days, first + int(rng.integers(2, 4)))))
    out: list[BpReading] = []
    for p in range(patients):
        for d in range(days):
            day_s, day_d = rng.normal(0.0, SBP_DAY_SD), rng.normal(0.0, DBP_DAY_SD)
            spell = d in crisis_days.get(p, ())
            for name, start, spread, off_s, off_d in SESSIONS:
                if rng.random() < 0.05:
                    continue
                sbp = sbp_mean[p] + off_s + day_s + rng.normal(0.0, SBP_READING_SD) + (CRISIS_SBP if spell else 0.0)
                dbp = dbp_mean[p] + off_d + day_d + rng.normal(0.0, DBP_READING_SD) + (CRISIS_DBP if spell else 0.0)
                minute = d * MINUTES_PER_DAY + start + int(rng.integers(0, spread))
                pulse = round(pulse_mean[p] + rng.normal(0.0, 5.0))
                out.append(BpReading(p, minute, round(sbp), round(dbp), pulse, name, spell))
    return out
