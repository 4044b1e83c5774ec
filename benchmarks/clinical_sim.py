"""Simulated type-1 patients sampled as a home meter would be (for benchmarks.clinical_bench).

Glucose comes from the Bergman minimal model (Bergman et al., Am J Physiol 1979;236:E667) with
Hovorka's subcutaneous insulin and gut absorption compartments (Hovorka et al., Physiol Meas
2004;25:905), one-minute Euler steps, all patients at once (numpy). This is NOT the UVA/Padova
simulator the issue named. `simglucose` 0.2.11 was tried: it installs from PyPI (in a separate
virtualenv: it pins gym/pandas versions the project does not use) and runs here, but one
adult-day took ~60 s on this loaded 2-core machine, so 10 patients x 14 days (~2.5 h) did not fit
the session, and it is not wired into the benchmark. This simpler physiological model stands in:
- glucose: dG/dt = -(SG + X) G + SG Gb + Ra/VG + impaired counter-regulation below 50 mg/dL;
  dX/dt = -p2 X + p2 SI (I - Ib); VG 1.88 dL/kg (Dalla Man 2007), SG 0.01/min, p2 0.025/min;
- insulin: two subcutaneous compartments (tmax 55 min), plasma clearance 0.138/min, VI 0.12 L/kg
  (Hovorka 2004); basal rate holding Ib = 10 mU/L; bolus = carbs / ICR with carb-counting error
  (log-normal, sigma 0.3) and 5 % missed boluses; insulin sensitivity SI varying by patient
  (log-normal around 5.6e-4 /min per mU/L, the value that balances a 60 g meal with ICR 12.5 g/U)
  and by day (sigma 0.35: exercise, illness);
- meals: breakfast/lunch/dinner (40-80 g) with Ra = f D t / tau^2 exp(-t/tau), f 0.8, tau 40 min;
  a 15 g fast-carb treatment (tau 15 min) whenever the meter shows < 70 mg/dL (the "rule of 15");
- meter: 4 routine checks a day (before meals and at bedtime, 10 % skipped) plus symptomatic
  checks when true glucose is < 65 mg/dL (30 % chance per 10 minutes) and a recheck 15 minutes
  after each treatment; error N(0, 7.5 mg/dL) below 100 and N(0, 7.5 %) above, so 95 % of
  readings fall within the ISO 15197:2013 limits (+/-15 mg/dL < 100, +/-15 % >= 100);
  range 20-600 mg/dL with LO/HI beyond.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MINUTES_PER_DAY = 1440
BW_KG = 70.0
VG_DL = 1.88 * BW_KG  # glucose distribution volume (Dalla Man 2007)
VI_L = 0.12 * BW_KG  # insulin distribution volume (Hovorka 2004)
KE_PER_MIN = 0.138  # plasma insulin elimination (Hovorka 2004)
KA_PER_MIN = 1 / 55.0  # subcutaneous absorption (tmax 55 min)
SG_PER_MIN, P2_PER_MIN = 0.01, 0.025
IB_MU_L = 10.0
SI_MEAN = 5.6e-4
GB_MG_DL = 130.0
METER_LO, METER_HI = 20.0, 600.0
ROUTINE_CHECKS_MIN = (7 * 60 + 15, 12 * 60 + 15, 18 * 60 + 15, 22 * 60 + 30)
MEALS_MIN = (7 * 60 + 30, 12 * 60 + 30, 18 * 60 + 30)


@dataclass(frozen=True, slots=True)
class MeterReading:
    patient: int  # 0-based
    minute: int  # since the start of the simulation
    value_mg_dl: float  # as stored: the meter's limit for HI/LO
    comparator: str | None  # ">" HI, "<" LO
    true_mg_dl: float
    symptomatic: bool


def _ra(carbs_g: float, t_min: np.ndarray, tau: float) -> np.ndarray:
    """Glucose appearance (mg/min) of a meal t minutes after it, Hovorka's gut model."""
    t = np.maximum(t_min, 0.0)
    return 0.8 * carbs_g * 1000.0 * t / tau**2 * np.exp(-t / tau)


