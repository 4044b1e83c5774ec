"""Episode semantics (alerts/README.md, "Episodes"): a new event always reaches a person.

Each test names the defect of issue 12 it pins; each failed before the fix.
"""

from __future__ import annotations

from datetime import timedelta

from tests.support.clinic import add_patient, fetch, glucose, seed_team, sim_start, write
from vitalgate.app.pipeline import AlertPipeline
from vitalgate.followup.actions import record_outcome
from vitalgate.followup.scheduler import tick
from vitalgate.store.db import connect


async def _patient(database_url, unique):
    start = sim_start(30)
    conn = await connect(database_url)
    async with conn.transaction():
        team = await seed_team(conn, unique)
        patient, serial = await add_patient(conn, team["team"], f"ep-{unique}", device="glucose_meter", start=start)
    await conn.close()
    return start, patient, serial


async def _ingest(database_url, serial, at, value, *, now=None, meal=None):
    stored = await write(database_url, serial, [glucose(at, value, meal=meal)])
    await AlertPipeline(database_url)(stored, now or at + timedelta(minutes=1))


async def _tasks(database_url, patient):
    return await fetch(
        database_url,
        "SELECT t.id, t.severity, t.status, t.due_at, a.rule_id, a.status AS alert_status"
        " FROM tasks t JOIN alerts a ON a.id = t.alert_id WHERE t.patient_id = %s ORDER BY t.id",
        patient,
    )


async def _close(database_url, task_id, outcome, now):
    conn = await connect(database_url)
    async with conn.transaction():
        await record_outcome(conn, task_id, outcome, actor="nurse:1", now=now)
    await conn.close()


def _urgent(tasks):
    return [t for t in tasks if t["rule_id"] == "glucose-level2-hypo"]


async def test_defect1_new_level2_low_after_reached_opens_a_new_urgent_task(database_url, unique):
    start, patient, serial = await _patient(database_url, unique)
    t0 = start + timedelta(days=20, hours=8)
    await _ingest(database_url, serial, t0, 48.0)
    [first] = _urgent(await _tasks(database_url, patient))
    await _close(database_url, first["id"], "reached", t0 + timedelta(minutes=30))
    # Closing with "reached" closes the episode (the team handled this event).
    assert _urgent(await _tasks(database_url, patient))[0]["alert_status"] == "resolved"
    # A re-evaluation on the same evidence opens nothing.
    await tick(database_url, t0 + timedelta(minutes=40), patient_ids=[patient])
    assert len(_urgent(await _tasks(database_url, patient))) == 1
    await _ingest(database_url, serial, t0 + timedelta(hours=1), 45.0)
    tasks = _urgent(await _tasks(database_url, patient))
    assert [(t["severity"], t["status"]) for t in tasks] == [("urgent", "done"), ("urgent", "open")]


async def test_defect1_new_level2_low_after_resolved_within_cooldown_opens_a_new_urgent_task(database_url, unique):
    start, patient, serial = await _patient(database_url, unique)
    t0 = start + timedelta(days=20, hours=8)
    await _ingest(database_url, serial, t0, 48.0)
    [first] = _urgent(await _tasks(database_url, patient))
    await _close(database_url, first["id"], "resolved", t0 + timedelta(minutes=30))
    await _ingest(database_url, serial, t0 + timedelta(hours=2), 39.0)  # well inside the 24 h cooldown
    tasks = _urgent(await _tasks(database_url, patient))
    assert [(t["status"], t["alert_status"]) for t in tasks] == [("done", "resolved"), ("open", "open")]


async def test_defect1_recurrence_without_a_scheduler_pass_is_a_new_episode(database_url, unique):
    start, patient, serial = await _patient(database_url, unique)
    t0 = start + timedelta(days=20, hours=8)
    await _ingest(database_url, serial, t0, 48.0)
    await _ingest(database_url, serial, t0 + timedelta(hours=1), 120.0)  # recovered: the event ended
    await _ingest(database_url, serial, t0 + timedelta(hours=3), 45.0)  # a new low, no tick in between
    tasks = _urgent(await _tasks(database_url, patient))
    assert [(t["status"], t["alert_status"]) for t in tasks] == [("open", "resolved"), ("open", "open")]


