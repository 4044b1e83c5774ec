"""The patient's clock over the API and on the pages: zone with history, quiet hours, labelled local times."""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime, time, timedelta

import psycopg
import pytest

from tests.support.world import PASSWORD, World, api_client, reading_row, seed_world, token
from vitalgate.core.localtime import to_instant
from vitalgate.store.db import connect
from vitalgate.store.readings import write_readings

SH = "Asia/Shanghai"


@pytest.fixture(scope="module")
def world(database_url: str) -> World:
    return seed_world(database_url, "clock" + secrets.token_hex(3))


async def test_staff_set_zone_and_quiet_hours_audited_and_patients_cannot(database_url: str, world: World) -> None:
    pid = world.patients["p2"]
    async with api_client(database_url) as client:
        staff = await token(client, world.users["coord_a"])
        before = (await client.get(f"/patients/{pid}/clock", headers=staff)).json()
        assert (before["time_zone"], before["own_time_zone"], before["team_time_zone"]) == ("UTC", None, "UTC")
        assert (before["quiet_start"], before["quiet_end"]) == ("21:00:00", "08:00:00")
        patient = await token(client, world.users["p2"])
        refused = await client.put(f"/patients/{pid}/time-zone", headers=patient, json={"time_zone": SH})
        assert refused.status_code == 403
        bad = await client.put(f"/patients/{pid}/time-zone", headers=staff, json={"time_zone": "Mars/Olympus"})
        assert bad.status_code == 422
        future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
        ahead = await client.put(
            f"/patients/{pid}/time-zone", headers=staff, json={"time_zone": SH, "valid_from": future}
        )
        assert ahead.status_code == 422
        moved = await client.put(f"/patients/{pid}/time-zone", headers=staff, json={"time_zone": SH})
        assert moved.status_code == 200, moved.text
        body = moved.json()
        assert body["time_zone"] == SH and body["time_zone_label"] == "CST, Asia/Shanghai"
        assert [h["time_zone"] for h in body["history"]] == ["UTC", SH] and body["history"][0]["valid_from"] is None
        quiet = await client.put(
            f"/patients/{pid}/quiet-hours", headers=staff, json={"quiet_start": "22:00", "quiet_end": "07:00"}
        )
        assert (quiet.json()["quiet_start"], quiet.json()["quiet_end"]) == ("22:00:00", "07:00:00")
        other_team = await token(client, world.users["coord_b"])
        assert (await client.get(f"/patients/{pid}/clock", headers=other_team)).status_code == 404
    with psycopg.connect(database_url) as conn:
        actions = [
            r[0]
            for r in conn.execute(
                "SELECT action FROM audit_log WHERE patient_id = %s AND action LIKE 'change:%%' ORDER BY id", (pid,)
            ).fetchall()
        ]
    assert actions == ["change:time_zone", "change:quiet_hours"]


async def test_shanghai_patient_page_and_profile_show_0730_readings_at_0730(database_url: str, world: World) -> None:
    pid = world.patients["p3"]  # team B; readings of the last 20 days in the world
    async with api_client(database_url) as client:
        staff_b = await token(client, world.users["coord_b"])
        ok = await client.put(
            f"/patients/{pid}/time-zone",
            headers=staff_b,
            json={"time_zone": SH, "valid_from": (datetime.now(UTC) - timedelta(days=60)).isoformat()},
        )
        assert ok.status_code == 200
    # Five fasting checks at 07:30 Shanghai (23:30 UTC the evening before).
    today = datetime.now(UTC).astimezone().date()
    mornings = [to_instant(today - timedelta(days=d), time(7, 30), SH) for d in range(1, 6)]
    serial = world.serials["p3_glucose_meter"]
    conn = await connect(database_url)
    async with conn.transaction():
        await conn.execute("DELETE FROM readings WHERE patient_id = %s", (pid,))
        await conn.execute("SELECT readings_daily_rebuild(%s, NULL)", (pid,))
        rows = [reading_row(serial, "glucose", t, 9000 + i, glucose_mg_dl=140.0) for i, t in enumerate(mornings)]
        await write_readings(conn, rows)
    await conn.close()
    async with api_client(database_url) as client:
        staff_b = await token(client, world.users["coord_b"])
        profile = (await client.get(f"/patients/{pid}/daily-profile", headers=staff_b)).json()
        assert profile["timezone"] == SH and [(h["hour"], h["n"]) for h in profile["hours"]] == [(7, 5)]
        utc_profile = (await client.get(f"/patients/{pid}/daily-profile", params={"tz": "UTC"}, headers=staff_b)).json()
        assert [(h["hour"], h["n"]) for h in utc_profile["hours"]] == [(23, 5)]
        # The viewer (team B, UTC) sees the patient's local time first, their own after the dot.
        await client.post("/ui/login", data={"username": world.users["coord_b"], "password": PASSWORD})
        page = await client.get(f"/ui/patients/{pid}")
        assert page.status_code == 200
        assert "Times shown in the patient&#39;s local time (CST, Asia/Shanghai)" in page.text
        shown = mornings[-1].astimezone(datetime.now(UTC).tzinfo)
        assert f"07:30 CST · {(shown).strftime('%d %b %H:%M')} UTC (yours)" in page.text
        assert re.search(r'"tz":\s*"Asia/Shanghai"', page.text)
        # A staff user in the patient's zone sees one time only.
        me = await token(client, world.users["coord_b"])
        assert (await client.put("/me/time-zone", headers=me, json={"time_zone": SH})).status_code == 200
        page = await client.get(f"/ui/patients/{pid}")
        # (a binding from before the move still shows its UTC time, with the viewer's after the dot)
        assert "07:30 CST</td>" in page.text and "07:30 CST ·" not in page.text
        worklist = await client.get("/ui/worklist")
        assert "Times shown in UTC" not in worklist.text and "local time" in worklist.text
