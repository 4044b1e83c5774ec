"""Readings statistics, series, pairing, worklist actions, admin and the create-user command."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import uuid
from datetime import UTC, datetime, time, timedelta

import numpy as np
import psycopg
import pytest

from tests.support.claims import register_claim
from tests.support.world import PASSWORD, World, api_client, seed_world, token
from vitalgate.api.claim import normalise_claim_code


@pytest.fixture(scope="module")
def world(database_url: str) -> World:
    return seed_world(database_url, "feat" + secrets.token_hex(3))


def _glucose_values(url: str, patient_id: int, days: int) -> np.ndarray:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT glucose_mg_dl FROM readings WHERE patient_id = %s AND kind = 'glucose' AND measured_at >= now() - make_interval(days => %s)",
            (patient_id, days),
        ).fetchall()
    return np.array([r[0] for r in rows])


def _utc_reading_days(url: str, patient_id: int, now: datetime) -> int:
    """Distinct UTC dates among the last 30 (today included) with a reading at or before `now`.

    The world's patients keep the default zone (UTC). Before today's first reading (07:05 UTC in the
    world) today has none, so the answer is 29 then and 30 later: it depends on the hour the suite runs.
    """
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT measured_at FROM readings WHERE patient_id = %s AND measured_at > %s AND measured_at <= %s",
            (patient_id, now - timedelta(days=32), now),
        ).fetchall()
    first_day = now.astimezone(UTC).date() - timedelta(days=29)
    return len({d for (m,) in rows if (d := m.astimezone(UTC).date()) >= first_day})


async def test_statistics_match_an_independent_computation(database_url: str, world: World) -> None:
    async with api_client(database_url) as client:
        headers = await token(client, world.users["doctor_a"])
        asked_at = datetime.now(UTC)
        body = (
            await client.get(f"/patients/{world.patients['p1']}/statistics", params={"days": 14}, headers=headers)
        ).json()
        answered_at = datetime.now(UTC)
    values = _glucose_values(database_url, world.patients["p1"], 14)
    g = body["glucose"]
    assert g["readings"] == len(values) > 40
    assert g["mean_mg_dl"] == pytest.approx(values.mean(), abs=0.06)
    # Four finger-sticks a day: the meter variant (% of readings in ranges), never GMI.
    assert g["variant"] == "bgm" and g["ranges_basis"] == "readings" and g["gmi_pct"] is None
    assert {w["figure"] for w in g["withheld"]} == {"gmi"}
    assert g["lowest_mg_dl"] == pytest.approx(values.min()) and g["highest_mg_dl"] == pytest.approx(values.max())
    assert g["cv_pct"] == pytest.approx(values.std(ddof=1) / values.mean() * 100, abs=0.06)
    bands = g["time_in_ranges"]
    expected = {
        "very_low_pct": (values < 54).mean(),
        "low_pct": ((values >= 54) & (values < 70)).mean(),
        "in_range_pct": ((values >= 70) & (values <= 180)).mean(),
        "high_pct": ((values > 180) & (values <= 250)).mean(),
        "very_high_pct": (values > 250).mean(),
    }
    for key, fraction in expected.items():
        assert bands[key] == pytest.approx(fraction * 100, abs=0.06), key
    assert sum(bands.values()) == pytest.approx(100, abs=0.3)
    # The server's "now" lies between the two instants; the count is exact for it (30 only once
    # today's first reading is in: 29 when the suite runs before 07:05 UTC).
    expected_days = {_utc_reading_days(database_url, world.patients["p1"], t) for t in (asked_at, answered_at)}
    assert body["reading_days_last_30"] in expected_days and expected_days <= {29, 30}
    assert body["bp_home_7d"]["readings"] in (13, 14, 15) and 110 < body["bp_home_7d"]["systolic_mean_mmhg"] < 145
    assert {r["kind"] for r in body["latest"]} == {"glucose", "blood_pressure"}


async def test_series_buckets_and_daily_profile(database_url: str, world: World) -> None:
    pid = world.patients["p1"]
    async with api_client(database_url) as client:
        headers = await token(client, world.users["coord_a"])
        year = (
            await client.get(
                f"/patients/{pid}/series",
                params={"kind": "glucose", "since": (datetime.now(UTC) - timedelta(days=365)).isoformat()},
                headers=headers,
            )
        ).json()
        assert year["bucket"] == "1d" and 360 <= len(year["points"]) <= 367
        assert all(p["glucose_min"] <= p["glucose_mean"] <= p["glucose_max"] for p in year["points"])
        assert sum(p["n"] for p in year["points"]) > 1400
        raw = (
            await client.get(
                f"/patients/{pid}/series",
                params={
                    "kind": "blood_pressure",
                    "bucket": "raw",
                    "since": (datetime.now(UTC) - timedelta(days=1)).isoformat(),
                },
                headers=headers,
            )
        ).json()
        assert raw["bucket"] == "raw" and all(p["n"] == 1 and p["systolic_mean"] for p in raw["points"])
        week = (
            await client.get(
                f"/patients/{pid}/series",
                params={
                    "kind": "glucose",
                    "bucket": "7d",
                    "since": "2020-01-01T00:00:00Z",
                    "until": "2020-02-01T00:00:00Z",
                },
                headers=headers,
            )
        ).json()
        assert week["points"] == []
        bad = await client.get(
            f"/patients/{pid}/series",
            params={"kind": "glucose", "since": "2025-02-01T00:00:00Z", "until": "2025-01-01T00:00:00Z"},
            headers=headers,
        )
        assert bad.status_code == 422 and bad.json()["detail"] == "since must be before until"
        profile = (await client.get(f"/patients/{pid}/daily-profile", headers=headers)).json()
        assert [h["hour"] for h in profile["hours"]] == [7, 12, 18, 22]
        # Meter readings at four hours of the day: no percentile bands through 20 of 24 empty hours.
        assert profile["bands_withheld"] == "20 of 24 hours have fewer than 5 readings"
        assert all(h["p05"] is None and h["p95"] is None and h["p50"] for h in profile["hours"])
        assert sum(s["n"] for s in profile["meal_slots"]) == sum(h["n"] for h in profile["hours"])
        tz = await client.get(f"/patients/{pid}/daily-profile", params={"tz": "Mars/Olympus"}, headers=headers)
        assert tz.status_code == 422 and "unknown time zone" in tz.json()["detail"]


def test_typed_claim_codes_are_normalised() -> None:
    code = "0A1B-2C3D-4E5F"
    assert normalise_claim_code(code.lower().replace("-", " ")) == code
    assert normalise_claim_code(code.replace("0", "o").replace("1", "l")) == code
    assert normalise_claim_code("12ab-56") is None and normalise_claim_code("UUUU-UUUU-UUUU") is None


async def test_pairing_by_claim_code_files_earlier_readings_and_rebinding_closes(
    database_url: str, world: World
) -> None:
    unbound = world.serials["unbound"]
    async with api_client(database_url) as client:
        staff = await token(client, world.users["coord_a"])
        listed = (await client.get("/devices/unbound", headers=staff)).json()
        assert any(d["serial"] == unbound and d["unassigned_readings"] == 3 for d in listed)
        p2 = await token(client, world.users["p2"])
        assert (await client.get("/devices/unbound", headers=p2)).status_code == 403
        # A patient cannot pair by serial alone (issue 13: another person's meter, or a pre-claimed serial).
        bare = await client.post(f"/patients/{world.patients['p2']}/devices", headers=p2, json={"serial": unbound})
        assert bare.status_code == 403 and "claim code" in bare.json()["detail"]
        # The patient pairs with the code their hub printed: from now on, so the 3 older readings stay unfiled.
        code = await register_claim(database_url, unbound)
        before_pairing = datetime.now(UTC)
        paired = await client.post(
            f"/patients/{world.patients['p2']}/devices", headers=p2, json={"claim_code": code.lower()}
        )
        assert paired.status_code == 201, paired.text
        assert paired.json()["serial"] == unbound and paired.json()["readings_filed"] == 0
        again = await client.post(f"/patients/{world.patients['p2']}/devices", headers=p2, json={"claim_code": code})
        assert again.status_code == 409 and "already paired" in again.json()["detail"]
        # A patient cannot take a device that is someone else's, even with its code.
        p1 = await token(client, world.users["p1"])
        stolen = await client.post(f"/patients/{world.patients['p1']}/devices", headers=p1, json={"claim_code": code})
        assert stolen.status_code == 409 and "someone else" in stolen.json()["detail"]
        assert (
            await client.post(
                f"/patients/{world.patients['p2']}/devices",
                headers=p2,
                json={"serial": unbound, "valid_from": "2020-01-01T00:00:00Z"},
            )
        ).status_code == 403
        # Staff re-bind it to p1 back-dated: the old binding closes, the unfiled readings are filed to p1.
        moved = await client.post(
            f"/patients/{world.patients['p1']}/devices",
            headers=staff,
            # Before the patient's binding began (measured from before the pairing request, so a slow
            # machine cannot make "a second ago" fall after it).
            json={"serial": unbound, "valid_from": (before_pairing - timedelta(seconds=1)).isoformat()},
        )
        assert moved.status_code == 409 and "after the current binding" in moved.json()["detail"]
        later = datetime.now(UTC) + timedelta(seconds=2)
        moved = await client.post(
            f"/patients/{world.patients['p1']}/devices",
            headers=staff,
            json={"serial": unbound, "valid_from": later.isoformat()},
        )
        assert moved.status_code == 201, moved.text
        p2_devices = (await client.get(f"/patients/{world.patients['p2']}/devices", headers=staff)).json()
        closed = [d for d in p2_devices if d["serial"] == unbound]
        assert len(closed) == 1 and closed[0]["valid_to"] is not None and closed[0]["bound_by"] == world.users["p2"]
        p1_devices = (await client.get(f"/patients/{world.patients['p1']}/devices", headers=staff)).json()
        assert any(
            d["serial"] == unbound and d["valid_to"] is None and d["bound_by"] == world.users["coord_a"]
            for d in p1_devices
        )
        # Unknown serial without a kind, and malformed codes, get advice.
        unknown = await client.post(
            f"/patients/{world.patients['p1']}/devices", headers=staff, json={"serial": "NEVER-SEEN-1"}
        )
        assert unknown.status_code == 404 and "give its kind" in unknown.json()["detail"]
        bad_code = await client.post(
            f"/patients/{world.patients['p1']}/devices", headers=staff, json={"claim_code": "12-34"}
        )
        assert bad_code.status_code == 422
        both = await client.post(
            f"/patients/{world.patients['p1']}/devices",
            headers=staff,
            json={"serial": "A", "claim_code": "123456789ABC"},
        )
        assert both.status_code == 422


async def test_back_dated_staff_binding_files_unassigned_readings(database_url: str, world: World) -> None:
    serial = f"GM-late-{world.suffix}"
    from tests.support.world import reading_row
    from vitalgate.store.db import connect
    from vitalgate.store.readings import write_readings

    conn = await connect(database_url)
    async with conn.transaction():
        now = datetime.now(UTC)
        # The newest unassigned reading is a level-2 low: filing it must raise the alert and task.
        values = {1: 48.0, 2: 100.0, 3: 100.0}
        await write_readings(
            conn,
            [reading_row(serial, "glucose", now - timedelta(days=d), d, glucose_mg_dl=values[d]) for d in (1, 2, 3)],
        )
    await conn.close()
    async with api_client(database_url) as client:
        staff = await token(client, world.users["coord_a"])
        response = await client.post(
            f"/patients/{world.patients['p2']}/devices",
            headers=staff,
            json={"serial": serial, "valid_from": (datetime.now(UTC) - timedelta(days=2, hours=1)).isoformat()},
        )
        assert response.status_code == 201 and response.json()["readings_filed"] == 2
        readings = (await client.get(f"/patients/{world.patients['p2']}/readings", headers=staff)).json()["readings"]
        assert sum(r["device_serial"] == serial for r in readings) == 2
    conn = await connect(database_url)
    low_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{serial}/1"))  # reading_row's id of the 48 mg/dL reading
    cur = await conn.execute(
        "SELECT a.rule_id, t.severity FROM alerts a JOIN tasks t ON t.alert_id = a.id"
        " WHERE a.patient_id = %s AND a.evidence->'readings' @> %s::jsonb",
        (world.patients["p2"], json.dumps([{"reading_id": low_id}])),
    )
    raised = await cur.fetchall()
    await conn.close()
    assert [(r["rule_id"], r["severity"]) for r in raised] == [("glucose-level2-hypo", "urgent")]


async def _set_quiet_hours(database_url: str, patient_id: int, start: time, end: time) -> None:
    from vitalgate.store.db import connect
    from vitalgate.store.time_zones import set_quiet_hours

    conn = await connect(database_url)
    async with conn.transaction():
        await set_quiet_hours(conn, patient_id, start, end)
    await conn.close()


async def test_worklist_order_and_actions(database_url: str, world: World) -> None:
    # It is night for p2 whenever the suite runs (zone UTC, quiet from an hour ago to 3 hours on): a
    # person pressing "escalate" delivers the step now; only the scheduler holds non-urgent contact.
    now = datetime.now(UTC)
    await _set_quiet_hours(
        database_url, world.patients["p2"], (now - timedelta(hours=1)).time(), (now + timedelta(hours=3)).time()
    )
    try:
        await _worklist_order_and_actions(database_url, world)
    finally:
        await _set_quiet_hours(database_url, world.patients["p2"], time(21), time(8))


async def _worklist_order_and_actions(database_url: str, world: World) -> None:
    async with api_client(database_url) as client:
        headers = await token(client, world.users["coord_a"])
        tasks = (await client.get("/tasks", headers=headers)).json()
        rank = {"urgent": 0, "high": 1, "routine": 2}
        keys = [(rank[t["severity"]], t["due_at"]) for t in tasks]
        assert keys == sorted(keys)
        urgent = next(t for t in tasks if t["id"] == world.tasks["urgent_p1"])
        assert urgent["overdue"] and urgent["patient_name"] == "Anna Berg" and "insulin" in urgent["patient_tags"]
        task_id = world.tasks["high_p2"]
        ack = await client.post(f"/tasks/{task_id}/acknowledge", headers=headers)
        assert ack.status_code == 200 and ack.json()["status"] == "in_progress"
        taken = await client.post(f"/tasks/{task_id}/acknowledge", headers=headers)
        assert taken.status_code == 409 and taken.json()["detail"] == f"task {task_id} is not open"
        level = ack.json()["escalation_level"]
        # The engine scheduled a chain; one acknowledgement silences it (issue 15), escalating re-arms it.
        assert ack.json()["next_touchpoint"] is None
        esc = await client.post(f"/tasks/{task_id}/escalate", headers=headers)
        assert esc.status_code == 200, esc.text
        assert esc.json()["escalation_level"] == level + 1
        done = await client.post(
            f"/tasks/{task_id}/outcome", headers=headers, json={"outcome": "reached", "note": "called"}
        )
        assert done.status_code == 200 and done.json()["status"] == "done" and done.json()["outcome"] == "reached"
        assert done.json()["next_touchpoint"] is None  # closing cancels the remaining steps
        again = await client.post(f"/tasks/{task_id}/outcome", headers=headers, json={"outcome": "reached"})
        assert again.status_code == 409 and "done" in again.json()["detail"]
        closed = await client.post(f"/tasks/{task_id}/escalate", headers=headers)
        assert closed.status_code == 409 and closed.json()["detail"] == f"task {task_id} is done"
        bad = await client.post(f"/tasks/{task_id}/outcome", headers=headers, json={"outcome": "made-up"})
        assert bad.status_code == 422
        history = [
            e["kind"]
            for e in (await client.get(f"/patients/{world.patients['p2']}/task-history", headers=headers)).json()
            if e["task_id"] == task_id
        ]
        assert history[0] == "created" and history.index("acknowledged") < history.index("outcome") < history.index(
            "closed"
        )
        assert "escalation_advanced" in history and "delivery" in history  # delivered inside quiet hours


async def test_admin_manages_users_and_teams(database_url: str, world: World) -> None:
    async with api_client(database_url) as client:
        admin = await token(client, world.users["admin"])
        team = (await client.post("/admin/teams", headers=admin, json={"name": f"Team C {world.suffix}"})).json()
        nurse = await client.post(
            "/admin/users",
            headers=admin,
            json={
                "username": f"nurse-{world.suffix}",
                "display_name": "Nina Nurse",
                "role": "nurse",
                "password": PASSWORD,
                "care_team_id": team["id"],
            },
        )
        assert nurse.status_code == 201 and nurse.json()["care_team_ids"] == [team["id"]]
        dup = await client.post(
            "/admin/users",
            headers=admin,
            json={"username": f"nurse-{world.suffix}", "display_name": "Again", "role": "nurse", "password": PASSWORD},
        )
        assert dup.status_code == 409 and "already exists" in dup.json()["detail"]
        weak = await client.post(
            "/admin/users",
            headers=admin,
            json={"username": "x-weak", "display_name": "W", "role": "nurse", "password": "short"},
        )
        assert weak.status_code == 422
        orphan = await client.post(
            "/admin/users",
            headers=admin,
            json={"username": f"pat-{world.suffix}", "display_name": "P", "role": "patient", "password": PASSWORD},
        )
        assert orphan.status_code == 403 and "care team" in orphan.json()["detail"]  # patient logins: the team's
        nurse_headers = await token(client, f"nurse-{world.suffix}")
        assert (await client.get("/patients", headers=nurse_headers)).json() == []
        added = await client.post(
            f"/admin/teams/{world.teams['a']}/members", headers=admin, json={"user_id": nurse.json()["id"]}
        )
        assert added.status_code == 204
        assert len((await client.get("/patients", headers=nurse_headers)).json()) == 2
        # Admins manage accounts but read no clinical data.
        assert (await client.get(f"/patients/{world.patients['p1']}", headers=admin)).status_code == 404


def test_cli_create_user_then_sign_in(database_url: str, world: World) -> None:
    username = f"boot-admin-{world.suffix}"
    env = {**os.environ, "VITALGATE_DATABASE_URL": database_url, "VITALGATE_NEW_USER_PASSWORD": PASSWORD}
    cli = [sys.executable, "-m", "vitalgate.app.cli", "admin", "create-user", username, "--role", "admin"]
    first = subprocess.run(cli, env=env, capture_output=True, text=True, timeout=60)
    assert first.returncode == 0, first.stdout + first.stderr
    assert f"created admin {username}" in first.stdout
    second = subprocess.run(cli, env=env, capture_output=True, text=True, timeout=60)
    assert second.returncode == 1 and "already exists" in second.stdout
    short = subprocess.run(
        [*cli[:-2], "--role", "nurse"],
        env={**env, "VITALGATE_NEW_USER_PASSWORD": "short"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert short.returncode == 2 and "too short" in short.stdout
    with psycopg.connect(database_url) as conn:
        stored = conn.execute("SELECT role, password_hash FROM users WHERE username = %s", (username,)).fetchone()
    assert stored[0] == "admin" and stored[1].startswith("$argon2id$") and PASSWORD not in stored[1]
