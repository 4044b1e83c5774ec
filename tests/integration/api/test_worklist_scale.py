"""The worklist at scale (issue 18 item 1): filters, search, keyset pages with true totals, the
triggering value, data-gap reasons, recently closed newest first, and acknowledge assigning the task."""

from __future__ import annotations

import asyncio
import secrets
from datetime import UTC, datetime, timedelta

import pytest

from benchmarks.worklist_load import LoadedTeam, load_team
from tests.support.world import PASSWORD, api_client, token
from vitalgate.store import people
from vitalgate.store import tasks as task_store
from vitalgate.store.db import connect
from vitalgate.store.gateway_status import record_gateway_status
from vitalgate.store.hub_ownership import move_device

OPEN_TASKS = 620
RANK = {"urgent": 0, "high": 1, "routine": 2}


async def _load(url: str, suffix: str) -> LoadedTeam:
    conn = await connect(url)
    try:
        async with conn.transaction():
            return await load_team(
                conn, suffix, patients=150, open_tasks=OPEN_TASKS, now=datetime.now(UTC), password=PASSWORD
            )
    finally:
        await conn.close()


@pytest.fixture(scope="module")
def team(database_url: str) -> LoadedTeam:
    return asyncio.run(_load(database_url, "wl" + secrets.token_hex(3)))


async def _all_pages(client, headers, **params) -> tuple[list[dict], dict]:  # type: ignore[no-untyped-def]
    items, cursor, first = [], None, None
    while True:
        page = await client.get(
            "/worklist", headers=headers, params={**params, **({"cursor": cursor} if cursor else {})}
        )
        assert page.status_code == 200, page.text
        body = page.json()
        first = first or body
        items += body["items"]
        cursor = body["next_cursor"]
        if cursor is None:
            return items, first


async def test_keyset_pages_cover_every_task_once_in_order_with_true_totals(
    database_url: str, team: LoadedTeam
) -> None:
    async with api_client(database_url) as client:
        headers = await token(client, team.users["coordinator"])
        items, first = await _all_pages(client, headers, limit=50)
    assert first["total"] == OPEN_TASKS and sum(first["totals"].values()) == OPEN_TASKS
    assert len(first["items"]) == 50 and first["assignee"] == "all"
    assert len(items) == OPEN_TASKS and len({i["id"] for i in items}) == OPEN_TASKS
    keys = [(RANK[i["severity"]], i["due_at"], i["id"]) for i in items]
    assert keys == sorted(keys)
    assert first["totals"]["urgent"] == sum(1 for i in items if i["severity"] == "urgent")
    assert first["overdue"] == sum(1 for i in items if i["overdue"])


async def test_filters_and_search(database_url: str, team: LoadedTeam) -> None:
    async with api_client(database_url) as client:
        nurse = await token(client, team.users["nurse"])
        mine, body = await _all_pages(client, nurse, limit=200)
        assert body["assignee"] == "mine" and mine  # a nurse starts on her own tasks
        assert {i["assignee_id"] for i in mine} == {team.user_ids["nurse"]}
        everyone = (await client.get("/worklist", headers=nurse, params={"assignee": "all"})).json()
        assert everyone["total"] == OPEN_TASKS > body["total"]
        coord = await token(client, team.users["coordinator"])

        async def check(params: dict, keep) -> list[dict]:  # type: ignore[no-untyped-def]
            got, body = await _all_pages(client, coord, limit=200, **params)
            assert got and body["total"] == len(got) and all(keep(i) for i in got), params
            return got

        await check({"severity": "urgent"}, lambda i: i["severity"] == "urgent")
        await check({"severity": ["urgent", "high"]}, lambda i: i["severity"] in ("urgent", "high"))
        await check({"assignee": "unassigned"}, lambda i: i["assignee_id"] is None)
        await check({"rule_kind": "trend"}, lambda i: i["rule_kind"] == "trend")
        await check({"overdue": "true"}, lambda i: i["overdue"])
        await check({"overdue": "false"}, lambda i: not i["overdue"])
        await check({"patient_responded": "true"}, lambda i: i["patient_responded"])
        await check({"tag": "insulin"}, lambda i: "insulin" in i["patient_tags"])
        ref = f"EXT-{team.users['nurse'].split('-', 1)[1]}-00042"
        by_ref = await check({"q": ref.lower()}, lambda i: i["patient_ref"] == ref)
        by_name = await check({"q": "patient 00042"}, lambda i: i["patient_ref"] == ref)
        assert {i["id"] for i in by_ref} == {i["id"] for i in by_name}
        nothing = (await client.get("/worklist", headers=coord, params={"q": "%"})).json()
        assert nothing["total"] == 0  # LIKE wildcards are literal text
        assert (await client.get("/worklist", headers=coord, params={"cursor": "bogus"})).status_code == 422
        other = await client.get("/worklist", headers=coord, params={"care_team_id": 2**40})
        assert other.status_code == 404


