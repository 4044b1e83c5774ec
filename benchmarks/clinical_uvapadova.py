"""Type-1 patients from the UVA/Padova simulator (`simglucose`), sampled as a home meter would be.

The glucose-insulin model and the 30 virtual patients (10 adolescents, 10 adults, 10 children,
parameters `vpatient_params.csv`, therapy settings `Quest.csv`) are simglucose's implementation of
the UVA/Padova 2008 simulator (Dalla Man et al., J Diabetes Sci Technol 2014;8:26; simglucose,
Jinyu Xie, MIT licence, https://github.com/jxx123/simglucose). simglucose is an optional extra:
`pip install -e '.[sim]'`.

Therapy is simglucose's basal-bolus controller (BBController): basal u2ss * BW / 6000 U/min, meal
bolus carbs / CR + (BG > 150) * (BG - 140) / CF, with the BG the patient's last meter reading
within 30 minutes (no correction without one). Around it, what a real home day adds:
- meals: breakfast, lunch, dinner at +/-30 min, 40-80 g, one 15-30 g snack on 40 % of afternoons
  (half of them without a bolus); carb counting error log-normal (sigma 0.3, median 10 % under:
  adults with type 1 underestimate more often than they overestimate, Brazeau et al., Diabetes Res
  Clin Pract 2013;99:19); missed meal boluses 15 % for adolescents, 8 % children, 5 % adults
  (adolescents miss the most, Burdick et al., Pediatrics 2004;113:e221); a quarter of boluses
  given 15-30 minutes after the meal starts;
- day-to-day insulin sensitivity: the delivered insulin is scaled by a per-day log-normal factor
  (sigma 0.25: exercise, illness, site changes), which is how sensitivity acts in this model;
- a 15 g fast-carb treatment whenever the meter shows < 70 mg/dL, with a recheck 15 minutes later;
- meter: 4 routine checks a day (before meals and at bedtime, 10 % skipped) plus symptomatic
  checks when true glucose is < 65 mg/dL (30 % chance per 10 minutes); error as in
  benchmarks/clinical_sim.py (95 % within ISO 15197:2013 +/-15 mg/dL below 100, +/-15 % above);
  range 20-600 mg/dL with LO/HI beyond.

Speed: simglucose reads its parameters from a pandas Series inside the ODE right-hand side; the
same numbers as plain floats give identical trajectories ~14x faster (about 2 s per patient-day
here). Results are cached outside the repository, keyed on MODEL_VERSION and the arguments.
"""

from __future__ import annotations

import hashlib
import pickle
import types
from pathlib import Path

import numpy as np

from benchmarks.clinical_sim import MEALS_MIN, METER_HI, METER_LO, MINUTES_PER_DAY, ROUTINE_CHECKS_MIN, MeterReading

CACHE = Path.home() / ".cache" / "vitalgate" / "clinical_uvapadova"
# Part of the cache key: change it whenever the simulation below changes what it produces.
MODEL_VERSION = "2026-11-30.1"
TARGET_MG_DL, CORRECT_ABOVE_MG_DL = 140.0, 150.0  # simglucose BBController


def _virtual_patients() -> list[str]:
    groups = ("adolescent", "adult", "child")
    return [f"{g}#{i:03d}" for i in range(1, 11) for g in groups]


def _load(name: str):  # type: ignore[no-untyped-def]
    try:
        import pandas as pd
        from simglucose.controller import basal_bolus_ctrller
        from simglucose.patient.t1dpatient import T1DPatient
    except ImportError as exc:  # pragma: no cover - depends on the optional extra
        raise SystemExit("the UVA/Padova population needs simglucose: pip install -e '.[sim]'") from exc
    patient = T1DPatient.withName(name)
    quest = pd.read_csv(basal_bolus_ctrller.CONTROL_QUEST)
    row = quest[quest.Name == name].iloc[0]
    floats = {k: (v if isinstance(v, str) else float(v)) for k, v in patient._params.items()}
    patient._params = types.SimpleNamespace(**floats)  # identical model, no pandas in the ODE
    return patient, float(row.CR), float(row.CF)