def simulate(patients: int, days: int, seed: int = 1) -> tuple[np.ndarray, list[MeterReading]]:
    """True glucose per minute (patients x minutes) and the meter readings taken."""
    rng = np.random.default_rng(seed)
    n_min = days * MINUTES_PER_DAY
    si_patient = SI_MEAN * rng.lognormal(0.0, 0.3, patients)
    icr = 12.5 * rng.lognormal(0.0, 0.15, patients)  # the patient's setting (a mismatch to their SI)
    basal_factor = rng.lognormal(0.0, 0.1, patients)
    u_basal = IB_MU_L * KE_PER_MIN * VI_L * basal_factor  # mU/min
    G = np.full(patients, GB_MG_DL)
    X = np.zeros(patients)
    S1 = u_basal / KA_PER_MIN
    S2 = S1.copy()
    ins = np.full(patients, IB_MU_L * basal_factor)
    horizon = n_min + MINUTES_PER_DAY
    ra_buf = np.zeros((patients, horizon))  # glucose appearance (mg/min) from meals and treatments
    window = np.arange(0, 320, dtype=float)
    boluses: dict[tuple[int, int], float] = {}
    for p in range(patients):
        for d in range(days):
            for m in MEALS_MIN:
                at, carbs = d * MINUTES_PER_DAY + m + int(rng.integers(-30, 31)), float(rng.uniform(40, 80))
                ra_buf[p, at : at + window.size] += _ra(carbs, window, 40.0)
                boluses[(p, at)] = carbs
    checks = [
        sorted(
            d * MINUTES_PER_DAY + c + int(rng.integers(-20, 21))
            for d in range(days)
            for c in ROUTINE_CHECKS_MIN
            if rng.random() > 0.1
        )
        for _ in range(patients)
    ]
    next_check = [0] * patients
    rechecks: list[set[int]] = [set() for _ in range(patients)]
    last_check = np.full(patients, -999)
    trace = np.empty((patients, n_min), dtype=np.float32)
    readings: list[MeterReading] = []
    si_day = si_patient * rng.lognormal(0.0, 0.35, (days, patients))
    for t in range(n_min):
        d = t // MINUTES_PER_DAY
        u = u_basal.copy()
        for p in range(patients):
            carbs = boluses.get((p, t))
            if carbs is not None and rng.random() > 0.05:
                u[p] += 1000.0 * carbs / icr[p] * rng.lognormal(0.0, 0.3)  # bolus in mU
        ra = ra_buf[:, t]
        counter = np.where(G < 50.0, 0.03 * (50.0 - G), 0.0)  # impaired glucagon/EGP rescue (T1D), mg/dL/min
        dG = -(SG_PER_MIN + X) * G + SG_PER_MIN * GB_MG_DL + ra / VG_DL + counter
        dX = -P2_PER_MIN * X + P2_PER_MIN * si_day[d] * (ins - IB_MU_L)
        dS1 = u - KA_PER_MIN * S1
        dS2 = KA_PER_MIN * (S1 - S2)
        dI = KA_PER_MIN * S2 / VI_L - KE_PER_MIN * ins
        G = np.clip(G + dG, 10.0, 700.0)
        X, S1, S2, ins = X + dX, S1 + dS1, S2 + dS2, ins + dI
        trace[:, t] = G
        for p in range(patients):
            routine = next_check[p] < len(checks[p]) and checks[p][next_check[p]] <= t
            if routine:
                next_check[p] += 1
            symptomatic = G[p] < 65.0 and t - last_check[p] >= 10 and rng.random() < 0.3 / 10
            if not (routine or symptomatic or t in rechecks[p]):
                continue
            last_check[p] = t
            err = rng.normal(0.0, 7.5) if G[p] < 100 else G[p] * rng.normal(0.0, 0.075)
            shown = float(G[p] + err)
            comparator = ">" if shown > METER_HI else "<" if shown < METER_LO else None
            value = METER_HI if comparator == ">" else METER_LO if comparator == "<" else round(shown)
            readings.append(MeterReading(p, t, value, comparator, float(G[p]), bool(symptomatic and not routine)))
            if shown < 70.0:  # treat with 15 g and recheck in 15 minutes
                ra_buf[p, t + 1 : t + 1 + 120] += _ra(15.0, np.arange(120, dtype=float), 15.0)
                rechecks[p].add(t + 15)
    return trace, readings
