"""Scenarios over simulated weeks against the real PostgreSQL: readings -> episodes -> tasks."""

from __future__ import annotations

from datetime import timedelta

from tests.support.clinic import add_patient, bp, fetch, glucose, seed_team, sim_start, write
from vitalgate.app.pipeline import AlertPipeline, PipelineEvent
from vitalgate.followup.actions import record_outcome
from vitalgate.followup.scheduler import tick
from vitalgate.store.adherence import reading_days
from vitalgate.store.db import connect


async def _setup(database_url, unique, device, tags=None, days_ago=60):
    start = sim_start(days_ago)
    conn = await connect(database_url)
    async with conn.transaction():
        team = await seed_team(conn, unique)
        patient, serial = await add_patient(conn, team["team"], f"p-{unique}", device=device, start=start, tags=tags)
    await conn.close()
    return start, patient, serial


async def _ingest(database_url, pipeline, serial, items, now):
    stored = await write(database_url, serial, items)
    await pipeline(stored, now)
    return stored


async def _tasks(database_url, patient):
    return await fetch(
        database_url,
        "SELECT t.id, t.severity, t.status, a.rule_id, a.status AS alert_status"
        " FROM tasks t JOIN alerts a ON a.id = t.alert_id WHERE t.patient_id = %s ORDER BY t.id",
        patient,
    )


async def test_level2_low_opens_one_urgent_task_and_20_more_lows_open_nothing(database_url, unique):
    start, patient, serial = await _setup(database_url, unique, "glucose_meter", ["diabetes:t1"])
    events: list[PipelineEvent] = []
    pipeline = AlertPipeline(database_url, observer=events.append)
    # Two normal weeks first: 3 readings a day, nothing to alert on.
    for day in range(14):
        for hour, value in ((7, 110.0), (13, 145.0), (19, 128.0)):
            at = start + timedelta(days=day, hours=hour)
            await _ingest(database_url, pipeline, serial, [glucose(at, value)], at + timedelta(minutes=1))
    assert await _tasks(database_url, patient) == []

    low_at = start + timedelta(days=14, hours=8)
    await _ingest(database_url, pipeline, serial, [glucose(low_at, 48.0)], low_at + timedelta(minutes=1))
    tasks = await _tasks(database_url, patient)
    assert [(t["severity"], t["status"], t["rule_id"]) for t in tasks] == [("urgent", "open", "glucose-level2-hypo")]
    assert [e.stage for e in events if e.stage != "stored"] == ["alert", "task"]

    # 20 more lows over the next hours, ingested one by one, plus scheduler ticks: same episode.
    for k in range(20):
        at = low_at + timedelta(minutes=10 * (k + 1))
        await _ingest(database_url, pipeline, serial, [glucose(at, 40.0 + k % 13)], at + timedelta(minutes=1))
        if k % 5 == 0:
            await tick(database_url, at + timedelta(minutes=2), patient_ids=[patient])
    tasks = await _tasks(database_url, patient)
    hypo = [t for t in tasks if t["rule_id"] == "glucose-level2-hypo"]
    assert len(hypo) == 1 and [t["severity"] for t in tasks].count("urgent") == 1
    # The 21 lows raise the variability (CV) task; TIR/TBR are slot-weighted (alerts/README.md): 21
    # checks within a few hours weigh as the few 6-hour slot-days they fall in, not as 21 readings.
    others = sorted(t["rule_id"] for t in tasks if t["rule_id"] != "glucose-level2-hypo")
    assert others == ["glucose-cv-high"]
    alerts = await fetch(
        database_url,
        "SELECT status, evidence FROM alerts WHERE patient_id = %s AND rule_id = 'glucose-level2-hypo'",
        patient,
    )
    assert len(alerts) == 1 and alerts[0]["status"] == "open"
    assert alerts[0]["evidence"]["count"] == 21 and alerts[0]["evidence"]["worst"] == 40.0

    # Re-ingesting and re-running the evaluation creates nothing (idempotent).
    before = await fetch(database_url, "SELECT count(*) AS n FROM alerts WHERE patient_id = %s", patient)
    stored_again = await write(database_url, serial, [glucose(low_at, 48.0)])
    assert stored_again == []
    await tick(database_url, low_at + timedelta(hours=4), patient_ids=[patient])
    await tick(database_url, low_at + timedelta(hours=4), patient_ids=[patient])
    assert await fetch(database_url, "SELECT count(*) AS n FROM alerts WHERE patient_id = %s", patient) == before

    # Normal readings for two days: the episode auto-resolves; the task stays for a person.
    for day in (15, 16):
        at = start + timedelta(days=day, hours=9)
        await _ingest(database_url, pipeline, serial, [glucose(at, 120.0)], at)
    await tick(database_url, start + timedelta(days=16, hours=10), patient_ids=[patient])
    hypo = [t for t in await _tasks(database_url, patient) if t["rule_id"] == "glucose-level2-hypo"]
    assert [(t["status"], t["alert_status"]) for t in hypo] == [("open", "resolved")]
    kinds = [
        r["kind"]
        for r in await fetch(database_url, "SELECT kind FROM task_events WHERE task_id = %s ORDER BY id", hypo[0]["id"])
    ]
    assert "alert_resolved" in kinds

    # A new low after resolution is a new episode with its own task.
    at = start + timedelta(days=17, hours=7)
    await _ingest(database_url, pipeline, serial, [glucose(at, 50.0)], at)
    hypo = [t for t in await _tasks(database_url, patient) if t["rule_id"] == "glucose-level2-hypo"]
    assert [t["alert_status"] for t in hypo] == ["resolved", "open"]