async def test_rows_show_trigger_value_latest_reading_and_gap_reason(database_url: str, team: LoadedTeam) -> None:
    async with api_client(database_url) as client:
        coord = await token(client, team.users["coordinator"])
        lows = (await client.get("/worklist", headers=coord, params={"severity": "urgent", "limit": 200})).json()
        low = next(i for i in lows["items"] if i["rule_id"] == "glucose-very-low")
        assert low["trigger"]["text"].endswith(" mg/dL") and int(low["trigger"]["text"].split()[0]) < 54
        assert len(low["trigger"]["local_time"]) == 5  # HH:MM in the patient's zone
        crisis = next(i for i in lows["items"] if i["rule_id"] == "bp-crisis")
        assert crisis["trigger"]["text"].endswith(" mmHg") and "/" in crisis["trigger"]["text"]
        gaps = (await client.get("/worklist", headers=coord, params={"rule_kind": "missing_data"})).json()["items"]
        assert {g["data_gap_reason"] for g in gaps} == {"device_unpaired"}  # nobody has a device yet
        patient = gaps[0]["patient_id"]
        serial = f"GM-gap-{secrets.token_hex(3)}"
        conn = await connect(database_url)
        async with conn.transaction():
            await people.bind_device(conn, serial, "glucose_meter", patient)
            await move_device(
                conn, serial, "gw-gap", reason="test", actor="t", actor_id=None, role="admin", source=None
            )
            await record_gateway_status(
                conn, "gw-gap", online=False, backlog=None, last_publish_at=None, seen_at=datetime.now(UTC)
            )
        reasons = await _reason(client, coord, patient)
        assert reasons == {"hub_offline"}
        async with conn.transaction():
            await record_gateway_status(
                conn, "gw-gap", online=True, backlog=12, last_publish_at=None, seen_at=datetime.now(UTC)
            )
        assert await _reason(client, coord, patient) == {"hub_backlog"}
        async with conn.transaction():
            await record_gateway_status(
                conn, "gw-gap", online=True, backlog=0, last_publish_at=None, seen_at=datetime.now(UTC)
            )
        assert await _reason(client, coord, patient) == {"stopped_measuring"}
        await conn.close()


async def _reason(client, headers, patient_id: int) -> set[str]:  # type: ignore[no-untyped-def]
    items, _ = await _all_pages(client, headers, rule_kind="missing_data", limit=200)
    return {i["data_gap_reason"] for i in items if i["patient_id"] == patient_id}


async def test_acknowledge_assigns_the_task_to_who_took_it(database_url: str, team: LoadedTeam) -> None:
    """Regression: 'Task acknowledged: it is yours now' while the task stayed with another nurse."""
    async with api_client(database_url) as client:
        nurse2 = await token(client, team.users["nurse2"])
        theirs = (
            await client.get("/worklist", headers=nurse2, params={"assignee": str(team.user_ids["nurse"])})
        ).json()
        task = next(i for i in theirs["items"] if i["status"] == "open")
        taken = await client.post(f"/tasks/{task['id']}/acknowledge", headers=nurse2)
        assert taken.status_code == 200
        assert taken.json()["assignee_id"] == team.user_ids["nurse2"] and taken.json()["status"] == "in_progress"
        mine, _ = await _all_pages(client, nurse2, limit=200)
        assert task["id"] in {i["id"] for i in mine}
        history = (await client.get(f"/patients/{task['patient_id']}/task-history", headers=nurse2)).json()
        ack = next(e for e in history if e["task_id"] == task["id"] and e["kind"] == "acknowledged")
        assert ack["detail"]["assignee_id"] == team.user_ids["nurse2"]


