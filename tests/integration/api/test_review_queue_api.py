"""Review queue: held readings are neither filed nor evaluated; staff of the right team list, release or discard them."""

from __future__ import annotations

import asyncio
import os
import secrets
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from tests.support.world import World, api_client, reading_row, seed_world, token
from vitalgate.store.db import connect
from vitalgate.store.review_queue import ReviewReason, hold_for_review


@pytest.fixture(scope="module")
def world(database_url: str) -> World:
    return seed_world(database_url, "rq" + secrets.token_hex(3))


async def _hold(database_url: str, world: World) -> dict[str, tuple]:
    """One held reading for p1 (team A), one for p3 (team B), one of a device nobody owns."""
    old = datetime.now(UTC) - timedelta(days=500)
    rows = {
        "p1": reading_row(world.serials["p1_glucose_meter"], "glucose", old, 90_001, glucose_mg_dl=44.0),
        "p3": reading_row(world.serials["p3_glucose_meter"], "glucose", old, 90_002, glucose_mg_dl=45.0),
        "nobody": reading_row(f"GM-stray-{world.suffix}", "glucose", old, 90_003, glucose_mg_dl=46.0),
    }
    conn = await connect(database_url)
    try:
        async with conn.transaction():
            for key, row in rows.items():
                patient = world.patients.get(key)
                assert await hold_for_review(conn, ReviewReason.BEFORE_BINDING, [row], detail="t", patient_id=patient)
            # Redelivery: the same reading is not queued twice.
            assert await hold_for_review(conn, ReviewReason.BEFORE_BINDING, [rows["p1"]], patient_id=None) == 0
    finally:
        await conn.close()
    return rows


def _stored(database_url: str, reading_id) -> tuple | None:
    with psycopg.connect(database_url) as conn:
        return conn.execute("SELECT patient_id, glucose_mg_dl FROM readings WHERE id = %s", (reading_id,)).fetchone()


async def test_staff_list_release_and_discard_held_readings(database_url: str, world: World) -> None:
    rows = await _hold(database_url, world)
    ids = {key: row[0] for key, row in rows.items()}
    assert all(_stored(database_url, rid) is None for rid in ids.values())  # held: not filed
    async with api_client(database_url) as client:
        coord_a = await token(client, world.users["coord_a"])
        listed = (await client.get("/review-queue", headers=coord_a)).json()
        seen = {item["reading_id"]: item for item in listed}
        assert str(ids["p1"]) in seen and str(ids["nobody"]) in seen
        assert str(ids["p3"]) not in seen  # another team's patient
        assert seen[str(ids["p1"])]["reason"] == "before_binding"
        assert seen[str(ids["p1"])]["patient_id"] == world.patients["p1"]
        for who in ("p1", "admin"):
            response = await client.get("/review-queue", headers=await token(client, world.users[who]))
            assert response.status_code == 403, response.text

        item_p1 = seen[str(ids["p1"])]["id"]
        coord_b = await token(client, world.users["coord_b"])
        assert (await client.post(f"/review-queue/{item_p1}/release", headers=coord_b, json={})).status_code == 404
        released = await client.post(f"/review-queue/{item_p1}/release", headers=coord_a, json={"note": "ok"})
        assert released.status_code == 200, released.text
        assert released.json()["state"] == "released" and released.json()["resolved_by"] == world.users["coord_a"]
        assert _stored(database_url, ids["p1"]) == (world.patients["p1"], 44.0)  # filed to the patient
        again = await client.post(f"/review-queue/{item_p1}/release", headers=coord_a, json={})
        assert again.status_code == 409

        item_nobody = seen[str(ids["nobody"])]["id"]
        no_note = await client.post(f"/review-queue/{item_nobody}/discard", headers=coord_a, json={})
        assert no_note.status_code == 422
        dropped = await client.post(
            f"/review-queue/{item_nobody}/discard", headers=coord_a, json={"note": "meter of a visitor"}
        )
        assert dropped.status_code == 200 and dropped.json()["state"] == "discarded"
        assert _stored(database_url, ids["nobody"]) is None
        still = {i["reading_id"] for i in (await client.get("/review-queue", headers=coord_a)).json()}
        assert not {str(ids["p1"]), str(ids["nobody"])} & still

        admin = await token(client, world.users["admin"])
        trail = (await client.get("/audit", params={"actor": world.users["coord_a"]}, headers=admin)).json()
        actions = {(row["action"], row["patient_id"]) for row in trail}
        assert ("read:review_queue", world.patients["p1"]) in actions
        assert ("change:review_release", world.patients["p1"]) in actions
        assert ("change:review_discard", None) in actions

    cli = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).with_name("vitalgate")),
        "ingest",
        "review",
        "--state",
        "released",
        env={**os.environ, "VITALGATE_DATABASE_URL": database_url, "COLUMNS": "250"},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output = (await asyncio.wait_for(cli.communicate(), 60))[0].decode()
    assert cli.returncode == 0, output
    assert world.serials["p1_glucose_meter"] in output and "before_binding" in output