def _simulate_one(index: int, name: str, days: int, rng: np.random.Generator) -> tuple[np.ndarray, list[MeterReading]]:
    from simglucose.patient.t1dpatient import Action

    patient, cr, cf = _load(name)
    params = patient._params
    basal = params.u2ss * params.BW / 6000.0  # U/min
    n_min = days * MINUTES_PER_DAY
    missed = {"adolescent": 0.15, "child": 0.08, "adult": 0.05}[name.split("#")[0]]
    meals: dict[int, float] = {}
    boluses: dict[int, float] = {}  # minute -> carbs the patient doses for
    for d in range(days):
        for m in MEALS_MIN:
            at, carbs = d * MINUTES_PER_DAY + m + int(rng.integers(-30, 31)), float(rng.uniform(40, 80))
            meals[at] = carbs
            if rng.random() > missed:
                late = int(rng.integers(15, 31)) if rng.random() < 0.25 else 0
                boluses[at + late] = carbs * rng.lognormal(-0.1, 0.3)
        if rng.random() < 0.4:
            at, carbs = d * MINUTES_PER_DAY + 15 * 60 + int(rng.integers(0, 90)), float(rng.uniform(15, 30))
            meals[at] = carbs
            if rng.random() < 0.5:
                boluses[at] = carbs * rng.lognormal(-0.1, 0.3)
    checks = sorted(
        d * MINUTES_PER_DAY + c + int(rng.integers(-20, 21))
        for d in range(days)
        for c in ROUTINE_CHECKS_MIN
        if rng.random() > 0.1
    )
    day_factor = rng.lognormal(0.0, 0.25, days)
    trace = np.empty(n_min, dtype=np.float32)
    readings: list[MeterReading] = []
    rechecks: set[int] = set()
    next_check, last_check, last_shown, last_shown_at = 0, -999, None, -999
    for t in range(n_min):
        glucose = float(patient.state[3] / params.Vg)  # plasma glucose, what a meter measures
        trace[t] = glucose
        routine = next_check < len(checks) and checks[next_check] <= t
        if routine:
            next_check += 1
        symptomatic = glucose < 65.0 and t - last_check >= 10 and rng.random() < 0.3 / 10
        carbs = 0.0
        if routine or symptomatic or t in rechecks:
            last_check = t
            err = rng.normal(0.0, 7.5) if glucose < 100 else glucose * rng.normal(0.0, 0.075)
            shown = glucose + err
            comparator = ">" if shown > METER_HI else "<" if shown < METER_LO else None
            value = METER_HI if comparator == ">" else METER_LO if comparator == "<" else round(shown)
            readings.append(MeterReading(index, t, value, comparator, glucose, bool(symptomatic and not routine)))
            last_shown, last_shown_at = shown, t
            if shown < 70.0:  # the "rule of 15": treat and recheck
                carbs += 15.0
                rechecks.add(t + 15)
        insulin = basal
        carbs += meals.get(t, 0.0)
        dosed_for = boluses.get(t)
        if dosed_for is not None:
            bolus = dosed_for / cr
            if last_shown is not None and t - last_shown_at <= 45 and last_shown > CORRECT_ABOVE_MG_DL:
                bolus += (last_shown - TARGET_MG_DL) / cf
            insulin += max(bolus, 0.0)  # U delivered within this one-minute step
        patient.step(Action(CHO=carbs, insulin=insulin * day_factor[t // MINUTES_PER_DAY]))
    return trace, readings


def simulate(patients: int, days: int, seed: int = 1) -> tuple[np.ndarray, list[MeterReading]]:
    """True plasma glucose per minute (patients x minutes) and the meter readings, cached."""
    key = hashlib.sha256(f"{MODEL_VERSION}:{patients}:{days}:{seed}".encode()).hexdigest()[:16]
    cached = CACHE / f"{key}.pkl"
    if cached.exists():
        with cached.open("rb") as fh:
            return pickle.load(fh)
    names = _virtual_patients()
    traces, readings = [], []
    for p in range(patients):
        rng = np.random.default_rng([seed, p])
        trace, found = _simulate_one(p, names[p % len(names)], days, rng)
        traces.append(trace)
        readings.extend(found)
    result = (np.vstack(traces), sorted(readings, key=lambda r: (r.minute, r.patient)))
    CACHE.mkdir(parents=True, exist_ok=True)
    with cached.open("wb") as fh:
        pickle.dump(result, fh)
    return result