async def test_recently_closed_is_newest_first_beyond_500_closed(database_url: str) -> None:
    """Regression: the page took 500 closed tasks in severity/due order, then sorted those: a routine
    task due late but closed a minute ago was missing while ones closed 10 days ago showed."""
    suffix = "rc" + secrets.token_hex(3)
    now = datetime.now(UTC)
    conn = await connect(database_url)
    async with conn.transaction():
        team = await load_team(
            conn, suffix, patients=20, open_tasks=0, closed_tasks=520, now=now - timedelta(days=10), password=PASSWORD
        )
        fresh = await task_store.create_task(
            conn,
            patient_id=team.patient_ids[0],
            care_team_id=team.team_id,
            assignee_id=None,
            severity="routine",
            title=f"Closed a minute ago {suffix}",
            due_at=now + timedelta(days=30),
            now=now - timedelta(minutes=5),
            kind="check_in",
        )
        await task_store.close_task(conn, fresh, outcome="reached", now=now - timedelta(minutes=1))
    await conn.close()
    async with api_client(database_url) as client:
        login = await client.post("/ui/login", data={"username": team.users["coordinator"], "password": PASSWORD})
        assert login.status_code == 303
        page = await client.get("/ui/worklist")
    assert page.status_code == 200
    closed = page.text.split("Recently closed", 1)[1]
    assert f"Closed a minute ago {suffix}" in closed


async def test_bulk_actions_take_routine_tasks_only(database_url: str, team: LoadedTeam) -> None:
    async with api_client(database_url) as client:
        coord = await token(client, team.users["coordinator"])
        routine = (
            await client.get("/worklist", headers=coord, params={"severity": "routine", "assignee": "unassigned"})
        ).json()["items"]
        urgent = (await client.get("/worklist", headers=coord, params={"severity": "urgent"})).json()["items"][0]
        ids = [i["id"] for i in routine[:5] if i["status"] == "open"]
        body = {"task_ids": [*ids, urgent["id"], 2**40], "action": "outcome", "outcome": "resolved"}
        result = await client.post("/tasks/bulk", headers=coord, json=body)
        assert result.status_code == 200, result.text
        assert result.json()["done"] == ids
        skipped = result.json()["skipped"]
        assert skipped[str(urgent["id"])] == "only routine tasks are handled in bulk"
        assert skipped[str(2**40)] == "not found"
        again = await client.post("/tasks/bulk", headers=coord, json=body)
        assert again.json()["done"] == [] and all("done" in again.json()["skipped"][str(i)] for i in ids)
        left = (await client.get("/worklist", headers=coord, params={"severity": "routine", "limit": 200})).json()
        assert not {i["id"] for i in left["items"]} & set(ids)
        missing = await client.post("/tasks/bulk", headers=coord, json={"task_ids": ids, "action": "outcome"})
        assert missing.status_code == 422


async def test_program_filter_keeps_patients_enrolled_now(database_url: str, team: LoadedTeam) -> None:
    conn = await connect(database_url)
    now = datetime.now(UTC)
    program = f"prog-{secrets.token_hex(3)}"
    enrolled, withdrawn = team.patient_ids[3], team.patient_ids[4]
    async with conn.transaction():
        for pid, steps in ((enrolled, ("invited", "enrolled")), (withdrawn, ("enrolled", "withdrawn"))):
            for i, step in enumerate(steps):
                await conn.execute(
                    "INSERT INTO program_enrolment_events (program_id, patient_id, step, at, actor, reason)"
                    " VALUES (%s, %s, %s, %s, 'test', %s)",
                    (program, pid, step, now - timedelta(days=5 - i), "moved away" if step == "withdrawn" else None),
                )
    await conn.close()
    async with api_client(database_url) as client:
        coord = await token(client, team.users["coordinator"])
        items, body = await _all_pages(client, coord, program=program, limit=200)
    assert items and {i["patient_id"] for i in items} == {enrolled}
    assert body["total"] == len(items)
