"""Clinical safety on a simulated population through the real rules (issue 12, item 7).

Run: VITALGATE_DATABASE_URL=postgresql://127.0.0.1:5432/test .venv/bin/python -m benchmarks.clinical_bench

Patients (by default the UVA/Padova simulator's 30 virtual patients through simglucose,
benchmarks/clinical_uvapadova.py, needing `pip install -e '.[sim]'`; `--population minimal` is the
earlier stand-in, benchmarks/clinical_sim.py) are replayed in time order into a throw-away database: each reading is stored through the ingest
write path one minute after it was measured and evaluated at once by the ingest pipeline's hook
(AlertPipeline: rules -> episodes -> tasks); a scheduler pass runs every 15 simulated minutes;
a nurse closes each urgent task 30 minutes after it opens ("reached"), high tasks after 4 hours
and routine tasks after a day ("resolved") — the behaviour under which issue 12 found only 16 of
45 level-2 readings covered. Reported against a naive alarm on every reading < 70 or > 180 mg/dL:
- sensitivity: level-2 readings (< 54 mg/dL, meter LO included) with an urgent task open for the
  patient within 1 minute of ingest (a new one, or one the team has and has not closed);
- burden: tasks per 1,000 patient-days by severity, and the naive baseline's ratio to it;
- coordinator load for 10,000 patients, assuming 60 tasks per person per day (6 minutes each over
  a 6-hour working share of the day).
Blood pressure (benchmarks/clinical_bp.py): as many treated hypertensive patients with a home cuff,
morning and evening readings with published day-to-day variability, a few with crisis spells,
stored through the same write path and hook; level-2 BP is > 180 systolic and/or > 120 diastolic
(2017 ACC/AHA). Its naive alarm flags every home reading >= 135/85 (ACC/AHA Table 11), reported
separately: it would flatter the ratio, since most treated patients sit above it.
Tasks are also broken down by the rule that opened them (where the burden comes from).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import secrets
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit
from uuid import NAMESPACE_URL, uuid5

import psycopg

from benchmarks import clinical_sim, clinical_uvapadova
from benchmarks.clinical_bp import HOME_BP_HIGH, BpReading, simulate_bp
from benchmarks.clinical_sim import MINUTES_PER_DAY, MeterReading
from vitalgate.app.pipeline import AlertPipeline
from vitalgate.core.logs import configure_logging
from vitalgate.followup.actions import record_outcome
from vitalgate.followup.scheduler import tick
from vitalgate.store import people
from vitalgate.store.db import connect
from vitalgate.store.migrate import upgrade
from vitalgate.store.readings import STAGING_COLUMNS, write_readings

TASKS_PER_PERSON_DAY = 60  # assumption: 6 minutes a task, 6 hours of task work a day
CLOSE_AFTER = {"urgent": timedelta(minutes=30), "high": timedelta(hours=4), "routine": timedelta(days=1)}
OUTCOME = {"urgent": "reached", "high": "resolved", "routine": "resolved"}


def _db_url(admin: str, name: str) -> str:
    p = urlsplit(admin)
    return urlunsplit((p.scheme, p.netloc, "/" + name, p.query, p.fragment))


async def _seed(url: str, patients: int, bp_patients: int, start: datetime) -> tuple[list, list]:
    conn = await connect(url)
    async with conn.transaction():
        team = await people.create_care_team(conn, "bench")
        await people.create_user(conn, "bench-nurse", "Nurse", "nurse", care_team_id=team)
        await people.create_user(conn, "bench-doctor", "Doctor", "doctor", care_team_id=team)
        out = []
        for p in range(patients):
            pid = await people.create_patient(conn, f"Sim {p}", team, external_ref=f"sim-{p}", tags=["diabetes:t1"])
            await people.bind_device(conn, f"SIM-{p}", "glucose_meter", pid, valid_from=start - timedelta(days=1))
            out.append((pid, f"SIM-{p}"))
        bp = []
        for p in range(bp_patients):
            pid = await people.create_patient(conn, f"Sim BP {p}", team, external_ref=f"sim-bp-{p}", tags=["htn"])
            await people.bind_device(conn, f"SIMBP-{p}", "bp_cuff", pid, valid_from=start - timedelta(days=1))
            bp.append((pid, f"SIMBP-{p}"))
    await conn.close()
    return out, bp


def _row(serial: str, at: datetime, r: MeterReading | BpReading) -> tuple:
    values: dict[str, object] = {
        "id": uuid5(NAMESPACE_URL, f"{serial}/{at.isoformat()}"),
        "device_serial": serial,
        "gateway_id": "gw-bench",
        "measured_at": at,
        "device_time": at.replace(tzinfo=None),
        "received_at": at + timedelta(minutes=1),
        "sequence_number": None,
        "status": [],
    }
    if isinstance(r, BpReading):
        values |= {"device_kind": "bp_cuff", "kind": "blood_pressure", "context": {}}
        values |= {"systolic_mmhg": r.systolic_mmhg, "diastolic_mmhg": r.diastolic_mmhg, "pulse_bpm": r.pulse_bpm}
    else:
        values |= {"device_kind": "glucose_meter", "kind": "glucose", "glucose_mg_dl": r.value_mg_dl}
        values["context"] = {"glucose_comparator": r.comparator} if r.comparator else {}
    return tuple(values.get(c) for c in STAGING_COLUMNS)


async def _close_due(url: str, now: datetime) -> None:
    conn = await connect(url)
    rows = await (
        await conn.execute("SELECT id, severity, created_at FROM tasks WHERE status IN ('open', 'in_progress')")
    ).fetchall()
    for r in rows:
        tid, sev, created = (r["id"], r["severity"], r["created_at"]) if isinstance(r, dict) else r
        if created + CLOSE_AFTER[sev] <= now:
            async with conn.transaction():
                await record_outcome(conn, tid, OUTCOME[sev], actor="nurse:bench", now=now)  # type: ignore[arg-type]
    await conn.close()


async def _urgent_open(url: str, patient: int, now: datetime) -> bool:
    conn = await connect(url)
    row = await (
        await conn.execute(
            "SELECT count(*) FROM tasks WHERE patient_id = %s AND severity = 'urgent' AND created_at <= %s"
            " AND (closed_at IS NULL OR closed_at > %s)",
            (patient, now + timedelta(minutes=1), now),
        )
    ).fetchone()
    await conn.close()
    return int(next(iter(row.values())) if isinstance(row, dict) else row[0]) > 0  # type: ignore[union-attr]


async def _tasks(url: str) -> list[tuple[str, str, bool]]:
    """(severity, rule of the task's episode, is a BP patient) per task."""
    conn = await connect(url)
    rows = await (
        await conn.execute(
            "SELECT t.severity, coalesce(a.rule_id, '-'), p.external_ref LIKE 'sim-bp-%%'"
            " FROM tasks t JOIN patients p ON p.id = t.patient_id LEFT JOIN alerts a ON a.id = t.alert_id"
        )
    ).fetchall()
    await conn.close()
    return [tuple(r.values()) if isinstance(r, dict) else tuple(r) for r in rows]  # type: ignore[misc]


async def _dump(url: str, path: str) -> None:
    conn = await connect(url)
    rows = await (
        await conn.execute(
            "SELECT p.external_ref, t.severity, t.created_at::text, t.closed_at::text, a.rule_id, a.evidence::text"
            " FROM tasks t JOIN patients p ON p.id = t.patient_id LEFT JOIN alerts a ON a.id = t.alert_id"
            " ORDER BY p.external_ref, t.created_at"
        )
    ).fetchall()
    await conn.close()
    lines = ["\t".join(str(v) for v in (r.values() if isinstance(r, dict) else r)) for r in rows]
    await asyncio.to_thread(Path(path).write_text, "\n".join(lines) + "\n")


POPULATIONS = {
    "uvapadova": ("UVA/Padova simulator via simglucose, benchmarks/clinical_uvapadova.py", clinical_uvapadova.simulate),
    "minimal": ("Bergman minimal model, benchmarks/clinical_sim.py", clinical_sim.simulate),
}


async def run(url: str, n_patients: int, days: int, tick_minutes: int, seed: int, population: str) -> dict[str, object]:
    t0 = time.perf_counter()
    _trace, glucose = POPULATIONS[population][1](n_patients, days, seed)
    bp = simulate_bp(n_patients, days, seed)
    sim_s = time.perf_counter() - t0
    start = (datetime.now(UTC) - timedelta(days=days + 2)).replace(hour=0, minute=0, second=0, microsecond=0)
    g_patients, bp_patients = await _seed(url, n_patients, n_patients, start)
    pipeline = AlertPipeline(url)
    events: list[MeterReading | BpReading] = sorted([*glucose, *bp], key=lambda r: (r.minute, r.patient))
    level2 = {"glucose": 0, "bp": 0}
    covered = {"glucose": 0, "bp": 0}
    i = 0
    t0 = time.perf_counter()
    for step in range(0, days * MINUTES_PER_DAY + tick_minutes, tick_minutes):
        while i < len(events) and events[i].minute < step:
            r = events[i]
            is_bp = isinstance(r, BpReading)
            pid, serial = (bp_patients if is_bp else g_patients)[r.patient]
            at = start + timedelta(minutes=r.minute)
            conn = await connect(url)
            async with conn.transaction():
                stored = await write_readings(conn, [_row(serial, at, r)])
            await conn.close()
            await pipeline(stored, at + timedelta(minutes=1))
            kind = "bp" if is_bp else "glucose"
            if r.level2 if isinstance(r, BpReading) else r.value_mg_dl < 54:
                level2[kind] += 1
                covered[kind] += await _urgent_open(url, pid, at + timedelta(minutes=1))
            i += 1
        now = start + timedelta(minutes=step)
        await _close_due(url, now)
        await tick(url, now)
    replay_s = time.perf_counter() - t0
    tasks = await _tasks(url)
    if dump := os.environ.get("CLINICAL_BENCH_DUMP"):  # per-task detail for burden analysis
        await _dump(url, dump)
    patient_days = n_patients * days
    per_k = 1000.0 / patient_days
    naive_g = sum(1 for r in glucose if r.value_mg_dl < 70 or r.value_mg_dl > 180)
    naive_bp = sum(1 for r in bp if r.systolic_mmhg >= HOME_BP_HIGH[0] or r.diastolic_mmhg >= HOME_BP_HIGH[1])
    out: dict[str, object] = {
        "patients": n_patients,
        "days": days,
        "population": POPULATIONS[population][0],
        "readings": len(glucose),
        "bp_readings": len(bp),
        "symptomatic": sum(r.symptomatic for r in glucose),
        "level2": level2,
        "covered": covered,
        "by_rule": dict(Counter(f"{t[1]} ({t[0]})" for t in tasks).most_common()),
        "sim_s": round(sim_s, 1),
        "replay_s": round(replay_s, 1),
    }
    for name, rows, naive in (
        ("glucose", [t for t in tasks if not t[2]], naive_g),
        ("bp", [t for t in tasks if t[2]], naive_bp),
    ):
        sev = Counter(t[0] for t in rows)
        out[name] = {
            "tasks": len(rows),
            "by_severity_per_k": {k: round(v * per_k, 1) for k, v in sorted(sev.items())},
            "per_k": round(len(rows) * per_k, 1),
            "naive_per_k": round(naive * per_k, 1),
            "ratio": round(naive / len(rows), 2) if rows else float("inf"),
            "load_10k_per_day": round(len(rows) / patient_days * 10_000, 1),
        }
    return out


def _report(res: dict, tick_minutes: int) -> None:  # type: ignore[type-arg]
    g, bp = res["glucose"], res["bp"]
    print(f"population: {res['patients']} simulated type-1 patients x {res['days']} days ({res['population']}),")
    print(f"  {res['readings']} meter readings, {res['symptomatic']} symptomatic checks;")
    print(
        f"  {res['patients']} treated hypertensive patients (benchmarks/clinical_bp.py), {res['bp_readings']} home BP"
    )
    print(f"  readings; simulation {res['sim_s']} s, replay through store + rules + scheduler every {tick_minutes} min")
    print(f"  {res['replay_s']} s")
    for kind, label in (("glucose", "< 54 mg/dL"), ("bp", "> 180 and/or > 120 mmHg")):
        n, c = res["level2"][kind], res["covered"][kind]
        sens = 100.0 * c / n if n else float("nan")
        print(f"sensitivity {kind}: {c}/{n} level-2 readings ({label}) with an urgent task within 1 min = {sens:.1f} %")
    for kind, s, naive in (("glucose", g, "< 70 or > 180 mg/dL"), ("bp", bp, ">= 135/85 mmHg")):
        print(f"burden {kind}: {s['per_k']} tasks per 1,000 patient-days, by severity {s['by_severity_per_k']}")
        print(f"  naive per-reading alarm ({naive}): {s['naive_per_k']} per 1,000 patient-days; ratio {s['ratio']}x")
        persons = s["load_10k_per_day"] / TASKS_PER_PERSON_DAY
        print(
            f"  coordinator load, 10,000 such patients: {s['load_10k_per_day']} tasks/day = {persons:.1f} people"
            f" at {TASKS_PER_PERSON_DAY} tasks/person/day"
        )
    print(f"tasks by rule (severity): {res['by_rule']}")


async def main(patients: int, days: int, tick_minutes: int, seed: int, population: str) -> None:
    configure_logging(level=logging.WARNING)  # one line per evaluation and tick would drown the result
    admin = os.environ.get("VITALGATE_DATABASE_URL")
    if not admin:
        raise SystemExit("set VITALGATE_DATABASE_URL (a PostgreSQL server where a database may be created)")
    name = f"vg_clinical_bench_{secrets.token_hex(3)}"
    with psycopg.connect(admin, autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{name}"')
    url = _db_url(admin, name)
    try:
        await asyncio.to_thread(upgrade, url)
        res = await run(url, patients, days, tick_minutes, seed, population)
    finally:
        with psycopg.connect(admin, autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _report(res, tick_minutes)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=10)
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--tick-minutes", type=int, default=15)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--population", choices=sorted(POPULATIONS), default="uvapadova",
        help="uvapadova (simglucose, the default; pip install -e '.[sim]') or minimal (the earlier stand-in)",
    )  # fmt: skip
    a = parser.parse_args()
    asyncio.run(main(a.patients, a.days, a.tick_minutes, a.seed, a.population))
