"""Alerts benchmark: all rules for 10,000 patients x 90 days, and a 1,000-reading incremental batch.

Run: VITALGATE_DATABASE_URL=postgresql://127.0.0.1:5432/test .venv/bin/python -m benchmarks.alerts_bench
Creates a fresh database on that server, bulk-loads numpy-generated readings (array INSERT), and drops
it at the end. Prints time per patient for the engine and for a naive per-patient, per-reading
Python baseline measured in the same run, and the ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit, urlunsplit
from uuid import uuid4

import numpy as np
import psycopg
from rich.console import Console

from benchmarks.alerts_naive import naive_patient
from vitalgate.alerts.config import default_rules
from vitalgate.alerts.engine import evaluate_all, evaluate_readings, frame_from_columns, lookback
from vitalgate.alerts.rules import PatientContext, evaluate_rule
from vitalgate.alerts.selection import rule_groups
from vitalgate.store import alert_inputs
from vitalgate.store.db import connect
from vitalgate.store.migrate import upgrade
from vitalgate.store.readings import STAGING_COLUMNS, write_readings

console = Console()
DAY = 86_400.0


def _db_url(admin: str, name: str) -> str:
    p = urlsplit(admin)
    return urlunsplit((p.scheme, p.netloc, "/" + name, p.query, p.fragment))


def generate(patients: int, days: int, now: float, rng: np.random.Generator):
    """Readings as columns: half glucose patients (3/day), half BP (2/day), with lows, trends, gaps."""
    pid = np.arange(1, patients + 1)
    is_glucose = pid % 2 == 1
    cols = {k: [] for k in ("patient", "t", "kind", "glucose", "systolic", "diastolic")}
    for glucose, per_day in ((True, 3), (False, 2)):
        ids = pid[is_glucose == glucose]
        n = days * per_day
        slot = np.tile(np.arange(n), ids.size)
        p = np.repeat(ids, n)
        t = now - days * DAY + slot * (DAY / per_day) + rng.uniform(0, 3 * 3600, slot.size)
        # 5 % of patients stop measuring 5 days before the end (missing-data rules).
        silent = np.isin(p, ids[rng.random(ids.size) < 0.05]) & (t > now - 5 * DAY)
        keep = ~silent
        cols["patient"].append(p[keep])
        cols["t"].append(t[keep])
        cols["kind"].append(np.full(keep.sum(), 0 if glucose else 1))
        if glucose:
            base = np.repeat(rng.uniform(100, 190, ids.size), n)
            spread = np.repeat(rng.uniform(15, 60, ids.size), n)
            cols["glucose"].append(np.clip(rng.normal(base, spread), 30, 500)[keep])
            cols["systolic"].append(np.full(keep.sum(), np.nan))
            cols["diastolic"].append(np.full(keep.sum(), np.nan))
        else:
            base = np.repeat(rng.uniform(115, 150, ids.size), n)
            slope = np.repeat(rng.normal(0, 0.4, ids.size), n)  # mmHg per day; some rise
            sys = base + slope * (t - now) / DAY + rng.normal(0, 6, slot.size)
            cols["systolic"].append(sys[keep])
            cols["diastolic"].append((sys * 0.6 + rng.normal(0, 4, slot.size))[keep])
            cols["glucose"].append(np.full(keep.sum(), np.nan))
    return {k: np.concatenate(v) for k, v in cols.items()}


async def load(url: str, patients: int, cols: dict[str, np.ndarray], start: datetime) -> None:
    """Patients, one device binding each, and the readings inserted straight into readings."""
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        await conn.execute("INSERT INTO care_teams (name) VALUES ('bench')")
        await conn.execute(
            "INSERT INTO users (username, display_name, role) SELECT 'n' || g, 'Nurse ' || g, 'nurse'"
            " FROM generate_series(1, 5) g"
        )
        await conn.execute("INSERT INTO care_team_members SELECT 1, id FROM users")
        await conn.execute(
            "INSERT INTO patients (display_name, care_team_id, external_ref, tags) SELECT 'P' || g, 1,"
            " 'bench-' || g, CASE WHEN g %% 2 = 1 THEN '{diabetes:t2}'::text[] ELSE '{htn}'::text[] END"
            " FROM generate_series(1, %s) g",
            (patients,),
        )
        await conn.execute(
            "INSERT INTO devices (serial, kind) SELECT 'S' || g, CASE WHEN g %% 2 = 1 THEN 'glucose_meter'"
            " ELSE 'bp_cuff' END FROM generate_series(1, %s) g",
            (patients,),
        )
        await conn.execute(
            "INSERT INTO device_bindings (device_serial, patient_id, valid_from) SELECT 'S' || g, g, %s"
            " FROM generate_series(1, %s) g",
            (start, patients),
        )
        # Bulk load into a throwaway database: skip the per-row foreign-key checks and the daily
        # rollup trigger (both belong to the readings module and are not what is measured here).
        await conn.execute("SET session_replication_role = replica")
        t0 = time.perf_counter()
        # Columns travel as arrays (one statement per chunk) and the server builds the rows: formatting
        # millions of text lines in Python would cost more than the database work.
        chunk = 250_000
        for lo in range(0, cols["t"].size, chunk):
            part = {k: v[lo : lo + chunk] for k, v in cols.items()}
            await conn.execute(
                """
                INSERT INTO readings (id, patient_id, device_serial, gateway_id, kind, measured_at, device_time,
                                      received_at, glucose_mg_dl, systolic_mmhg, diastolic_mmhg)
                SELECT gen_random_uuid(), u.p, 'S' || u.p, 'gw', CASE u.k WHEN 0 THEN 'glucose' ELSE 'blood_pressure' END,
                       to_timestamp(u.t), to_timestamp(u.t) AT TIME ZONE 'UTC', to_timestamp(u.t),
                       NULLIF(u.g, 'NaN'), NULLIF(u.s, 'NaN'), NULLIF(u.d, 'NaN')
                FROM unnest(%s::bigint[], %s::int[], %s::float8[], %s::float8[], %s::float8[], %s::float8[])
                     AS u(p, k, t, g, s, d)
                """,
                (
                    part["patient"].tolist(),
                    part["kind"].tolist(),
                    part["t"].tolist(),
                    part["glucose"].tolist(),
                    part["systolic"].tolist(),
                    part["diastolic"].tolist(),
                ),
            )
        await conn.execute("SET session_replication_role = DEFAULT")
        await conn.execute("ANALYZE readings")
        console.print(f"bulk insert of {cols['t'].size:,} readings: {time.perf_counter() - t0:.1f} s")


async def compute_only(conn, ids: list[int], now: datetime, rules) -> tuple[float, float, dict]:
    """(seconds to fetch, seconds to evaluate, verdicts) for the engine without DB writes."""
    t0 = time.perf_counter()
    facts = await alert_inputs.patient_facts(conn, ids)
    cols = await alert_inputs.reading_columns(conn, ids, since=now - lookback(rules), until=now + timedelta(hours=1))
    t1 = time.perf_counter()
    patients = np.array(sorted(facts), dtype=np.int64)
    frame = frame_from_columns(cols).with_universe(patients)
    ctx = PatientContext(patients, np.array([facts[p][1] for p in patients], dtype=np.float64))
    verdicts: dict[int, set[str]] = {int(p): set() for p in patients}
    for rule, members in rule_groups(rules, {p: facts[p][0] for p in patients}):
        # As in a first evaluation (no open episodes): only active findings are materialised.
        no_episodes = np.zeros(members.size, dtype=bool)
        for f in evaluate_rule(rule, frame, members, now.timestamp(), ctx, no_episodes):
            verdicts[f.patient_id].add(rule.id)
    return t1 - t0, time.perf_counter() - t1, verdicts


async def naive(conn, ids: list[int], now: datetime, rules) -> tuple[float, float, dict]:
    """The baseline: one query per patient, Python loops per reading."""
    fetch_s = compute_s = 0.0
    verdicts = {}
    since = now - lookback(rules)
    for pid in ids:
        t0 = time.perf_counter()
        cur = await conn.execute(
            "SELECT kind, extract(epoch FROM measured_at)::float8 AS t, glucose_mg_dl, systolic_mmhg, diastolic_mmhg,"
            " map_mmhg, pulse_bpm, context ->> 'meal' AS meal FROM readings WHERE patient_id = %s AND measured_at >= %s"
            " AND measured_at <= %s ORDER BY measured_at",
            (pid, since, now + timedelta(hours=1)),
        )
        rows = await cur.fetchall()
        info = await (
            await conn.execute(
                "SELECT p.tags, extract(epoch FROM min(b.valid_from))::float8 AS start FROM patients p"
                " LEFT JOIN device_bindings b ON b.patient_id = p.id WHERE p.id = %s GROUP BY p.tags",
                (pid,),
            )
        ).fetchone()
        t1 = time.perf_counter()
        verdicts[pid] = {
            r
            for r, active in naive_patient(rules, rows, info["tags"], info["start"], now.timestamp()).items()
            if active
        }
        compute_s += time.perf_counter() - t1
        fetch_s += t1 - t0
    return fetch_s, compute_s, verdicts


async def main(patients: int, days: int, sample: int) -> None:
    admin = os.environ.get("VITALGATE_DATABASE_URL")
    if not admin:
        raise SystemExit("set VITALGATE_DATABASE_URL (a PostgreSQL server where a database may be created)")
    name = f"vg_alerts_bench_{secrets.token_hex(3)}"
    with psycopg.connect(admin, autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{name}"')
    url = _db_url(admin, name)
    try:
        await asyncio.to_thread(upgrade, url)
        now = datetime.now(UTC).replace(microsecond=0)
        rng = np.random.default_rng(42)
        t0 = time.perf_counter()
        cols = generate(patients, days, now.timestamp(), rng)
        await load(url, patients, cols, now - timedelta(days=days + 1))
        console.print(
            f"loaded {cols['t'].size:,} readings for {patients:,} patients x {days} days in {time.perf_counter() - t0:.1f} s"
        )
        rules = default_rules()
        conn = await connect(url)
        try:
            t0 = time.perf_counter()
            async with conn.transaction():
                raised = await evaluate_all(conn, now=now)
            full = time.perf_counter() - t0
            opened = sum(a.action == "opened" for a in raised)
            t0 = time.perf_counter()
            async with conn.transaction():
                again = await evaluate_all(conn, now=now)
            steady = time.perf_counter() - t0
            assert not any(a.action == "opened" for a in again), "re-evaluation opened episodes"
            console.print(
                f"[bold]full evaluation[/], {len(rules.rules)} rules, {patients:,} patients: {full:.2f} s "
                f"({full / patients * 1e3:.3f} ms/patient), {opened:,} episodes opened"
            )
            console.print(
                f"re-evaluation (idempotent, updates only): {steady:.2f} s ({steady / patients * 1e3:.3f} ms/patient)"
            )

            ids = sorted(rng.choice(np.arange(1, patients + 1), size=sample, replace=False).tolist())
            e_fetch, e_comp, e_verdicts = await compute_only(conn, ids, now, rules)
            n_fetch, n_comp, n_verdicts = await naive(conn, ids, now, rules)
            mismatches = sum(e_verdicts.get(p, set()) != n_verdicts.get(p, set()) for p in ids)
            e_tot, n_tot = (e_fetch + e_comp) / sample, (n_fetch + n_comp) / sample
            console.print(
                f"sample of {sample} patients, no writes: engine {e_tot * 1e3:.3f} ms/patient "
                f"(fetch {e_fetch / sample * 1e3:.3f}, numpy {e_comp / sample * 1e3:.3f}); naive "
                f"{n_tot * 1e3:.3f} ms/patient (fetch {n_fetch / sample * 1e3:.3f}, Python loops {n_comp / sample * 1e3:.3f})"
            )
            console.print(
                f"[bold]ratio naive / engine: {n_tot / e_tot:.1f}x end to end, {n_comp / e_comp:.1f}x compute only[/]; "
                f"patients whose active rules differ: {mismatches}"
            )

            # Incremental: 1,000 new readings for 1,000 different patients, through the ingest write path.
            batch_patients = rng.choice(np.arange(1, patients + 1), size=min(1000, patients), replace=False)
            at = now + timedelta(minutes=5)
            rows = []
            for p in batch_patients.tolist():
                glucose = p % 2 == 1
                values = {
                    "id": uuid4(),
                    "device_serial": f"S{p}",
                    "device_kind": "glucose_meter" if glucose else "bp_cuff",
                    "gateway_id": "gw",
                    "kind": "glucose" if glucose else "blood_pressure",
                    "measured_at": at,
                    "device_time": at.replace(tzinfo=None),
                    "received_at": at,
                    "status": [],
                    "context": {},
                    "glucose_mg_dl": float(rng.uniform(40, 300)) if glucose else None,
                    "systolic_mmhg": None if glucose else float(rng.uniform(110, 190)),
                    "diastolic_mmhg": None if glucose else float(rng.uniform(60, 125)),
                }
                rows.append(tuple(values.get(c) for c in STAGING_COLUMNS))
            async with conn.transaction():
                stored = await write_readings(conn, rows)
            t0 = time.perf_counter()
            async with conn.transaction():
                # As ingest calls it: the merge already returned each reading's patient.
                inc = await evaluate_readings(
                    conn, [r.id for r in stored], now=at, patient_ids=[r.patient_id for r in stored]
                )
            inc_s = time.perf_counter() - t0
            console.print(
                f"[bold]incremental batch[/] of {len(stored)} readings ({len(set(batch_patients.tolist()))} patients): "
                f"{inc_s * 1e3:.0f} ms ({inc_s / len(stored) * 1e3:.3f} ms/reading), "
                f"{sum(a.action == 'opened' for a in inc)} episodes opened"
            )
        finally:
            await conn.close()
    finally:
        with psycopg.connect(admin, autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--sample", type=int, default=1000, help="patients in the engine-vs-naive comparison")
    args = parser.parse_args()
    asyncio.run(main(args.patients, args.days, args.sample))