async def test_rising_14_day_systolic_trend_opens_one_routine_task(database_url, unique):
    start, patient, serial = await _setup(database_url, unique, "bp_cuff", ["htn"])
    pipeline = AlertPipeline(database_url)
    # Morning and evening readings, systolic rising ~14 mmHg/week but the mean stays < 135.
    for day in range(14):
        items = [bp(start + timedelta(days=day, hours=h), 100.0 + 2.0 * day + (h == 20), 78.0) for h in (8, 20)]
        await _ingest(database_url, pipeline, serial, items, start + timedelta(days=day, hours=21))
        await tick(database_url, start + timedelta(days=day, hours=23), patient_ids=[patient])
    tasks = await _tasks(database_url, patient)
    assert [(t["severity"], t["rule_id"]) for t in tasks] == [("routine", "bp-systolic-rising")]
    evidence = (await fetch(database_url, "SELECT evidence FROM alerts WHERE patient_id = %s", patient))[0]["evidence"]
    assert 13.0 < evidence["value"] < 15.0 and evidence["unit"] == "mmHg/week"
    # More ticks the next day: still one.
    await tick(database_url, start + timedelta(days=14, hours=6), patient_ids=[patient])
    assert len(await _tasks(database_url, patient)) == 1
    # A nurse resolves it; the trend is still there, but the rule's cooldown (a week) holds it back.
    conn = await connect(database_url)
    async with conn.transaction():
        await record_outcome(conn, tasks[0]["id"], "resolved", actor="nurse:7", now=start + timedelta(days=14, hours=7))
    coverage = await reading_days(conn, [patient], now=start + timedelta(days=14, hours=8))
    await conn.close()
    assert coverage[patient]["reading_days"] == 14 and not coverage[patient]["meets_requirement"]
    await tick(database_url, start + timedelta(days=15, hours=6), patient_ids=[patient])
    assert [(t["status"], t["alert_status"]) for t in await _tasks(database_url, patient)] == [("done", "resolved")]


async def test_four_day_silence_opens_one_missing_data_task_and_a_reading_resolves_it(database_url, unique):
    start, patient, serial = await _setup(database_url, unique, "glucose_meter")
    pipeline = AlertPipeline(database_url)
    await write(database_url, serial, [glucose(start + timedelta(days=d, hours=8), 115.0) for d in range(10)])
    last = start + timedelta(days=9, hours=8)
    opened_at = None
    for hour in range(1, 4 * 24 + 1):  # hourly scheduler ticks through 4 silent days
        now = last + timedelta(hours=hour)
        result = await tick(database_url, now, patient_ids=[patient])
        if result.tasks:
            opened_at = opened_at or now
    tasks = await _tasks(database_url, patient)
    assert [(t["severity"], t["rule_id"], t["status"]) for t in tasks] == [("routine", "no-reading-3-days", "open")]
    # Silent days are whole local dates (the team's zone, UTC here): 3 after the last reading's date,
    # so the first pass after midnight starting the 4th (not 72 h after the reading) opens it.
    assert opened_at == last.replace(hour=0) + timedelta(days=4)
    at = last + timedelta(days=4, hours=2)
    await _ingest(database_url, pipeline, serial, [glucose(at, 118.0)], at)
    assert [t["alert_status"] for t in await _tasks(database_url, patient)] == ["resolved"]


async def test_consecutive_fasting_highs_and_segment_override(database_url, unique):
    from vitalgate.store.rule_overrides import set_segment_override

    start, patient, serial = await _setup(database_url, unique, "glucose_meter", ["diabetes:t2", "program:strict"])
    conn = await connect(database_url)
    async with conn.transaction():
        # This program wants an alert after 2 fasting highs above 160 mg/dL (in mmol/L: 8.9).
        await set_segment_override(
            conn,
            "glucose-fasting-high-3",
            f"program:strict and diabetes:* and not x{unique}",
            {"n": 2, "m": 3, "condition": {"field": "glucose_mg_dl", "op": ">", "value": 8.9, "unit": "mmol/L"}},
        )
    await conn.close()
    pipeline = AlertPipeline(database_url)
    values = [150.0, 170.0, 120.0, 175.0]  # fasting; 2 of the last 3 > 160.3 only after day 3
    for day, value in enumerate(values):
        at = start + timedelta(days=day, hours=7)
        await _ingest(
            database_url,
            pipeline,
            serial,
            [glucose(at, value, meal="fasting"), glucose(at + timedelta(hours=2), 200.0, meal="postprandial")],
            at + timedelta(hours=3),
        )
        rules = [t["rule_id"] for t in await _tasks(database_url, patient)]
        assert rules == ([] if day < 3 else ["glucose-fasting-high-3"]), (day, rules)


async def test_a_late_synced_low_still_opens_a_task_and_names_the_reading(database_url, unique):
    start, patient, serial = await _setup(database_url, unique, "glucose_meter")
    measured = start + timedelta(days=5, hours=3)
    synced = measured + timedelta(days=3)  # the meter was out of range of its hub for three days
    stored = await _ingest(database_url, AlertPipeline(database_url), serial, [glucose(measured, 50.0)], synced)
    tasks = await _tasks(database_url, patient)
    assert [(t["severity"], t["rule_id"]) for t in tasks] == [("urgent", "glucose-level2-hypo")]
    evidence = (await fetch(database_url, "SELECT evidence FROM alerts WHERE patient_id = %s", patient))[0]["evidence"]
    assert evidence["readings"][0]["reading_id"] == str(stored[0].id)
