"""Enrolment at scale: row-by-row validation, nothing half-imported, idempotent re-runs (real PostgreSQL)."""

from __future__ import annotations

import csv
import io
import secrets

import psycopg
import pytest
from typer.testing import CliRunner

from tests.support.world import World, api_client, seed_world, token
from vitalgate.api.enrol_import import COLUMNS, read_csv, run_import
from vitalgate.store.db import connect


@pytest.fixture(scope="module")
def world(database_url: str) -> World:
    return seed_world(database_url, "enr" + secrets.token_hex(3))


def _csv(rows: list[dict[str, str]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS)
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def _good(i: int, team: str) -> dict[str, str]:
    return {
        "external_id": f"MRN-{i:05d}",
        "display_name": f"患者 {i}",
        "care_team": team,
        "birth_year": "1951",
        "sex": "female" if i % 2 else "male",
        "journey_stage": "chemotherapy",
        "language": "zh-Hans",
        "glucose_unit": "mmol/L",
        "time_zone": "Asia/Shanghai",
        "phone": f"+86 138 0000 {i:04d}",
        "preferred_channel": "sms",
        "target_preset": "older_adult",
        "conditions": "E11:type 2;C50::II:HR+/HER2-",
        "tags": "pilot",
        "caregiver_name": f"Daughter {i}",
        "caregiver_relationship": "child",
        "caregiver_phone": f"+86 139 0000 {i:04d}",
        "caregiver_alerts": "urgent;high",
        "consent_version": "enrol-2026-01",
        "consent_channels": "sms;phone",
        "consent_share_caregiver": "yes",
    }


def _counts(url: str, program: str) -> tuple[int, ...]:
    with psycopg.connect(url) as conn:
        row = conn.execute(
            """
            SELECT count(*),
                   (SELECT count(*) FROM patient_conditions c JOIN patients p ON p.id = c.patient_id WHERE p.program = %(p)s),
                   (SELECT count(*) FROM caregivers g JOIN patients p ON p.id = g.patient_id WHERE p.program = %(p)s),
                   (SELECT count(*) FROM consent_records k JOIN patients p ON p.id = k.patient_id WHERE p.program = %(p)s)
            FROM patients WHERE program = %(p)s
            """,
            {"p": program},
        ).fetchone()
    assert row is not None
    return tuple(row)


async def test_three_bad_rows_are_reported_and_the_rest_imported_once(database_url: str, world: World) -> None:
    team = f"Team A {world.suffix}"
    rows = [_good(i, team) for i in range(10)]
    rows[2]["sex"] = "f"  # not a sex code
    rows[5]["care_team"] = "No Such Team"
    rows[7]["external_id"] = rows[1]["external_id"]  # repeats row 2
    program = f"prog-{world.suffix}"
    conn = await connect(database_url)
    try:
        report = await run_import(conn, read_csv(_csv(rows)), program=program, recorded_by="test")
        assert len(report.accepted) == 7 and report.unchanged == []
        assert [(r.row, r.external_id) for r in report.rejected] == [
            (3, "MRN-00002"),
            (6, "MRN-00005"),
            (8, "MRN-00001"),
        ]
        reasons = [r.reasons[0] for r in report.rejected]
        assert reasons[0].startswith("sex:") and "unknown care team 'No Such Team'" in reasons[1]
        assert reasons[2] == "external_id: MRN-00001 repeats row 2"
        # Per accepted patient: 2 conditions, 1 caregiver, 4 consents (monitoring, sms, phone, share).
        assert _counts(database_url, program) == (7, 14, 7, 28)
        again = await run_import(conn, read_csv(_csv(rows)), program=program, recorded_by="test")
        assert again.accepted == [] and sorted(again.unchanged) == sorted(report.accepted)
        assert len(again.rejected) == 3 and _counts(database_url, program) == (7, 14, 7, 28)
    finally:
        await conn.close()
    async with api_client(database_url) as client:
        staff = await token(client, world.users["coord_a"])
        with psycopg.connect(database_url) as sync:
            pid = sync.execute(
                "SELECT id FROM patients WHERE program = %s AND external_id = 'MRN-00003'", (program,)
            ).fetchone()[0]  # type: ignore[index]
        record = (await client.get(f"/patients/{pid}/record", headers=staff)).json()
        assert record["language"] == "zh-Hans" and record["glucose_unit"] == "mmol/L" and record["birth_year"] == 1951
        assert [c["code"] for c in record["conditions"]] == ["C50", "E11"] and record["conditions"][0]["stage"] == "II"
        caregivers = (await client.get(f"/patients/{pid}/caregivers", headers=staff)).json()
        assert caregivers[0]["sharing_consent"] is True and caregivers[0]["alert_severities"] == ["urgent", "high"]


async def test_a_failing_write_leaves_nothing_behind(database_url: str, world: World, monkeypatch) -> None:
    """Nothing half-imported: a database error in any batch rolls back every batch of the run."""
    from vitalgate.api import enrol_import

    monkeypatch.setattr(enrol_import, "BATCH_ROWS", 2)  # the bad row (index 4) is in the third batch
    team = f"Team A {world.suffix}"
    rows = [_good(i, team) for i in range(5)]
    program = f"atomic-{world.suffix}"
    conn = await connect(database_url)
    try:
        # A phone that passes validation but violates a constraint added here only for this test.
        await conn.execute(
            f"ALTER TABLE patients ADD CONSTRAINT test_no_0004 CHECK (program <> '{program}' OR phone NOT LIKE '%0004')"
        )
        await conn.commit()
        with pytest.raises(psycopg.errors.CheckViolation):
            await run_import(conn, read_csv(_csv(rows)), program=program, recorded_by="test")
        await conn.rollback()
        assert _counts(database_url, program) == (0, 0, 0, 0)
    finally:
        await conn.execute("ALTER TABLE patients DROP CONSTRAINT IF EXISTS test_no_0004")
        await conn.commit()
        await conn.close()


def test_cli_import_reports_rejections_and_exit_code(database_url: str, world: World, tmp_path, monkeypatch) -> None:
    from vitalgate.app.cli import app

    rows = [_good(i, f"Team B {world.suffix}") for i in range(3)]
    rows[1]["conditions"] = "diabetes"
    path = tmp_path / "patients.csv"
    path.write_text(_csv(rows), encoding="utf-8")
    monkeypatch.setenv("VITALGATE_DATABASE_URL", database_url)
    runner = CliRunner()
    result = runner.invoke(app, ["admin", "import-patients", str(path), "--program", f"cli-{world.suffix}"])
    assert result.exit_code == 1, result.output
    assert "2 enrolled" in result.output and "1 rejected" in result.output and "conditions" in result.output
    again = runner.invoke(app, ["admin", "import-patients", str(path), "--program", f"cli-{world.suffix}"])
    assert "0 enrolled, 2 already enrolled" in again.output


async def test_admin_upload_page(database_url: str, world: World) -> None:
    from tests.support.world import PASSWORD

    rows = [_good(i, f"Team A {world.suffix}") for i in range(4)]
    rows[0]["birth_year"] = "1850"
    async with api_client(database_url) as client:
        login = await client.post("/ui/login", data={"username": world.users["admin"], "password": PASSWORD})
        assert login.status_code == 303
        page = await client.get("/ui/admin/import")
        assert page.status_code == 200 and "consent_channels" in page.text
        csrf = page.text.split('name="csrf" value="')[1].split('"')[0]
        posted = await client.post(
            "/ui/admin/import",
            data={"csrf": csrf, "program": f"web-{world.suffix}"},
            files={"file": ("p.csv", _csv(rows).encode(), "text/csv")},
        )
        assert posted.status_code == 200 and "3 enrolled" in posted.text
        assert "birth_year" in posted.text and "MRN-00000" in posted.text
        staff = await token(client, world.users["coord_a"])
        client.cookies.clear()
        refused = await client.get("/ui/admin/import", headers=staff)
        assert refused.status_code in (303, 403)
