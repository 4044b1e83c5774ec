"""The dashboard over HTTP: staff only, empty programs render, bad periods are 400, views and exports audited."""

from __future__ import annotations

import httpx

from tests.support.world import PASSWORD, served_app
from vitalgate.core.passwords import hash_password
from vitalgate.store import people
from vitalgate.store.db import connect


async def test_dashboard_access_empty_program_and_audit(database_url: str, unique: str) -> None:
    conn = await connect(database_url, autocommit=True)
    try:
        team = await people.create_care_team(conn, f"dh-{unique}")
        await people.create_user(
            conn, f"dh-nurse-{unique}", "Nurse", "nurse", password_hash=hash_password(PASSWORD), care_team_id=team
        )
        patient = await people.create_patient(conn, "Dash Patient", team, external_ref=f"dh-{unique}")
        user = await people.create_user(
            conn, f"dh-patient-{unique}", "Patient", "patient", password_hash=hash_password(PASSWORD)
        )
        await people.link_patient_user(conn, patient, user)
    finally:
        await conn.close()
    async with served_app(database_url) as base, httpx.AsyncClient(base_url=base) as client:
        assert (await client.get("/ui/programs/glucose-22w")).status_code == 303  # sign in first
        await client.post("/ui/login", data={"username": f"dh-patient-{unique}", "password": PASSWORD})
        assert (await client.get("/ui/programs/glucose-22w")).status_code == 403  # patients: no
        client.cookies.clear()
        await client.post("/ui/login", data={"username": f"dh-nurse-{unique}", "password": PASSWORD})
        page = await client.get("/ui/programs/glucose-22w?from=2030-01-01&to=2030-02-01")  # nobody enrolled then
        assert page.status_code == 200 and "<svg" in page.text and "Glucose adherence, 22 weeks" in page.text
        assert (await client.get("/ui/programs/nope")).status_code == 404
        assert (await client.get("/ui/programs/glucose-22w?from=2030-02-01&to=2030-01-01")).status_code == 400
        csv = await client.get("/ui/programs/glucose-22w/export.csv?from=2030-01-01&to=2030-02-01")
        assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
        assert "funnel,enrolment rate,all,,,,0,wilson" in csv.text
    conn = await connect(database_url, autocommit=True)
    try:
        actions = [
            r["action"]
            for r in await (
                await conn.execute("SELECT action FROM audit_log WHERE actor = %s ORDER BY id", (f"dh-nurse-{unique}",))
            ).fetchall()
        ]
    finally:
        await conn.close()
    assert actions.count("read:program_report") == 1 and actions.count("export:program_report") == 1
