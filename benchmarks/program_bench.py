"""Program dashboard benchmark: 10,000 patients and a year of events; the page must render in < 1 s.

Run: VITALGATE_DATABASE_URL=postgresql://127.0.0.1:5432/test .venv/bin/python -m benchmarks program_bench [--patients N]
Creates a fresh database on that server and drops it at the end. One program (hypertension-12w),
patients invited over the first 270 of 360 days, 90 % consent, 95 % of those enrol (arms drawn by
the same stratified blocks as enrolment), 8 % withdraw; one home BP reading on ~70 % of days,
a weekly check-in task with a patient touchpoint (70 % answered), urgent tasks on 5 % of
patient-weeks with a nurse's call, weekly check-in questionnaires for the experiment arm.
Measured: `vitalgate program refresh` (the materialized rollup), the report build, the dashboard
page and the CSV export through the ASGI app (median of 5). Baseline in the same run: the same
report with the readings facts computed from the raw readings table instead of the rollup.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import secrets
import statistics
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit, urlunsplit

import httpx
import psycopg
from psycopg.rows import tuple_row
from psycopg.types.json import Jsonb
from pydantic import SecretStr
from rich.console import Console
from rich.table import Table

from vitalgate.api.app import create_app
from vitalgate.core.passwords import hash_password
from vitalgate.core.settings import Settings
from vitalgate.programs import report
from vitalgate.programs.definitions import shipped_programs
from vitalgate.programs.randomise import allocate_all
from vitalgate.store import program_kpis
from vitalgate.store.db import connect, make_pool
from vitalgate.store.migrate import upgrade
from vitalgate.store.program_kpis import RecentReadings

PASSWORD = "benchmark-password-123"
DAYS = 360
ZONES = ("Asia/Shanghai", "Europe/Berlin")


def _with_database(url: str, dbname: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + dbname, parts.query, parts.fragment))


async def seed(url: str, n: int, start: datetime) -> None:
    program = shipped_programs()["hypertension-12w"]
    spec = program.randomisation
    assert spec is not None
    rng = random.Random(17)
    conn = await connect(url)
    teams = []
    for i, zone in enumerate(ZONES):
        team = await (
            await conn.execute("INSERT INTO care_teams (name, time_zone) VALUES (%s, %s) RETURNING id", (f"t{i}", zone))
        ).fetchone()
        teams.append(team["id"] if isinstance(team, dict) else team[0])
    for i, team in enumerate(teams):
        for k in range(6):
            row = await (
                await conn.execute(
                    "INSERT INTO users (username, display_name, role, password_hash) VALUES (%s, 'Nurse', 'nurse', %s)"
                    " RETURNING id",
                    (f"nurse-{i}-{k}", hash_password(PASSWORD) if k == 0 else None),
                )
            ).fetchone()
            uid = row["id"] if isinstance(row, dict) else row[0]
            await conn.execute("INSERT INTO care_team_members (care_team_id, user_id) VALUES (%s, %s)", (team, uid))
    people, events, allocations_in = [], [], []
    for i in range(n):
        invited = start + timedelta(days=i * 270 / n, hours=9)
        mu = rng.gauss(145, 12)
        cov = {
            "age_band": rng.choices(["<45", "45-64", "65-74", ">=75"], [1, 3, 4, 2])[0],
            "sex": rng.choice(["female", "male"]),
            "condition_stage": rng.choices(["1", "2", "3"], [5, 3, 1])[0],
            "baseline_systolic_mmhg": round(mu, 1),
        }
        people.append((i, teams[i % 2], invited, mu, cov, rng.uniform(0.4, 1.0)))
    patient_copy = "COPY patients (display_name, care_team_id, external_ref, tags, sex) FROM STDIN"
    async with conn.cursor() as cur, cur.copy(patient_copy) as copy:
        for i, team, _invited, _mu, cov, _adherence in people:
            await copy.write_row((f"P{i}", team, f"pb-{i}", ["hypertension"], cov["sex"]))
    ids = [
        r["id"] if isinstance(r, dict) else r[0]
        for r in await (await conn.execute("SELECT id FROM patients ORDER BY id")).fetchall()
    ]
    enrolled = []
    for pid, (i, team, invited, mu, cov, adherence) in zip(ids, people, strict=True):
        channel, segment = ("sms", "phone", "app")[i % 3], ("htn-new", "htn-known")[i % 2]
        events.append((pid, "invited", invited, channel, segment, None))
        if rng.random() < 0.1:
            events.append((pid, "withdrawn", invited + timedelta(hours=5), channel, segment, "declined"))
            continue
        events.append((pid, "consented", invited + timedelta(hours=1), channel, segment, None))
        if rng.random() >= 0.95:
            continue
        enrolled_at = invited + timedelta(hours=2)
        events.append((pid, "enrolled", enrolled_at, channel, segment, None))
        events.append((pid, "active", enrolled_at + timedelta(minutes=30), channel, segment, None))
        end = start + timedelta(days=DAYS)
        if rng.random() < 0.08:
            end = min(end, enrolled_at + timedelta(days=rng.randint(10, 200)))
            if end < start + timedelta(days=DAYS):
                events.append((pid, "withdrawn", end, channel, segment, "moved"))
        enrolled.append((pid, team, enrolled_at, end, mu, adherence))
        allocations_in.append((pid, cov))
    drawn = allocate_all(spec.seed, allocations_in, spec.covariates, spec.arms, spec.block_size)
    await conn.execute(
        "INSERT INTO program_randomisations (program_id, seed, block_size, arms, covariates, created_at, created_by)"
        " VALUES (%s, %s, %s, %s, %s, %s, 'bench')",
        (program.id, spec.seed, spec.block_size, spec.arms, [c.name for c in spec.covariates], start),
    )
    async with conn.cursor() as cur:
        async with cur.copy(
            "COPY program_enrolment_events (program_id, patient_id, step, at, actor, channel, segment, reason) FROM STDIN"
        ) as copy:
            for pid, step, at, channel, segment, reason in events:
                await copy.write_row((program.id, pid, step, at, "bench", channel, segment, reason))
        async with cur.copy(
            "COPY program_allocations (program_id, patient_id, arm, stratum, block_index, position, covariates,"
            " allocated_at, allocated_by) FROM STDIN"
        ) as copy:
            for pid, cov in allocations_in:
                arm, stratum, d = drawn[pid]
                await copy.write_row(
                    (program.id, pid, arm, stratum, d.block_index, d.position, Jsonb(cov), start, "bench")
                )
    await conn.execute(
        "CREATE TEMP TABLE sim (pid bigint, team bigint, enrolled_at timestamptz, end_at timestamptz, mu float8,"
        " adherence float8, arm text)"
    )
    async with conn.cursor() as cur, cur.copy("COPY sim FROM STDIN") as copy:
        for pid, team, enrolled_at, end, mu, adherence in enrolled:
            await copy.write_row((pid, team, enrolled_at, end, mu, adherence, drawn[pid][0]))
    await conn.execute("SELECT setseed(0.17)")
    # One morning reading on ~adherence of the days, 30 baseline days before enrolment included.
    await conn.execute(
        """
        INSERT INTO readings (id, patient_id, device_serial, gateway_id, kind, measured_at, device_time, received_at,
                              systolic_mmhg, diastolic_mmhg)
        SELECT gen_random_uuid(), s.pid, 'B' || s.pid, 'gw-bench', 'blood_pressure', d, d::timestamp, d,
               s.mu - CASE WHEN s.arm = 'experiment' THEN 8 ELSE 2 END * greatest(0, extract(epoch FROM d - s.enrolled_at))
                     / (84 * 86400.0) + (random() - 0.5) * 12, 85
        FROM sim s, generate_series(greatest(s.enrolled_at - interval '30 days', %(start)s), s.end_at - interval '1 hour',
                                    interval '1 day') AS d
        WHERE random() < s.adherence
        """,
        {"start": start},
    )
    await conn.execute(
        """
        CREATE TEMP TABLE wk AS
        SELECT s.pid, s.team, w AS fired FROM sim s, generate_series(s.enrolled_at + interval '1 day', s.end_at,
                                                                      interval '7 days') AS w
        WHERE w < %(end)s
        """,
        {"end": start + timedelta(days=DAYS)},
    )
    await conn.execute(
        """
        WITH t AS (
            INSERT INTO tasks (patient_id, care_team_id, severity, status, title, due_at, created_at, kind,
                               patient_responded_at)
            SELECT pid, team, 'routine', 'open', 'Weekly check', fired + interval '1 day', fired, 'program',
                   CASE WHEN random() < 0.7 THEN fired + interval '2 hours' END
            FROM wk RETURNING id, created_at
        )
        INSERT INTO touchpoints (task_id, step_index, step_name, channel, template, due_at, fired_at)
        SELECT id, 0, 'weekly', 'message', 'check-in', created_at, created_at FROM t
        """
    )
    await conn.execute(
        """
        WITH u AS (SELECT pid, team, fired + interval '2 days 3 hours' AS at FROM wk WHERE random() < 0.05),
        a AS (
            INSERT INTO alerts (patient_id, rule_id, severity, status, dedup_key, summary, opened_at, updated_at)
            SELECT pid, 'bp-crisis', 'urgent', 'resolved', 'b:' || pid || ':' || at, 'bench', at, at FROM u
            RETURNING id, patient_id, opened_at
        ), t AS (
            INSERT INTO tasks (alert_id, patient_id, care_team_id, severity, status, title, due_at, created_at, kind,
                               closed_at, outcome)
            SELECT a.id, a.patient_id, p.care_team_id, 'urgent', 'done', 'Urgent', a.opened_at + interval '30 min',
                   a.opened_at, 'alert', a.opened_at + interval '1 hour', 'reached'
            FROM a JOIN patients p ON p.id = a.patient_id RETURNING id, created_at
        )
        INSERT INTO task_events (task_id, at, actor, kind, detail)
        SELECT id, created_at + make_interval(secs => -ln(1 - random()) * 1200), 'nurse-0-1', 'outcome',
               jsonb_build_object('outcome', CASE WHEN random() < 0.8 THEN 'reached' ELSE 'not_reached' END)
        FROM t
        """
    )
    await conn.execute(
        """
        INSERT INTO program_module_items (program_id, patient_id, week, item_kind, item_key, due_at, sent_at,
                                          completed_at)
        SELECT %(p)s, s.pid, w, 'checkin', 'symptom-check', s.enrolled_at + (w - 1) * interval '7 days',
               s.enrolled_at + (w - 1) * interval '7 days',
               CASE WHEN random() < 0.7 THEN s.enrolled_at + (w - 1) * interval '7 days' + interval '5 hours' END
        FROM sim s, generate_series(1, 12) AS w
        WHERE s.arm = 'experiment' AND s.enrolled_at + (w - 1) * interval '7 days' < s.end_at
        """,
        {"p": program.id},
    )
    await conn.commit()
    await conn.set_autocommit(True)
    for table in (
        "readings",
        "tasks",
        "touchpoints",
        "task_events",
        "alerts",
        "program_enrolment_events",
        "program_module_items",
        "program_allocations",
    ):
        await conn.execute(f"ANALYZE {table}")
    await conn.close()


async def raw_recent_readings(conn: psycopg.AsyncConnection, ids: list[int], until: datetime) -> list[RecentReadings]:
    """The baseline: the readings facts from the raw readings table (what the rollup saves)."""
    cur = await conn.cursor(row_factory=tuple_row).execute(
        """
        WITH p AS (
            SELECT id, patient_zone_at(id, %(until)s) AS tz,
                   ((%(until)s::timestamptz AT TIME ZONE patient_zone_at(id, %(until)s))::date) AS last_day
            FROM unnest(%(ids)s::bigint[]) AS u(id)
        )
        SELECT p.id, count(DISTINCT (r.measured_at AT TIME ZONE p.tz)::date)::int,
               count(r.glucose_mg_dl)::int, count(*) FILTER (WHERE r.glucose_mg_dl BETWEEN 70 AND 180)::int,
               count(r.systolic_mmhg)::int, sum(r.systolic_mmhg)
        FROM p LEFT JOIN readings r ON r.patient_id = p.id AND r.measured_at >= %(from)s AND r.measured_at <= %(until)s
             AND (r.measured_at AT TIME ZONE p.tz)::date > p.last_day - 30
        GROUP BY p.id
        """,
        {"ids": ids, "until": until, "from": until - timedelta(days=31)},
    )
    rows = await cur.fetchall()
    return [RecentReadings(*r) for r in rows]


async def _median(label: str, fn, repeat: int = 5) -> tuple[str, float]:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        await fn()
        times.append(time.perf_counter() - t0)
    return label, statistics.median(times) * 1000


async def main(patients: int) -> None:
    admin_url = os.environ["VITALGATE_DATABASE_URL"]
    dbname = f"vg_program_bench_{secrets.token_hex(3)}"
    with psycopg.connect(admin_url, autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{dbname}"')
    url = _with_database(admin_url, dbname)
    console = Console()
    program = shipped_programs()["hypertension-12w"]
    start = (datetime.now(UTC) - timedelta(days=DAYS + 1)).replace(hour=0, minute=0, second=0, microsecond=0)
    end = start + timedelta(days=DAYS)
    try:
        upgrade(url)
        t0 = time.perf_counter()
        await seed(url, patients, start)
        seed_s = time.perf_counter() - t0
        conn = await connect(url, autocommit=True)
        counts = {
            t: (await (await conn.execute(f"SELECT count(*) AS n FROM {t}")).fetchone())["n"]  # type: ignore[index]
            for t in ("readings", "tasks", "touchpoints", "program_enrolment_events", "program_module_items")
        }
        refresh_ms = await program_kpis.refresh_reading_days(conn, end)
        rows = []
        rows.append(await _median("report build (rollup)", lambda: report.build(conn, program, start, end)))
        original = program_kpis.recent_readings
        program_kpis.recent_readings = raw_recent_readings  # type: ignore[assignment]
        try:
            rows.append(
                await _median("baseline: report build (raw readings)", lambda: report.build(conn, program, start, end))
            )
        finally:
            program_kpis.recent_readings = original
        pool = make_pool(url, max_size=4)
        await pool.open()
        settings = Settings(environment="development", secret_key=SecretStr("bench-" + "x" * 40))
        app = create_app(url, settings=settings, pool=pool)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as client:
            login = await client.post("/ui/login", data={"username": "nurse-0-0", "password": PASSWORD})
            assert login.status_code == 303, login.text
            query = f"from={start:%Y-%m-%d}&to={end:%Y-%m-%d}"

            async def page() -> None:
                r = await client.get(f"/ui/programs/{program.id}?{query}")
                assert r.status_code == 200 and "<svg" in r.text, r.status_code

            async def export() -> None:
                r = await client.get(f"/ui/programs/{program.id}/export.csv?{query}")
                assert r.status_code == 200

            rows.append(await _median("dashboard page GET (HTML + SVG)", page))
            rows.append(await _median("CSV export GET", export))
        await pool.close()
        await conn.close()
        table = Table(
            "measure",
            "median ms",
            title=(
                f"{patients:,} patients, {DAYS} days: {counts['readings']:,} readings, {counts['tasks']:,} tasks, "
                f"{counts['touchpoints']:,} touchpoints, {counts['program_enrolment_events']:,} funnel events, "
                f"{counts['program_module_items']:,} check-ins (seeded in {seed_s:.0f} s)"
            ),
        )
        table.add_row("vitalgate program refresh (rollup, CONCURRENTLY)", f"{refresh_ms:,.0f}")
        for label, ms in rows:
            table.add_row(label, f"{ms:,.0f}")
        console.print(table)
        build_ms, raw_ms, page_ms = rows[0][1], rows[1][1], rows[2][1]
        console.print(
            f"report build: rollup {build_ms:,.0f} ms vs raw readings {raw_ms:,.0f} ms = {raw_ms / build_ms:.1f}x; "
            f"dashboard page {page_ms:,.0f} ms (target < 1,000 ms: {'met' if page_ms < 1000 else 'NOT met'})"
        )
    finally:
        with psycopg.connect(admin_url, autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=10_000)
    asyncio.run(main(parser.parse_args().patients))
