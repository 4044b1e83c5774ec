"""The QC pages over HTTP: a reviewer's queue with the checklist, the reviewed nurse's own page, audited, in zh-Hans."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import httpx

from tests.support.world import PASSWORD, served_app
from vitalgate.core.passwords import hash_password
from vitalgate.domain import Outcome
from vitalgate.followup import actions
from vitalgate.programs import qc
from vitalgate.store import people, tasks
from vitalgate.store.db import connect

MONDAY = date(2027, 2, 1)  # a week no other test samples (the draw takes every candidate of the week)
AT = datetime(2027, 2, 2, 9, tzinfo=UTC)


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


async def _login(client: httpx.AsyncClient, username: str) -> None:
    client.cookies.clear()
    assert (await client.post("/ui/login", data={"username": username, "password": PASSWORD})).status_code == 303


async def test_reviewer_queue_checklist_and_the_staff_members_own_page(database_url: str, unique: str) -> None:
    worker, reviewer = f"qcp-worker-{unique}", f"qcp-reviewer-{unique}"
    conn = await connect(database_url, autocommit=True)
    try:
        team = await people.create_care_team(conn, f"qcp-{unique}")
        for name in (worker, reviewer):
            await people.create_user(
                conn, name, "Nurse", "nurse", password_hash=hash_password(PASSWORD), care_team_id=team
            )
        patient = await people.create_patient(conn, "QC Page Patient", team, external_ref=f"qcp-{unique}")
        task = await tasks.create_task(
            conn,
            patient_id=patient,
            care_team_id=team,
            assignee_id=None,
            severity="high",
            title="Check in with the patient",
            due_at=AT + timedelta(hours=1),
            now=AT,
            kind="alert",
        )
        await actions.record_outcome(conn, task, Outcome.REACHED, actor=worker, now=AT + timedelta(minutes=5))
        await qc.sample_week(conn, MONDAY, share=1.0, base_seed=3, now=AT + timedelta(days=7))
        ids = [
            r["id"]
            for r in await (
                await conn.execute("SELECT id FROM qc_samples WHERE task_id = %s ORDER BY id", (task,))
            ).fetchall()
        ]
        assert len(ids) == 2  # the call and the closed task
    finally:
        await conn.close()
    async with served_app(database_url) as base, httpx.AsyncClient(base_url=base) as client:
        assert (await client.get("/ui/qc")).status_code == 303  # sign in first
        await _login(client, worker)
        own = await client.get("/ui/qc")
        assert own.status_code == 200 and 'id="qc-empty"' in own.text  # nobody reviews their own work
        await _login(client, reviewer)
        queue = await client.get("/ui/qc")
        assert all(f'id="qc-{i}"' in queue.text for i in ids) and "Script used" in queue.text
        form = {"csrf": _csrf(queue.text), "script_used": "1", "outcome_documented": "1", "patient_reached": "1"}
        assert (await client.post(f"/ui/qc/{ids[0]}/review", data={**form, "csrf": "forged"})).status_code == 403
        saved = await client.post(f"/ui/qc/{ids[0]}/review", data={**form, "feedback": "Clear call, late by 10 min"})
        assert saved.status_code == 303 and saved.headers["location"] == "/ui/qc?done=reviewed"
        assert (await client.post(f"/ui/qc/{ids[0]}/review", data=form)).status_code == 409  # one review a sample
        after = await client.get("/ui/qc")
        assert f'id="qc-{ids[0]}"' not in after.text and f'id="qc-{ids[1]}"' in after.text
        await _login(client, worker)
        mine = await client.get("/ui/qc/mine")
        row = mine.text.split(f'id="qc-review-{ids[0]}"')[1].split("</tr>")[0]
        assert '<td class="score">75</td>' in row and "Clear call, late by 10 min" in row
        assert "✗ SLA met" in row and "✓ Patient reached" in row
        zh = await client.get("/ui/qc/mine", headers={"Accept-Language": "zh-CN"})
        assert "我的工作评审" in zh.text and "达到时限" in zh.text
    conn = await connect(database_url, autocommit=True)
    try:
        audited = [
            (r["actor"], r["action"], r["patient_id"])
            for r in await (
                await conn.execute(
                    "SELECT actor, action, patient_id FROM audit_log WHERE actor IN (%s, %s) ORDER BY id",
                    (worker, reviewer),
                )
            ).fetchall()
        ]
    finally:
        await conn.close()
    assert (reviewer, "read:qc_queue", patient) in audited and (reviewer, "review:qc", patient) in audited
    assert (worker, "read:qc_own", patient) in audited
