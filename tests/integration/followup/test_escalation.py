"""Escalation of unanswered tasks on schedule, outcomes, and the worklist actions (real PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, timedelta

import pytest

from tests.support.clinic import add_patient, fetch, glucose, seed_team, sim_start, write
from vitalgate.app.pipeline import AlertPipeline
from vitalgate.core.clock import SimulatedClock
from vitalgate.followup.actions import (
    NoPendingStep,
    TaskClosed,
    TaskNotOpen,
    acknowledge_task,
    escalate_task,
    record_outcome,
    record_patient_response,
)
from vitalgate.followup.scheduler import tick
from vitalgate.store import tasks as task_store
from vitalgate.store.db import connect


async def _low_task(database_url, unique, value, *, doctor=True):
    """A patient whose reading opens one task; returns (clock at the reading, patient, task row, team)."""
    start = sim_start(50)
    conn = await connect(database_url)
    async with conn.transaction():
        team = await seed_team(conn, unique, doctor=doctor)
        patient, serial = await add_patient(conn, team["team"], f"p-{unique}", device="glucose_meter", start=start)
    await conn.close()
    at = start + timedelta(days=2, hours=10)
    await AlertPipeline(database_url)(await write(database_url, serial, [glucose(at, value)]), at)
    tasks = await fetch(database_url, "SELECT * FROM tasks WHERE patient_id = %s", patient)
    assert len(tasks) == 1
    return SimulatedClock(at), patient, tasks[0], team


async def _deliveries(database_url, task_id):
    return await fetch(
        database_url,
        "SELECT at, actor, detail FROM task_events WHERE task_id = %s AND kind = 'delivery' ORDER BY at, id",
        task_id,
    )


async def test_unanswered_high_task_escalates_through_every_touchpoint_on_schedule(database_url, unique):
    clock, patient, task, team = await _low_task(database_url, unique, 62.0)  # level 1: high, standard chain
    assert task["severity"] == "high" and task["escalation_chain"] == "standard"
    t0 = clock.now()
    for _ in range(6 * 12):  # 6 hours of ticks every 5 minutes; nobody answers
        clock.advance(timedelta(minutes=5))
        await tick(database_url, clock.now(), patient_ids=[patient])
    got = [(d["detail"]["channel"], d["at"] - t0, d["actor"]) for d in await _deliveries(database_url, task["id"])]
    # The first step fires on the first tick after creation; then each timer (60 min) from the previous due time.
    assert got == [
        ("message", timedelta(minutes=5), "channel:message"),
        ("questionnaire", timedelta(minutes=60), "channel:questionnaire"),
        ("voice", timedelta(minutes=120), "channel:voice"),
        ("phone", timedelta(minutes=180), "channel:phone"),
        ("doctor", timedelta(minutes=240), "channel:doctor"),
    ]
    after = await task_store.get_task(await connect(database_url), task["id"])
    assert (after.assignee_id, after.escalation_step, after.status) == (team["doctor"], 4, "open")
    kinds = [
        r["kind"]
        for r in await fetch(database_url, "SELECT kind FROM task_events WHERE task_id = %s ORDER BY id", task["id"])
    ]
    assert kinds[:2] == ["created", "escalation_scheduled"] and kinds.count("referred_to_doctor") == 1


async def test_urgent_chain_reaches_a_doctor_within_15_minutes(database_url, unique):
    clock, patient, task, _team = await _low_task(database_url, unique, 45.0)
    t0 = clock.now()
    for _ in range(20):
        clock.advance(timedelta(minutes=1))
        await tick(database_url, clock.now(), patient_ids=[patient], evaluate=False)
    got = [(d["detail"]["channel"], d["at"] - t0) for d in await _deliveries(database_url, task["id"])]
    assert got == [
        ("message", timedelta(minutes=1)),
        ("voice", timedelta(minutes=5)),
        ("phone", timedelta(minutes=10)),
        ("doctor", timedelta(minutes=15)),
    ]


async def test_outcomes_close_or_advance_and_every_step_names_its_actor(database_url, unique):
    clock, patient, task, _team = await _low_task(database_url, unique, 62.0)
    clock.advance(timedelta(minutes=1))
    await tick(database_url, clock.now(), patient_ids=[patient], evaluate=False)  # app message
    conn = await connect(database_url)
    async with conn.transaction():
        assert (await acknowledge_task(conn, task["id"], actor="nurse:1", now=clock.now())).status == "in_progress"
        with pytest.raises(TaskNotOpen, match="is not open"):  # someone already took it
            await acknowledge_task(conn, task["id"], actor="nurse:1", now=clock.now())
    clock.advance(timedelta(minutes=3))
    async with conn.transaction():  # the nurse called and nobody answered: next touchpoint now
        change = await record_outcome(conn, task["id"], "not_reached", actor="nurse:1", now=clock.now())
        assert (change.status, [f.channel for f in change.fired]) == ("in_progress", ["questionnaire"])
    channels = [d["detail"]["channel"] for d in await _deliveries(database_url, task["id"])]
    assert channels == ["message", "questionnaire"]
    alert = (await fetch(database_url, "SELECT status, acknowledged_by FROM alerts WHERE id = %s", task["alert_id"]))[0]
    assert (alert["status"], alert["acknowledged_by"]) == ("acknowledged", "nurse:1")
    # The remaining timers moved with it: the voice step is due 60 minutes after the questionnaire.
    clock.advance(timedelta(minutes=59))
    await tick(database_url, clock.now(), patient_ids=[patient], evaluate=False)
    assert len(await _deliveries(database_url, task["id"])) == 2
    clock.advance(timedelta(minutes=1))
    await tick(database_url, clock.now(), patient_ids=[patient], evaluate=False)
    assert [d["detail"]["channel"] for d in await _deliveries(database_url, task["id"])][-1] == "voice"
    async with conn.transaction():
        change = await record_outcome(
            conn, task["id"], "resolved", actor="nurse:1", now=clock.now(), note="ate, 95 now"
        )
        assert change.status == "done"
        with pytest.raises(TaskClosed, match="is done"):
            await record_outcome(conn, task["id"], "reached", actor="nurse:1", now=clock.now())
    await conn.close()
    clock.advance(timedelta(hours=6))
    await tick(database_url, clock.now(), patient_ids=[patient], evaluate=False)
    assert len(await _deliveries(database_url, task["id"])) == 3  # nothing after the task closed
    events = await fetch(database_url, "SELECT actor, kind FROM task_events WHERE task_id = %s ORDER BY id", task["id"])
    assert ("nurse:1", "acknowledged") in [(e["actor"], e["kind"]) for e in events]
    assert [e["kind"] for e in events][-2:] == ["outcome", "closed"]
    alert = (await fetch(database_url, "SELECT status, resolved_by FROM alerts WHERE id = %s", task["alert_id"]))[0]
    assert (alert["status"], alert["resolved_by"]) == ("resolved", "nurse:1")


async def test_referral_and_patient_response(database_url, unique):
    clock, _patient, task, team = await _low_task(database_url, unique, 62.0)
    conn = await connect(database_url)
    async with conn.transaction():
        await record_outcome(conn, task["id"], "referred_to_doctor", actor="nurse:2", now=clock.now())
    after = await task_store.get_task(conn, task["id"])
    assert after.assignee_id == team["doctor"]
    assert [d["detail"]["channel"] for d in await _deliveries(database_url, task["id"])] == ["doctor"]
    cancelled = await fetch(
        database_url,
        "SELECT count(*) AS n FROM touchpoints WHERE task_id = %s AND cancel_reason = 'referred to doctor'",
        task["id"],
    )
    assert cancelled[0]["n"] == 4
    with pytest.raises(NoPendingStep, match="without a pending escalation step"):  # the doctor step was the last
        async with conn.transaction():
            await escalate_task(conn, task["id"], actor="nurse:2", now=clock.now())
    await conn.close()

    clock2, patient2, task2, _ = await _low_task(database_url, unique + "b", 66.0)
    conn = await connect(database_url)
    clock2.advance(timedelta(minutes=1))
    await tick(database_url, clock2.now(), patient_ids=[patient2], evaluate=False)
    async with conn.transaction():
        await record_patient_response(conn, task2["id"], channel="message", now=clock2.now(), detail={"answer": "ok"})
    await conn.close()
    clock2.advance(timedelta(hours=8))
    await tick(database_url, clock2.now(), patient_ids=[patient2], evaluate=False)
    assert [d["detail"]["channel"] for d in await _deliveries(database_url, task2["id"])] == ["message"]


async def test_showcase_for_the_demo_opens_tasks_of_three_rule_kinds(database_url, unique):
    from datetime import datetime

    from vitalgate.followup.showcase import seed_showcase

    # Midday in the team's zone (UTC): the first messages are not held for the patients' quiet hours.
    now = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0)
    conn = await connect(database_url)
    async with conn.transaction():
        team = await seed_team(conn, unique)
        show = await seed_showcase(conn, team["team"], unique, now)
    await conn.close()
    events = []
    result = await tick(
        database_url, now, patient_ids=show.patient_ids, on_event=lambda stage, d: events.append((stage, d))
    )
    rules = sorted(d["rule"] for s, d in events if s == "task")
    assert rules == ["bp-systolic-rising", "glucose-fasting-high-3", "no-reading-3-days"]
    assert len(result.fired) >= 3  # each new task's first touchpoint (app message) went out in the same tick
    again = await tick(database_url, now, patient_ids=show.patient_ids)
    assert again.tasks == []
