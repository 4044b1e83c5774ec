"""Live worklist (issue 18 item 1): a task opened while a worklist is open reaches it over
Server-Sent Events within 2 s, with the triggering value; other teams' tasks never do."""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from datetime import UTC, datetime, timedelta

import httpx

from benchmarks.worklist_load import load_team
from tests.support.world import PASSWORD, served_app
from vitalgate.store import alerts as alert_store
from vitalgate.store import tasks as task_store
from vitalgate.store.db import connect


async def _open_urgent(url: str, patient: int, team: int, title: str) -> int:
    conn = await connect(url)
    now = datetime.now(UTC)
    async with conn.transaction():
        alert = await alert_store.open_or_update_alert(
            conn,
            patient_id=patient,
            rule_id="glucose-very-low",
            severity="urgent",
            dedup_key=f"sse-{secrets.token_hex(4)}",
            summary=title,
            evidence={
                "rule_kind": "threshold",
                "worst": 41.0,
                "unit": "mg/dL",
                "readings": [{"at": now.isoformat(), "unit": "mg/dL", "glucose_mg_dl": 41.0}],
            },
            now=now,
        )
        task = await task_store.create_task_for_alert(
            conn,
            alert_id=alert.alert_id,
            patient_id=patient,
            care_team_id=team,
            assignee_id=None,
            severity="urgent",
            title=title,
            due_at=now + timedelta(minutes=15),
            now=now,
        )
    await conn.close()
    assert task is not None
    return task


async def test_new_urgent_task_reaches_an_open_worklist_within_2_s(database_url: str) -> None:
    suffix = "sse" + secrets.token_hex(3)
    conn = await connect(database_url)
    async with conn.transaction():
        team = await load_team(conn, suffix, patients=3, open_tasks=3, now=datetime.now(UTC), password=PASSWORD)
        other = await load_team(conn, suffix + "x", patients=1, open_tasks=0, now=datetime.now(UTC), password=PASSWORD)
    await conn.close()
    async with served_app(database_url) as base, httpx.AsyncClient(base_url=base, timeout=10) as client:
        login = await client.post("/ui/login", data={"username": team.users["nurse"], "password": PASSWORD})
        assert login.status_code == 303
        events: list[tuple[float, dict]] = []

        async def listen() -> None:
            async with client.stream("GET", "/worklist/events") as response:
                assert response.status_code == 200
                assert response.headers["content-type"].startswith("text/event-stream")
                async for line in response.aiter_lines():
                    if line.startswith("data: "):
                        events.append((time.monotonic(), json.loads(line[6:])))
                        return

        listening = asyncio.create_task(listen())
        await asyncio.sleep(1.0)  # the stream is open and has polled at least once
        await _open_urgent(database_url, other.patient_ids[0], other.team_id, "Other team's low")
        opened_at = time.monotonic()
        task = await _open_urgent(database_url, team.patient_ids[0], team.team_id, f"Glucose 41 {suffix}")
        await asyncio.wait_for(listening, timeout=5)
    arrived, event = events[0]
    assert event["id"] == task and event["severity"] == "urgent" and event["title"] == f"Glucose 41 {suffix}"
    assert event["trigger"].startswith("41 mg/dL · ")
    assert arrived - opened_at < 2.0
