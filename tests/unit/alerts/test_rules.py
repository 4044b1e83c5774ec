"""Pure rule evaluation: vectorised results against naive per-patient Python, config validation, segments."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from vitalgate.alerts.config import RuleError, apply_override, default_rules, parse_rules
from vitalgate.alerts.frame import DAY, KIND_CODES, ReadingFrame
from vitalgate.alerts.rules import AR2_COEFFICIENTS, PatientContext, ar2_forecast, evaluate_rule
from vitalgate.alerts.segments import SegmentError, matches
from vitalgate.alerts.selection import rule_groups

NOW = 1_800_000_000.0
RULES = default_rules()


def frame(rows, offset_s=0.0):
    """rows: (patient, t, kind, {field: value}, meal); every patient `offset_s` from UTC."""
    fields = ("glucose_mg_dl", "systolic_mmhg", "diastolic_mmhg", "map_mmhg", "pulse_bpm")
    return ReadingFrame.from_columns(
        [r[0] for r in rows],
        [r[1] for r in rows],
        [KIND_CODES[r[2]] for r in rows],
        {f: [r[3].get(f, math.nan) for r in rows] for f in fields},
        [r[4] for r in rows],
        [False] * len(rows),
        local_t=[r[1] + offset_s for r in rows],
    )


def run(rule_id, rows, patients, start=None, offset_s=0.0, **override):
    rule = RULES.by_id(rule_id)
    if override:
        rule = apply_override(rule, override)
    pats = np.array(sorted(patients), dtype=np.int64)
    starts = np.array([start if start is not None else NOW - 60 * DAY] * len(pats))
    ctx = PatientContext(pats, starts, np.full(len(pats), offset_s))
    return {f.patient_id: f for f in evaluate_rule(rule, frame(rows, offset_s), pats, NOW, ctx)}


def in_last_local_days(t, days, offset_s=0.0):
    """Whether t lies on one of the last `days` local dates up to NOW (today included)."""
    return (t + offset_s) // DAY >= (NOW + offset_s) // DAY - days + 1 and t <= NOW


def random_glucose(rng, patients, days=14, per_day=4):
    rows = []
    for p in patients:
        base = rng.uniform(90, 200)
        for k in range(days * per_day):
            t = NOW - days * DAY + k * DAY / per_day + rng.uniform(0, 3600)
            rows.append(
                (p, t, "glucose", {"glucose_mg_dl": float(max(35, rng.normal(base, rng.uniform(10, 70))))}, None)
            )
    return rows


def test_glucose_statistics_match_a_naive_per_patient_computation():
    rng = np.random.default_rng(7)
    patients = list(range(1, 41))
    rows = random_glucose(rng, patients)
    cv, tir, tbr = (run(r, rows, patients) for r in ("glucose-cv-high", "glucose-tir-low", "glucose-tbr-high"))
    for p in patients:
        v = np.array([r[3]["glucose_mg_dl"] for r in rows if r[0] == p and in_last_local_days(r[1], 14)])
        assert cv[p].value == pytest.approx(100 * v.std(ddof=1) / v.mean())
        assert tir[p].value == pytest.approx(100 * np.mean((v >= 70) & (v <= 180)))
        assert tbr[p].value == pytest.approx(100 * np.mean(v < 70))
        assert cv[p].active == (100 * v.std(ddof=1) / v.mean() > 36)
        assert tbr[p].active == (100 * np.mean(v < 70) > 4)


def test_home_bp_mean_excludes_day_one_and_slope_matches_polyfit():
    rng = np.random.default_rng(3)
    rows = []
    for p in range(1, 21):
        slope = rng.uniform(-3, 3)
        for day in range(14):
            for h in (0, 11):  # NOW is 08:00 UTC: readings at 08:00 and 19:00, local morning and evening
                t = NOW - 14 * DAY + day * DAY + h * 3600
                rows.append(
                    (
                        p,
                        t,
                        "blood_pressure",
                        {"systolic_mmhg": 128 + slope * day + rng.normal(0, 4), "diastolic_mmhg": 80.0},
                        None,
                    )
                )
    # 5 whole local dates after day 1 by 08:00 today: 10 readings (the rule asks 12 by tonight)
    means = run("bp-home-mean-stage2", rows, range(1, 21), min_readings=10)
    slopes = run("bp-systolic-rising", rows, range(1, 21))
    for p in range(1, 21):
        # day 1 of the 7 local dates is discarded
        kept = [r[3]["systolic_mmhg"] for r in rows if r[0] == p and in_last_local_days(r[1], 6)]
        assert means[p].value == pytest.approx(np.mean(kept))
        days = {}
        for r in rows:
            if r[0] == p and in_last_local_days(r[1], 14):
                days.setdefault(int(r[1] // DAY), []).append(r[3]["systolic_mmhg"])
        x = np.array(sorted(days))
        y = np.array([np.mean(days[d]) for d in x])
        assert slopes[p].value == pytest.approx(np.polyfit(x, y, 1)[0] * 7)
        assert slopes[p].active == (slopes[p].evidence["confidence_bound_95"] > 5)


def test_trends_need_enough_data_and_then_say_nothing():
    rows = [(1, NOW - k * 3600, "glucose", {"glucose_mg_dl": 40.0 + 100 * (k % 2)}, None) for k in range(10)]
    assert run("glucose-cv-high", rows, [1]) == {}  # 10 readings on one day: too little to judge


def test_threshold_band_and_any_conditions():
    rows = [
        (1, NOW - 60, "glucose", {"glucose_mg_dl": 48.0}, None),
        (2, NOW - 60, "glucose", {"glucose_mg_dl": 60.0}, None),
        (3, NOW - 60, "blood_pressure", {"systolic_mmhg": 150.0, "diastolic_mmhg": 125.0}, None),
        (4, NOW - 2 * DAY, "glucose", {"glucose_mg_dl": 45.0}, None),
    ]
    l2, l1 = run("glucose-level2-hypo", rows, [1, 2, 4]), run("glucose-level1-hypo", rows, [1, 2, 4])
    assert (l2[1].active, l2[2].active, l2[4].active) == (True, False, False)  # patient 4: outside the 24 h window
    assert (l1[1].active, l1[2].active) == (False, True)  # a band: 48 is level 2 only
    crisis = run("bp-hypertensive-crisis", rows, [3])
    assert crisis[3].active and crisis[3].evidence["readings"][0]["diastolic_mmhg"] == 125.0


def test_consecutive_counts_only_the_last_m_matching_meals():
    seq = [(190.0, "fasting"), (300.0, "postprandial"), (185.0, "fasting"), (120.0, "fasting"), (200.0, "fasting")]
    rows = [(1, NOW - (10 - k) * 3600, "glucose", {"glucose_mg_dl": v}, meal) for k, (v, meal) in enumerate(seq)]
    every = {"one_per_local_day": False}  # these readings are hours apart: count each one
    assert not run("glucose-fasting-high-3", rows, [1], **every)[1].active  # last 3 fasting: 185, 120, 200
    assert run("glucose-fasting-high-3", rows, [1], n=2, **every)[1].active
    rows.append((1, NOW - 60, "glucose", {"glucose_mg_dl": 181.0}, "fasting"))
    assert not run("glucose-fasting-high-3", rows, [1], **every)[1].active  # 120, 200, 181
    rows.append((1, NOW - 30, "glucose", {"glucose_mg_dl": 250.0}, "fasting"))
    assert run("glucose-fasting-high-3", rows, [1], **every)[1].active  # 200, 181, 250


SHANGHAI_S = 8 * 3600.0


def test_consecutive_fasting_counts_local_dates_in_shanghai():
    # NOW is 16:00 in Shanghai. Fasting checks at 07:30 local = 23:30 UTC the evening before.
    morning = NOW - 8.5 * 3600  # 07:30 Shanghai today
    rows = [
        (1, morning - 2 * DAY, "glucose", {"glucose_mg_dl": 190.0}, "fasting"),
        (1, morning - DAY, "glucose", {"glucose_mg_dl": 195.0}, "fasting"),
        (1, morning - DAY + 600, "glucose", {"glucose_mg_dl": 120.0}, "fasting"),  # re-check, same local day
        (1, morning, "glucose", {"glucose_mg_dl": 200.0}, "fasting"),
    ]
    # The day's last fasting value (120) stands for yesterday: not 3 high days.
    assert not run("glucose-fasting-high-3", rows, [1], offset_s=SHANGHAI_S)[1].active
    rows[2] = (1, morning - DAY + 600, "glucose", {"glucose_mg_dl": 186.0}, "fasting")
    found = run("glucose-fasting-high-3", rows, [1], offset_s=SHANGHAI_S)[1]
    assert found.active and [r["unit"] for r in found.evidence["readings"]] == ["mg/dL"] * 3


def test_home_bp_uses_local_morning_and_evening_and_local_dates():
    # Shanghai: 07:00 and 20:00 local are 23:00 and 12:00 UTC; the 03:00 local reading is neither.
    today = (NOW + SHANGHAI_S) // DAY * DAY - SHANGHAI_S  # local midnight today, as an instant
    rows = []
    for day in range(7):
        for local_h, sys in ((7, 140.0), (20, 140.0), (3, 90.0)):
            t = today - (6 - day) * DAY + local_h * 3600
            if t <= NOW:
                rows.append((1, t, "blood_pressure", {"systolic_mmhg": sys, "diastolic_mmhg": 85.0}, None))
    found = run("bp-home-mean-stage2", rows, [1], offset_s=SHANGHAI_S, min_readings=10)[1]
    assert found.value == pytest.approx(140.0) and found.active
    assert found.evidence["readings"] == 11  # 6 local dates after day 1, 2 a day, today's evening not yet
    everything = run("bp-home-mean-stage2", rows, [1], offset_s=SHANGHAI_S, min_readings=10, parts_of_day=None)
    assert not everything[1].active


def test_coverage_counts_local_dates():
    # 16 readings at 07:30 Shanghai on 16 consecutive local dates ending today: 16 reading days
    # locally, though in UTC two of them share the date of the day before.
    morning = NOW - 8.5 * 3600
    rows = [(1, morning - k * DAY, "glucose", {"glucose_mg_dl": 100.0}, None) for k in range(16)]
    coverage = run("coverage-below-16-of-30", rows, [1], offset_s=SHANGHAI_S)[1]
    assert not coverage.active
    assert run("coverage-below-16-of-30", rows[1:], [1], offset_s=SHANGHAI_S)[1].evidence["reading_days"] == 15


def test_ar2_recursion_is_nightscouts_and_the_forecast_needs_close_readings():
    # With readings exactly 5 minutes apart the adaptation is Nightscout's AR2 unchanged.
    prev, last = 120.0, 110.0
    y0, y1 = math.log(prev / 140), math.log(last / 140)
    y2 = AR2_COEFFICIENTS[0] * y0 + AR2_COEFFICIENTS[1] * y1
    assert ar2_forecast(np.array([prev]), np.array([last]), np.array([300.0]), 1)[0, 0] == pytest.approx(
        140 * math.exp(y2)
    )
    falling = [
        (1, NOW - 15 * 60, "glucose", {"glucose_mg_dl": 125.0}, None),
        (1, NOW - 5 * 60, "glucose", {"glucose_mg_dl": 88.0}, None),
    ]
    far = [
        (2, NOW - 3 * 3600, "glucose", {"glucose_mg_dl": 150.0}, None),
        (2, NOW - 5 * 60, "glucose", {"glucose_mg_dl": 80.0}, None),
    ]
    steady = [
        (3, NOW - 20 * 60, "glucose", {"glucose_mg_dl": 101.0}, None),
        (3, NOW - 5 * 60, "glucose", {"glucose_mg_dl": 99.0}, None),
    ]
    out = run("glucose-predicted-low", falling + far + steady, [1, 2, 3])
    assert out[1].active and out[1].value < 70
    assert not out[2].active  # 3 h apart: no rate to project, no alert
    assert not out[3].active


def test_missing_data_silence_and_coverage():
    rows = [
        (1, NOW - 4 * DAY, "glucose", {"glucose_mg_dl": 100.0}, None),
        (2, NOW - 2 * DAY, "glucose", {"glucose_mg_dl": 100.0}, None),
    ]
    silence = run("no-reading-3-days", rows, [1, 2, 3])
    assert silence[1].active and not silence[2].active and silence[3].active  # 3: bound 60 days ago, never read
    cover = [(1, NOW - d * DAY - 600, "glucose", {"glucose_mg_dl": 100.0}, None) for d in range(15)]
    cover += [(2, NOW - d * DAY - 600, "glucose", {"glucose_mg_dl": 100.0}, None) for d in range(16)]
    out = run("coverage-below-16-of-30", cover, [1, 2])
    assert out[1].active and out[1].value == 15 and not out[2].active
    assert run("coverage-below-16-of-30", cover, [1], start=NOW - 10 * DAY) == {}  # new patient: not judged yet


def test_shipped_rules_validate_and_cite_a_source():
    assert len(RULES.rules) >= 12
    assert {r.kind for r in RULES.rules} == {
        "threshold",
        "consecutive",
        "trend",
        "forecast",
        "missing_data",
        "questionnaire",
    }
    assert all(r.source for r in RULES.rules)


@pytest.mark.parametrize(
    "bad, message",
    [
        (
            '[[rules]]\nid="x"\nkind="threshold"\ntitle="t"\nseverity="urgent"\nmeasurement="glucose"\nconditions=[{field="glucose_mg_dl", op="<", value=3, unit="mm[Hg]"}]',
            "cannot be used",
        ),
        (
            '[[rules]]\nid="x"\nkind="consecutive"\ntitle="t"\nseverity="high"\nmeasurement="glucose"\ncondition={field="glucose_mg_dl", op=">", value=1, unit="mg/dL"}\nn=4\nm=3',
            "n must not exceed m",
        ),
        (
            '[[rules]]\nid="x"\nkind="forecast"\ntitle="t"\nseverity="high"\nbelow_mg_dl=70\nsegment="a and (b"',
            "missing ')'",
        ),
        ('[[rules]]\nid="x"\nkind="nope"\ntitle="t"\nseverity="high"', "kind"),
        ("rules = [", "TOML"),
    ],
)
def test_bad_rule_files_are_rejected_with_the_reason(bad, message):
    with pytest.raises(RuleError, match="(?i)" + re.escape(message)):
        parse_rules(bad)


def test_units_are_converted_to_stored_units():
    rs = parse_rules(
        '[[rules]]\nid="x"\nkind="threshold"\ntitle="t"\nseverity="urgent"\nmeasurement="glucose"\n'
        'conditions=[{field="glucose_mg_dl", op="<", value=3.0, unit="mmol/L"}]'
    )
    assert (
        rs.rules[0].conditions[0].value == pytest.approx(3.0 * 18.0156, abs=1e-3)
        and rs.rules[0].conditions[0].unit == "mg/dL"
    )


def test_segments():
    assert matches("diabetes:* and not risk:low", ["diabetes:t2", "risk:high"])
    assert not matches("diabetes:* and not risk:low", ["diabetes:t2", "risk:low"])
    assert matches("(htn or ckd) and lang:es", ["ckd", "lang:es"]) and not matches("htn or ckd", ["copd"])
    assert matches("*", []) and matches(None, [])
    for bad in ("", "a and", "(a", "a ) b", "a & b"):
        with pytest.raises(SegmentError):
            matches(bad, [])


def test_patient_override_beats_segment_override_and_can_disable():
    overrides = [
        {
            "id": 1,
            "rule_id": "glucose-level1-hypo",
            "patient_id": None,
            "segment": "risk:high",
            "enabled": True,
            "params": {"severity": "urgent"},
        },
        {
            "id": 2,
            "rule_id": "glucose-level1-hypo",
            "patient_id": 7,
            "segment": None,
            "enabled": True,
            "params": {"severity": "routine"},
        },
        {"id": 3, "rule_id": "glucose-level2-hyper", "patient_id": 8, "segment": None, "enabled": False, "params": {}},
        {
            "id": 4,
            "rule_id": "glucose-level2-hyper",
            "patient_id": 9,
            "segment": None,
            "enabled": True,
            "params": {"conditions": "not a list"},
        },  # broken: logged, the shipped rule stays in force
    ]
    groups = rule_groups(RULES, {6: ["risk:high"], 7: ["risk:high"], 8: [], 9: []}, overrides)
    sev = {int(p): r.severity for r, ps in groups if r.id == "glucose-level1-hypo" for p in ps}
    assert sev == {6: "urgent", 7: "routine", 8: "high", 9: "high"}
    hyper = sorted(int(p) for r, ps in groups if r.id == "glucose-level2-hyper" for p in ps)
    assert hyper == [6, 7, 9]


def test_inactive_findings_only_for_watched_patients():
    rows = [
        (1, NOW - 60, "glucose", {"glucose_mg_dl": 48.0}, None),
        (2, NOW - 60, "glucose", {"glucose_mg_dl": 120.0}, None),
        (3, NOW - 60, "glucose", {"glucose_mg_dl": 110.0}, None),
    ]
    pats = np.array([1, 2, 3])
    ctx = PatientContext(pats, np.full(3, NOW - 60 * DAY))
    out = evaluate_rule(RULES.by_id("glucose-level2-hypo"), frame(rows), pats, NOW, ctx, np.array([False, False, True]))
    assert sorted((f.patient_id, f.active) for f in out) == [(1, True), (3, False)]


def test_tbr_is_slot_weighted_so_symptomatic_rechecks_do_not_raise_it():
    """Issue 12: a TBR rule counting readings fired for patients whose true time below 70 was ~2 %."""
    rows = []
    for d in range(14):
        day0 = NOW - (14 - d) * DAY - (NOW % DAY)  # local midnight (UTC patients)
        for h in (3, 8, 13, 19):  # one routine check in each 6-hour slot
            rows.append((1, day0 + h * 3600, "glucose", {"glucose_mg_dl": 120.0}, None))
        if d in (3, 9):  # a low at lunch, and two rechecks while treating it
            for m, v in ((20, 62.0), (35, 60.0), (50, 66.0)):
                rows.append((1, day0 + 12 * 3600 + m * 60, "glucose", {"glucose_mg_dl": v}, None))
    tbr = run("glucose-tbr-high", rows, [1])[1]
    # The window is the last 14 local dates (today, without readings yet, included): days 1-13.
    assert 100 * 6 / (13 * 4 + 6) > 4  # counting readings: 10.3 %, a task
    assert tbr.value == pytest.approx(100 * 2 * 0.75 / (13 * 4)) and not tbr.active  # 2.9 % of slot-days


def test_cv_is_the_sample_sd_the_patient_page_uses():
    rows = [
        (1, NOW - DAY * d - 3600 * h, "glucose", {"glucose_mg_dl": 80.0 + 40 * (h % 2)}, None)
        for d in range(12)
        for h in range(2)
    ]
    v = np.array([r[3]["glucose_mg_dl"] for r in rows if in_last_local_days(r[1], 14)])
    cv = run("glucose-cv-high", rows, [1])[1]
    assert cv.value == pytest.approx(100 * v.std(ddof=1) / v.mean())


def _home_bp(rng, patients, slope_per_day, sd=7.8, days=14):
    """Morning and evening systolic over `days` days: a trend plus the published day-to-day scatter."""
    rows = []
    for p in patients:
        for day in range(14 - days, 14):
            for h in (0, 11):
                t = NOW - 14 * DAY + day * DAY + h * 3600
                bp = {"systolic_mmhg": 135 + slope_per_day * day + rng.normal(0, sd), "diastolic_mmhg": 85.0}
                rows.append((p, t, "blood_pressure", bp, None))
    return rows


def test_systolic_rising_needs_the_slope_bound_not_the_estimate_above_the_limit():
    rng = np.random.default_rng(11)
    stable = list(range(1, 201))
    # 7 reading days, the fewest the rule judges: the estimate scatters most there
    found = run("bp-systolic-rising", _home_bp(rng, stable, 0.0, days=8), stable)
    estimate_above = sum(f.value > 5 for f in found.values())
    fired = sum(f.active for f in found.values())
    # before: the rule judged the estimate, and scatter alone put it above 5 mmHg/week this often
    assert estimate_above >= 10
    assert fired <= 0.05 * len(stable)  # one-sided 95 %: at most ~5 % of stable patients, by design
    for f in found.values():
        assert f.active == (f.evidence["confidence_bound_95"] > 5)
        assert f.evidence["confidence_bound_95"] < f.value
    rising = list(range(301, 321))
    steep = run("bp-systolic-rising", _home_bp(rng, rising, 3.0), rising)  # 21 mmHg/week
    assert all(f.active for f in steep.values())


def test_slope_bound_matches_the_textbook_standard_error():
    rng = np.random.default_rng(5)
    rows = _home_bp(rng, [1], 0.5)
    f = run("bp-systolic-rising", rows, [1])[1]
    days: dict[int, list[float]] = {}
    for r in rows:
        if in_last_local_days(r[1], 14):
            days.setdefault(int(r[1] // DAY), []).append(r[3]["systolic_mmhg"])
    x = np.array(sorted(days), dtype=float)
    y = np.array([np.mean(days[d]) for d in sorted(days)])
    b, a = np.polyfit(x, y, 1)
    se = math.sqrt(np.sum((y - a - b * x) ** 2) / (len(x) - 2) / np.sum((x - x.mean()) ** 2))
    t95 = {11: 1.796, 12: 1.782, 13: 1.771, 14: 1.761}[len(x) - 2]
    assert f.value == pytest.approx(7 * b)
    assert f.evidence["confidence_bound_95"] == pytest.approx(7 * (b - t95 * se), abs=1e-3)


def test_no_reading_rule_with_no_readings_at_all_counts_from_monitoring_start():
    # before: IndexError on an empty frame (a scheduler pass over patients who never read crashed)
    found = run("no-reading-3-days", [], [1, 2], start=NOW - 10 * DAY)
    assert set(found) == {1, 2} and all(f.active for f in found.values())
    recent = run("no-reading-3-days", [], [1], start=NOW - 1 * DAY)
    assert not any(f.active for f in recent.values())
