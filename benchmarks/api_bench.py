"""API/web benchmark: page and statistics latency for a patient with a year of readings.

Run: VITALGATE_DATABASE_URL=postgresql://127.0.0.1:5432/test .venv/bin/python -m benchmarks.api_bench
Creates a fresh database on that server, loads one year for two patients — finger-stick (4 glucose
+ 2 BP a day, ~2,200 readings) and CGM (a glucose every 5 minutes, ~105,000 readings) — and a care
team of 10,000 patients with 5,000 open tasks (benchmarks.worklist_load), and drops it at the end.
Prints the median and p95 latency of each request and the median's ratio to GET /me measured in
the same run (the cost of one authenticated round trip through the app and the pool), page sizes,
then 20 concurrent staff sessions against the app served in its own process for `--seconds`.

    python -m benchmarks api [--seconds 60] [--repeat 30]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit, urlunsplit

import httpx
import numpy as np
import psycopg
from psycopg.types.json import Jsonb
from pydantic import SecretStr
from rich.console import Console
from rich.table import Table

from benchmarks.worklist_bench import Timing, concurrent_sessions, measure_worklist, seed_scale, timed
from vitalgate.api.app import create_app
from vitalgate.core.passwords import hash_password
from vitalgate.core.settings import Settings
from vitalgate.store import people
from vitalgate.store.db import connect, make_pool
from vitalgate.store.migrate import upgrade
from vitalgate.store.readings import STAGING_COLUMNS, write_readings

PASSWORD = "benchmark-password-123"
REPEAT = 30


def _rows(serial: str, kind: str, times: list[datetime], values: dict[str, np.ndarray]) -> list[tuple]:
    out = []
    for i, at in enumerate(times):
        row = {c: None for c in STAGING_COLUMNS}
        row.update(
            id=uuid.uuid5(uuid.NAMESPACE_URL, f"{serial}/{i}"),
            device_serial=serial,
            device_kind="glucose_meter" if kind == "glucose" else "bp_cuff",
            gateway_id="gw-bench",
            kind=kind,
            measured_at=at,
            device_time=at.replace(tzinfo=None),
            received_at=at,
            sequence_number=i,
            status=[],
            context=Jsonb({}),
        )
        row.update({k: float(v[i]) for k, v in values.items()})
        out.append(tuple(row[c] for c in STAGING_COLUMNS))
    return out


async def _seed(url: str) -> dict[str, int]:
    now = datetime.now(UTC)
    rng = np.random.default_rng(7)
    conn = await connect(url)
    ids = {}
    async with conn.transaction():
        team = await people.create_care_team(conn, "Bench team")
        await people.create_user(
            conn,
            "bench-coord",
            "Bench Coordinator",
            "coordinator",
            password_hash=hash_password(PASSWORD),
            care_team_id=team,
        )
        for key, step in (("fingerstick", None), ("cgm", timedelta(minutes=5))):
            pid = await people.create_patient(conn, f"Bench {key}", team)
            ids[key] = pid
            gm, bp = f"GM-bench-{key}", f"BP-bench-{key}"
            await people.bind_device(conn, gm, "glucose_meter", pid, valid_from=now - timedelta(days=400))
            await people.bind_device(conn, bp, "bp_cuff", pid, valid_from=now - timedelta(days=400))
            if step is None:
                times = [now - timedelta(days=d, hours=h) for d in range(365) for h in (2, 7, 12, 17)]
            else:
                times = [now - i * step for i in range(int(timedelta(days=365) / step))]
            glucose = np.clip(rng.normal(150, 45, len(times)), 40, 400)
            await write_readings(conn, _rows(gm, "glucose", times, {"glucose_mg_dl": glucose}))
            bp_times = [now - timedelta(days=d, hours=h) for d in range(365) for h in (3, 15)]
            sys_ = rng.normal(132, 12, len(bp_times))
            await write_readings(
                conn,
                _rows(
                    bp,
                    "blood_pressure",
                    bp_times,
                    {
                        "systolic_mmhg": sys_,
                        "diastolic_mmhg": sys_ * 0.62,
                        "map_mmhg": sys_ * 0.75,
                        "pulse_bpm": rng.normal(72, 8, len(bp_times)),
                    },
                ),
            )
    await conn.execute("ANALYZE readings")
    await conn.commit()
    await conn.close()
    return ids


async def _run(url: str, console: Console, *, repeat: int, seconds: float) -> None:
    ids = await _seed(url)
    team = await seed_scale(url, PASSWORD)
    pool = make_pool(url, max_size=4)
    await pool.open()
    settings = Settings(environment="development", secret_key=SecretStr("bench-" + "x" * 40))
    app = create_app(url, settings=settings, pool=pool)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as client:
            token = (await client.post("/auth/token", data={"username": "bench-coord", "password": PASSWORD})).json()[
                "access_token"
            ]
            bearer = {"Authorization": f"Bearer {token}"}
            login = await client.post("/ui/login", data={"username": "bench-coord", "password": PASSWORD})
            assert login.status_code == 303
            baseline = await timed(client, "/me", repeat, headers=bearer)
            table = Table(
                title=f"{repeat} requests each; baseline GET /me median {baseline.median_ms:.1f} ms, p95 {baseline.p95_ms:.1f} ms"
            )
            for column in ("patient", "request", "median ms", "p95 ms", "x baseline", "kB"):
                table.add_column(column)

            def row(who: str, label: str, took: Timing) -> None:
                table.add_row(
                    who,
                    label,
                    f"{took.median_ms:.1f}",
                    f"{took.p95_ms:.1f}",
                    f"{took.median_ms / baseline.median_ms:.1f}",
                    f"{took.size_bytes / 1000:.1f}",
                )

            year_ago = (datetime.now(UTC) - timedelta(days=365)).isoformat()
            for key, pid in ids.items():
                for label, path, kwargs in (
                    ("patient page (HTML)", f"/ui/patients/{pid}", {}),
                    ("statistics", f"/patients/{pid}/statistics", {"headers": bearer}),
                    (
                        "series, 1 year, auto buckets",
                        f"/patients/{pid}/series",
                        {"headers": bearer, "params": {"kind": "glucose", "since": year_ago}},
                    ),
                    ("daily profile", f"/patients/{pid}/daily-profile", {"headers": bearer}),
                    (
                        "visit report PDF, 90 days",
                        f"/patients/{pid}/report.pdf",
                        {"headers": bearer, "params": {"days": 90}},
                    ),
                    ("FHIR, 500 readings", f"/fhir/Patient/{pid}/Observation", {"headers": bearer}),
                ):
                    row(key, label, await timed(client, path, repeat, **kwargs))
            nurse_token = (
                await client.post("/auth/token", data={"username": team.users["coordinator"], "password": PASSWORD})
            ).json()["access_token"]
            await client.post("/ui/login", data={"username": team.users["coordinator"], "password": PASSWORD})
            scale = {"Authorization": f"Bearer {nurse_token}"}
            for label, took in await measure_worklist(client, scale, repeat):
                row(f"{len(team.patient_ids):,} patients / {len(team.task_ids):,} tasks", label, took)
            console.print(table)
    finally:
        await pool.close()
    load = await concurrent_sessions(url, list(team.users.values()), PASSWORD, seconds)
    console.print(
        f"20 concurrent staff sessions, {seconds:.0f} s, served app (own process, loopback): "
        f"{load['requests']:.0f} requests ({load['rps']:.0f}/s), {load['errors']:.0f} errors, "
        f"median {load['median_ms']:.1f} ms, p95 {load['p95_ms']:.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seconds", type=float, default=60.0, help="length of the concurrent-sessions run")
    parser.add_argument("--repeat", type=int, default=REPEAT, help="requests per measured path")
    args = parser.parse_args()
    admin_url = os.environ.get("VITALGATE_DATABASE_URL", "postgresql://127.0.0.1:5432/test")
    dbname = f"vg_bench_api_{secrets.token_hex(3)}"
    parts = urlsplit(admin_url)
    url = urlunsplit((parts.scheme, parts.netloc, "/" + dbname, parts.query, parts.fragment))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{dbname}"')
    console = Console()
    try:
        upgrade(url)
        asyncio.run(_run(url, console, repeat=args.repeat, seconds=args.seconds))
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')


if __name__ == "__main__":
    main()
