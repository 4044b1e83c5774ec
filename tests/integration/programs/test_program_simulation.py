"""A simulated program (patients answering touchpoints with probability 0.7) gives the KPIs computed by hand.

The hand computation reads only the simulation's own log (SimLog), never the database; the
report reads only the database. 120 patients run by default; the 1,000-patient run is `slow`.
"""

from __future__ import annotations

import statistics
from datetime import timedelta
from itertools import pairwise

import pytest

from tests.support.clinic import sim_start
from tests.support.program_sim import SimLog, local_days, simulate
from vitalgate.core.localtime import local_date
from vitalgate.programs import report
from vitalgate.programs.balance import SMD_TARGET
from vitalgate.programs.definitions import shipped_programs
from vitalgate.store import program_days, program_kpis
from vitalgate.store.db import connect

P_ANSWER = 0.7


def _kpi(rep: report.ProgramReport, name_start: str, group: str = "all"):
    found = [k for k in rep.kpis + rep.outcomes if k.label.startswith(name_start) and k.group == group]
    assert len(found) == 1, (name_start, group, [k.label for k in rep.kpis])
    return found[0].estimate


def _step_at(steps: list[tuple[str, object]], at) -> str | None:
    current = None
    for step, when in steps:
        if when <= at:
            current = step
    return current


def _check(rep: report.ProgramReport, log: SimLog) -> None:
    enrolled = {p for p, steps in log.steps.items() if any(s == "enrolled" for s, _ in steps)}
    assert rep.cohort_size == len(enrolled)
    # Enrolment rate: enrolled / invited.
    rate = next(f for f in rep.funnel_by_channel if f.group == "all").enrolment_rate
    assert (rate.numerator, rate.n) == (len(enrolled), len(log.invited))
    for channel in ("sms", "phone", "app"):
        invited = [p for p, (_, c, _) in log.invited.items() if c == channel]
        fig = next(f for f in rep.funnel_by_channel if f.group == channel)
        assert (fig.enrolment_rate.numerator, fig.invited) == (len(set(invited) & enrolled), len(invited))
    # Follow-up acceptance: answered / sent patient touchpoints.
    e = _kpi(rep, "follow-up acceptance")
    assert (e.numerator, e.n) == (sum(a for _, _, a in log.touch), len(log.touch))
    assert abs(e.value - P_ANSWER) < 0.1  # the stated answer probability, within sampling error
    for arm in ("experiment", "control"):
        touch = [t for t in log.touch if log.arm[t[0]] == arm]
        e = _kpi(rep, "follow-up acceptance", f"arm={arm}")
        assert (e.numerator, e.n) == (sum(a for _, _, a in touch), len(touch))
    # Reach rate and urgent contact times (median and p90, linear interpolation), SLA 30 min.
    e = _kpi(rep, "reach rate")
    assert (e.numerator, e.n) == (sum(r for _, _, r in log.contacts), len(log.contacts))
    waits = [(c - a).total_seconds() / 60 for _, a, c in log.urgent if c is not None]
    assert _kpi(rep, "urgent: time to first human contact, median").value == pytest.approx(statistics.median(waits))
    p90 = statistics.quantiles(waits, n=10, method="inclusive")[8]
    assert _kpi(rep, "urgent: time to first human contact, p90").value == pytest.approx(p90)
    due = [(a, c) for _, a, c in log.urgent if a + timedelta(minutes=30) <= log.end]
    met = sum(1 for a, c in due if c is not None and c - a <= timedelta(minutes=30))
    e = _kpi(rep, "SLA compliance")
    assert (e.numerator, e.n) == (met, len(due))
    # Reading-day adherence among patients active at the end: ≥ 16 of the last 30 local days.
    active = [p for p in enrolled if _step_at(log.steps[p], log.end - timedelta(microseconds=1)) == "active"]
    adherent = 0
    for p in active:
        last = local_date(log.end, log.zone[p])
        days = {d for d in local_days(log, p) if last - timedelta(days=30) < d <= last}
        adherent += len(days) >= 16
    e = _kpi(rep, "reading-day adherence")
    assert (e.numerator, e.n) == (adherent, len(active))
    # Persistence at 30 days: still active 30 days after enrolment.
    enrolled_at = {p: next(at for s, at in log.steps[p] if s == "enrolled") for p in enrolled}
    eligible = [p for p in enrolled if enrolled_at[p] + timedelta(days=30) <= log.end]
    still = sum(1 for p in eligible if _step_at(log.steps[p], enrolled_at[p] + timedelta(days=30)) == "active")
    e = _kpi(rep, "persistence at 30 days")
    assert (e.numerator, e.n) == (still, len(eligible))
    # Questionnaire completion: check-ins completed / sent (experiment arm only gets them).
    e = _kpi(rep, "questionnaire completion")
    assert (e.numerator, e.n) == (sum(d for _, _, d in log.checkins), len(log.checkins))
    assert _kpi(rep, "questionnaire completion", "arm=control").n == 0
    # Alert burden per 1,000 active patient-days.
    exposure = 0.0
    for p in enrolled:
        steps = log.steps[p] + [("end", log.end)]
        for (s, at), (_, nxt) in pairwise(steps):
            if s == "active":
                exposure += (min(nxt, log.end) - max(at, log.start)).total_seconds() / 86400
    e = _kpi(rep, "alert burden")
    assert e.n == len(log.alerts) and e.value == pytest.approx(len(log.alerts) / exposure * 1000)
    # Tasks per staff member per day: weekly + urgent tasks / (3 nurses x 2 teams x days).
    days = (log.end - log.start).total_seconds() / 86400
    e = _kpi(rep, "tasks per staff member per day")
    assert e.value == pytest.approx((len(log.touch) + len(log.urgent)) / (6 * days))
    # Outcome: mean home systolic, last 30 local days - baseline, experiment - control.
    changes: dict[str, list[float]] = {"experiment": [], "control": []}
    for p in enrolled:
        last = local_date(log.end, log.zone[p])
        recent = [v for at, v in log.readings[p] if last - timedelta(days=30) < local_date(at, log.zone[p]) <= last]
        # Baseline: the readings of the 30 days before enrolment (as allocated: rounded to 0.1 mmHg).
        base = [v for at, v in log.readings[p] if enrolled_at[p] - timedelta(days=30) <= at < enrolled_at[p]]
        if recent:
            changes[log.arm[p]].append(statistics.fmean(recent) - round(statistics.fmean(base), 1))
    diff = _kpi(rep, "change in mean home systolic: experiment − control", "arms")
    hand = statistics.fmean(changes["experiment"]) - statistics.fmean(changes["control"])
    assert diff.value == pytest.approx(hand, abs=1e-6)
    assert diff.high < 0  # the experiment arm's simulated drop (8 vs 2 mmHg) is detected
    # Balance of the randomised arms.
    assert rep.balance and all(abs(r.smd) < SMD_TARGET * 3 for r in rep.balance if r.smd is not None)


