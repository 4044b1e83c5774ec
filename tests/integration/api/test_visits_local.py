"""POST /patients/{id}/visits: an offset-less visit time is the patient's local wall clock (issue 14 item 4).

Before, no route scheduled visits (only the CLI, which read such a time as UTC)."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from tests.support.world import PASSWORD, api_client, token
from vitalgate.core.passwords import hash_password
from vitalgate.store import people, time_zones
from vitalgate.store.db import connect


async def _setup(url: str, suffix: str) -> dict[str, int | str]:
    conn = await connect(url)
    async with conn.transaction():
        team = await people.create_care_team(conn, f"Visits {suffix}")
        pw = hash_password(PASSWORD)
        await people.create_user(conn, f"nurse-{suffix}", "Nurse", "nurse", password_hash=pw, care_team_id=team)
        ids: dict[str, int | str] = {"nurse": f"nurse-{suffix}"}
        for key, zone_name in (("ny", "America/New_York"), ("sh", "Asia/Shanghai")):
            pid = await people.create_patient(conn, f"V {key}", team)
            await time_zones.set_patient_time_zone(
                conn, pid, zone_name, valid_from=datetime(2026, 1, 1, tzinfo=UTC), now=datetime.now(UTC), actor="t"
            )
            ids[key] = pid
    await conn.close()
    return ids


async def test_visit_times_without_offset_are_the_patients_local_time(database_url: str) -> None:
    ids = await _setup(database_url, secrets.token_hex(3))
    async with api_client(database_url) as client:
        headers = await token(client, str(ids["nurse"]))

        async def visit(pid: int | str, at: str) -> dict:
            response = await client.post(f"/patients/{pid}/visits", json={"at": at}, headers=headers)
            assert response.status_code == 201, response.text
            return response.json()

        sh = await visit(ids["sh"], "2030-10-06T09:00:00")
        assert sh["at"] == "2030-10-06T01:00:00Z" and sh["time_zone"] == "Asia/Shanghai" and sh["created"]
        # Spring gap (10 Mar 2030, New York): 02:30 does not exist -> 03:30 EDT; autumn overlap
        # (3 Nov 2030): 01:30 happens twice -> the first, EDT.
        assert (await visit(ids["ny"], "2030-03-10T02:30:00"))["at"] == "2030-03-10T07:30:00Z"
        assert (await visit(ids["ny"], "2030-11-03T01:30:00"))["at"] == "2030-11-03T05:30:00Z"
        assert (await visit(ids["ny"], "2030-11-03T01:30:00-05:00"))["at"] == "2030-11-03T06:30:00Z"
        again = await visit(ids["sh"], "2030-10-06T01:00:00Z")  # the same instant, written in UTC
        assert again["sop_instance_id"] == sh["sop_instance_id"] and not again["created"]
        refused = await client.post(
            f"/patients/{ids['sh']}/visits", json={"at": "2030-10-06T09:00", "chain": "nope"}, headers=headers
        )
        assert refused.status_code == 422
