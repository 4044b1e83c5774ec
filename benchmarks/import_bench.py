"""Enrolment benchmark: 10,000 CSV patients through `run_import` (COPY batches) vs row-by-row INSERTs.

Run: VITALGATE_DATABASE_URL=postgresql://127.0.0.1:5432/test .venv/bin/python -m benchmarks.import_bench [--rows N]
Creates a fresh database on that server and drops it at the end. Each generated row carries what
a real enrolment file does: record fields, two conditions, a caregiver and four consents. Both
paths write the same rows (the baseline into a second program) and both include validation; the
baseline then issues one INSERT per patient, condition, caregiver and consent in one transaction.
Prints rows/s of each and the ratio, and the re-run (idempotent, writes nothing) time.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import os
import secrets
import time
from datetime import UTC, datetime
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg.types.json import Jsonb
from rich.console import Console
from rich.table import Table

from vitalgate.api.enrol_import import COLUMNS, read_csv, run_import, validate_rows
from vitalgate.store import consent as consent_store
from vitalgate.store import enrolment
from vitalgate.store.db import connect
from vitalgate.store.migrate import upgrade

TEAM = "Bench team"


def generate_csv(n: int) -> str:
    """n valid enrolment rows (Shanghai program: Chinese UI, mmol/L, SMS, a daughter as caregiver)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS)
    writer.writeheader()
    for i in range(n):
        writer.writerow(
            {
                "external_id": f"MRN-{i:07d}",
                "display_name": f"患者 {i}",
                "care_team": TEAM,
                "birth_date": f"19{40 + i % 50:02d}-0{1 + i % 9}-1{i % 10}",
                "sex": ("female", "male")[i % 2],
                "journey_stage": ("newly_diagnosed", "post_operative", "chemotherapy", "long_term")[i % 4],
                "language": "zh-Hans",
                "glucose_unit": "mmol/L",
                "time_zone": "Asia/Shanghai",
                "phone": f"+86 138 {i:08d}",
                "preferred_channel": "sms",
                "target_preset": ("standard", "older_adult")[i % 2],
                "conditions": "E11:type 2;I10",
                "tags": "pilot",
                "caregiver_name": f"Daughter {i}",
                "caregiver_relationship": "child",
                "caregiver_phone": f"+86 139 {i:08d}",
                "caregiver_alerts": "urgent;high",
                "consent_version": "enrol-2026-01",
                "consent_channels": "sms;phone",
                "consent_share_caregiver": "yes",
            }
        )
    return out.getvalue()


async def row_by_row(url: str, text: str, program: str) -> float:
    """Baseline: the same validation, then one INSERT statement per row of every table."""
    conn = await connect(url)
    start = time.perf_counter()
    try:
        teams = await enrolment.care_teams_by_name(conn)
        accepted, _ = validate_rows(read_csv(text), teams, program=program, default_team=None, now=datetime.now(UTC))
        async with conn.transaction():
            for p in accepted:
                cur = await conn.execute(
                    "INSERT INTO patients (external_id, display_name, care_team_id, program, tags, birth_date, sex,"
                    " journey_stage, language, glucose_unit, time_zone, phone, preferred_channel, target_preset, targets)"
                    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
                    (p.external_id, p.display_name, p.care_team_id, p.program, list(p.tags), p.birth_date, p.sex,
                     p.journey_stage, p.language, p.glucose_unit, p.time_zone, p.phone, p.preferred_channel,
                     p.target_preset, Jsonb(p.targets)),
                )  # fmt: skip
                pid = (await cur.fetchone())["id"]  # type: ignore[index]
                for c in p.conditions:
                    await conn.execute(
                        "INSERT INTO patient_conditions (patient_id, code_system, code, type) VALUES (%s, %s, %s, %s)",
                        (pid, c.code_system, c.code, c.type),
                    )
                caregiver_ids = {}
                for g in p.caregivers:
                    cur = await conn.execute(
                        "INSERT INTO caregivers (patient_id, name, relationship, phone, language, alert_severities)"
                        " VALUES (%s, %s, %s, %s, %s, %s) RETURNING id",
                        (pid, g.name, g.relationship, g.phone, g.language, list(g.alert_severities)),
                    )
                    caregiver_ids[g.name] = (await cur.fetchone())["id"]  # type: ignore[index]
                for k in p.consents:
                    new = consent_store.NewConsent(
                        k.purpose, k.decision, k.text_version, k.effective_at, k.given_by, "bench",  # type: ignore[arg-type]
                        channel=k.channel, caregiver_id=caregiver_ids.get(k.caregiver_name or ""),
                    )  # fmt: skip
                    await conn.execute(consent_store.INSERT_SQL, consent_store.insert_params(pid, new))
    finally:
        await conn.close()
    return time.perf_counter() - start


async def bulk(url: str, text: str, program: str) -> tuple[float, int]:
    conn = await connect(url)
    start = time.perf_counter()
    try:
        report = await run_import(conn, read_csv(text), program=program, recorded_by="bench")
    finally:
        await conn.close()
    return time.perf_counter() - start, len(report.accepted)


def _with_database(url: str, dbname: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + dbname, parts.query, parts.fragment))


async def main(rows: int) -> None:
    admin_url = os.environ["VITALGATE_DATABASE_URL"]
    dbname = f"vg_import_bench_{secrets.token_hex(3)}"
    with psycopg.connect(admin_url, autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{dbname}"')
    url = _with_database(admin_url, dbname)
    console = Console()
    try:
        upgrade(url)
        with psycopg.connect(url) as c:
            c.execute("INSERT INTO care_teams (name) VALUES (%s)", (TEAM,))
        text = generate_csv(rows)
        bulk_s, enrolled = await bulk(url, text, "bulk")
        assert enrolled == rows, enrolled
        rerun_s, again = await bulk(url, text, "bulk")
        assert again == 0
        naive_s = await row_by_row(url, text, "baseline")
        table = Table(
            "path", "rows", "seconds", "rows/s", title=f"Importing {rows:,} patients (CSV, ~{len(text) // 1024} KiB)"
        )
        table.add_row("run_import (COPY batches)", f"{rows:,}", f"{bulk_s:.2f}", f"{rows / bulk_s:,.0f}")
        table.add_row("row-by-row INSERT baseline", f"{rows:,}", f"{naive_s:.2f}", f"{rows / naive_s:,.0f}")
        table.add_row("re-run (idempotent, writes nothing)", f"{rows:,}", f"{rerun_s:.2f}", f"{rows / rerun_s:,.0f}")
        console.print(table)
        console.print(f"COPY path is {naive_s / bulk_s:.1f}x the row-by-row baseline; target: 10,000 rows < 60 s")
    finally:
        with psycopg.connect(admin_url, autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    asyncio.run(main(parser.parse_args().rows))
