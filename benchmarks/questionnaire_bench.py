"""Questionnaire benchmark: completing the enrolment intake (scores, extraction, tags, rules) and the rule cost.

Run: VITALGATE_DATABASE_URL=postgresql://127.0.0.1:5432/test .venv/bin/python -m benchmarks.questionnaire_bench [--patients N]
Creates a fresh database on that server and drops it at the end. For N patients, measured in the
same run:
1. completing the enrolment intake (validate, score, extract 10 tags and 3 fields and an
   observation, set them, run the questionnaire alert rules) vs the baseline of saving the same
   answers as a partial response (validation and one UPDATE only): what completion adds;
2. `evaluate_patients` over the N patients with the shipped rule set vs the same set without its
   questionnaire rules: what the new rule kind costs every scheduled and ingest evaluation.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit, urlunsplit

import psycopg
from rich.console import Console
from rich.table import Table

from vitalgate.alerts.config import QuestionnaireRule, RuleSet, default_rules
from vitalgate.alerts.engine import evaluate_patients
from vitalgate.app.demo_questionnaires import INTAKE, PHQ9
from vitalgate.questionnaires import service
from vitalgate.store import people
from vitalgate.store.db import connect
from vitalgate.store.migrate import upgrade

NOW = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)


def _with_database(url: str, dbname: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + dbname, parts.query, parts.fragment))


async def _patients(conn: psycopg.AsyncConnection, n: int) -> list[int]:
    async with conn.transaction():
        team = await people.create_care_team(conn, "Bench team")
        await people.create_user(conn, "bench-nurse", "Bench Nurse", "nurse", care_team_id=team)
        return [await people.create_patient(conn, f"P{i}", team, external_ref=f"b-{i}") for i in range(n)]


async def _answer_all(
    conn: psycopg.AsyncConnection, patients: list[int], qid: str, answers: dict, complete: bool
) -> float:
    start = time.perf_counter()
    for pid in patients:
        async with conn.transaction():
            response, _ = await service.start_or_resume(
                conn, patient_id=pid, questionnaire_id=qid, entered_by="patient", user_id=None, language="en", now=NOW
            )
            await service.save(conn, response.id, answers, now=NOW, complete=complete)
    return time.perf_counter() - start


async def _evaluate(conn: psycopg.AsyncConnection, patients: list[int], rules: RuleSet, repeat: int = 5) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        async with conn.transaction():
            await evaluate_patients(conn, patients, now=NOW + timedelta(minutes=5), rules=rules)
        best = min(best, time.perf_counter() - start)
    return best


async def main(n: int) -> None:
    admin_url = os.environ["VITALGATE_DATABASE_URL"]
    dbname = f"vg_questionnaire_bench_{secrets.token_hex(3)}"
    with psycopg.connect(admin_url, autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{dbname}"')
    url = _with_database(admin_url, dbname)
    console = Console()
    try:
        upgrade(url)
        conn = await connect(url)
        try:
            patients = await _patients(conn, n)
            partial_s = await _answer_all(conn, patients, "enrolment-intake", INTAKE, complete=False)
            # The partial responses stay open and are resumed: completion is measured on the same rows.
            complete_s = await _answer_all(conn, patients, "enrolment-intake", {}, complete=True)
            await _answer_all(conn, patients, "phq-9", PHQ9[0], complete=True)
            shipped = default_rules()
            without = RuleSet(rules=[r for r in shipped.rules if not isinstance(r, QuestionnaireRule)])
            with_s = await _evaluate(conn, patients, shipped)
            without_s = await _evaluate(conn, patients, without)
        finally:
            await conn.close()
        table = Table("measured", "patients", "seconds", "per patient", title="Questionnaires")
        table.add_row(
            "intake saved as partial (baseline)", f"{n:,}", f"{partial_s:.2f}", f"{partial_s / n * 1000:.1f} ms"
        )
        table.add_row(
            "intake completed (results, tags, rules)", f"{n:,}", f"{complete_s:.2f}", f"{complete_s / n * 1000:.1f} ms"
        )
        table.add_row("evaluate_patients, shipped rules", f"{n:,}", f"{with_s:.3f}", f"{with_s / n * 1000:.2f} ms")
        table.add_row(
            "evaluate_patients, without questionnaire rules",
            f"{n:,}",
            f"{without_s:.3f}",
            f"{without_s / n * 1000:.2f} ms",
        )
        console.print(table)
        console.print(
            f"completing costs {complete_s / partial_s:.1f}x saving the same answers partially;"
            f" questionnaire rules make an evaluation {with_s / without_s:.2f}x the time without them"
        )
    finally:
        with psycopg.connect(admin_url, autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=500)
    asyncio.run(main(parser.parse_args().patients))