async def test_recovery_and_recurrence_synced_in_one_batch_is_a_new_episode(database_url, unique):
    start, patient, serial = await _patient(database_url, unique)
    t0 = start + timedelta(days=20, hours=8)
    await _ingest(database_url, serial, t0, 48.0)
    items = [glucose(t0 + timedelta(hours=1), 125.0), glucose(t0 + timedelta(hours=4), 44.0)]
    await AlertPipeline(database_url)(await write(database_url, serial, items), t0 + timedelta(hours=4, minutes=1))
    assert len(_urgent(await _tasks(database_url, patient))) == 2


async def test_worsening_within_an_episode_is_a_task_event_and_level2_raises_a_level1_task(database_url, unique):
    start, patient, serial = await _patient(database_url, unique)
    t0 = start + timedelta(days=20, hours=8)
    await _ingest(database_url, serial, t0, 62.0)  # level 1: a high task, due in 4 h
    [task] = await _tasks(database_url, patient)
    assert task["severity"] == "high"
    await _ingest(database_url, serial, t0 + timedelta(minutes=20), 48.0)  # level 2: the same task turns urgent
    [task] = await _tasks(database_url, patient)
    assert task["severity"] == "urgent" and task["due_at"] == t0 + timedelta(minutes=21 + 15)
    await _ingest(database_url, serial, t0 + timedelta(minutes=35), 38.0)  # worse again: an event on that task
    events = await fetch(
        database_url, "SELECT kind, detail FROM task_events WHERE task_id = %s ORDER BY id", task["id"]
    )
    kinds = [e["kind"] for e in events]
    assert "severity_raised" in kinds and "worsened" in kinds
    assert [e["detail"]["worst"] for e in events if e["kind"] == "worsened"] == [38.0]
    assert len(await _tasks(database_url, patient)) == 1
    touch = await fetch(
        database_url,
        "SELECT channel FROM touchpoints WHERE task_id = %s AND cancelled_at IS NULL ORDER BY step_index",
        task["id"],
    )
    assert touch and touch[0]["channel"] == "message"
    # Closing the task closes both episodes (level 1 and level 2).
    await _close(database_url, task["id"], "reached", t0 + timedelta(hours=1))
    open_alerts = await fetch(
        database_url, "SELECT rule_id FROM alerts WHERE patient_id = %s AND status <> 'resolved'", patient
    )
    assert open_alerts == []


async def test_meter_hi_is_urgent_and_lo_is_level2(database_url, unique):
    start, patient, serial = await _patient(database_url, unique)
    t0 = start + timedelta(days=20, hours=8)
    hi = glucose(t0, 500.0)
    hi["context"] = {"glucose_comparator": ">"}
    await AlertPipeline(database_url)(await write(database_url, serial, [hi]), t0 + timedelta(minutes=1))
    tasks = await _tasks(database_url, patient)
    assert [t["severity"] for t in tasks] == ["urgent"]
    lo = glucose(t0 + timedelta(hours=5), 20.0)
    lo["context"] = {"glucose_comparator": "<"}
    await AlertPipeline(database_url)(await write(database_url, serial, [lo]), t0 + timedelta(hours=5, minutes=1))
    assert "glucose-level2-hypo" in [t["rule_id"] for t in await _tasks(database_url, patient)]


async def test_predicted_low_on_a_low_already_tasked_joins_that_task(database_url, unique):
    # clinical_bench found the AR2 rule opening a second (high) task on the rechecks of a low the
    # glucose-low group's task already holds: one hypoglycemic event, two tasks.
    start, patient, serial = await _patient(database_url, unique)
    t0 = start + timedelta(days=20, hours=8)
    await _ingest(database_url, serial, t0, 66.0)  # level 1: a high task
    await _ingest(database_url, serial, t0 + timedelta(minutes=15), 92.0)  # treated: episode over, task stays open
    await _ingest(database_url, serial, t0 + timedelta(minutes=30), 74.0)  # falling again: AR2 predicts < 70
    alerts = await fetch(database_url, "SELECT rule_id FROM alerts WHERE patient_id = %s ORDER BY id", patient)
    assert [a["rule_id"] for a in alerts] == ["glucose-level1-hypo", "glucose-predicted-low"]
    [task] = await _tasks(database_url, patient)
    assert task["severity"] == "high"