async def _run(database_url: str, unique: str, patients: int) -> None:
    program = shipped_programs()["hypertension-12w"].model_copy(update={"id": f"htn-{unique}"})
    conn = await connect(database_url)
    try:
        log = await simulate(conn, program, patients=patients, start=sim_start(130), unique=unique, p_answer=P_ANSWER)
        await conn.commit()
        await conn.set_autocommit(True)
        await program_kpis.refresh_reading_days(conn, log.end)
        rep = await report.build(conn, program, log.start, log.end)
        # The dashboard's whole-UTC-day period reads the day rollup (0031): the same rows as counting live.
        assert program_days.whole_utc_days(log.start, log.end)
        ids = [p.patient_id for p in await program_kpis.cohort(conn, program.id, log.end)]
        live = await program_kpis.patient_totals(conn, program.id, ids, log.start, log.end)
        assert await program_days.patient_totals(conn, program.id, ids, log.start, log.end) == live
        live_months = await program_kpis.monthly(conn, program.id, ids, log.start, log.end)
        rolled = await report.monthly_of(conn, program.id, ids, log.start, log.end)
        assert sorted(rolled, key=repr) == sorted(live_months, key=repr)
    finally:
        await conn.close()
    _check(rep, log)
    csv_text = report.to_csv(rep)
    assert csv_text.startswith("section,name,group,value") and "follow-up acceptance" in csv_text


async def test_simulated_program_kpis_match_the_hand_computation(database_url: str, unique: str) -> None:
    await _run(database_url, unique, 120)


@pytest.mark.slow
async def test_simulated_program_of_1000_patients(database_url: str, unique: str) -> None:
    await _run(database_url, unique, 1000)
