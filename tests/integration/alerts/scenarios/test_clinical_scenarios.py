"""Clinical scenarios through the whole chain (issue 12, item 6): wire-contract batches over MQTT to a
real `vitalgate ingest run` process (clock injected), rules, episodes, tasks, scheduler passes.

Each scenario states the tasks a care team must see. The first four are the defects of issue 12:
a level-2 low after a task closed with "reached" or "resolved", a recurrence without a scheduler
pass, a clockless meter a year off, and "no reading" tasks for a patient no longer monitored.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest

from tests.support.clinic import fetch, sim_start
from tests.support.scenario import ScenarioRun
from vitalgate.store import monitoring, people
from vitalgate.store.db import connect

MINUTE = timedelta(minutes=1)


@pytest.fixture
async def scenario(database_url, mqtt_config, unique, tmp_path):
    url = f"mqtt://{mqtt_config.host}:{mqtt_config.port}"
    async with ScenarioRun(database_url, url, mqtt_config.protocol, unique, tmp_path) as run:
        yield run


async def _normal_week(run, patient, start):
    """A week of four finger sticks a day around meals, all in range."""
    for day in range(7):
        batch = [
            run.glucose(patient, start + timedelta(days=day, hours=h), v)
            for h, v in ((7, 105), (12, 140), (18, 150), (22, 118))
        ]
        await run.publish(batch, start + timedelta(days=day, hours=22, minutes=5))


@pytest.mark.parametrize("outcome", ["reached", "resolved"])
async def test_level2_low_after_the_first_task_was_closed_opens_a_new_urgent_task_within_a_minute(scenario, outcome):
    start = sim_start(20)
    p = await scenario.add_patient(f"closed-{outcome}", start)
    await _normal_week(scenario, p, start)
    t0 = start + timedelta(days=8, hours=8)
    await scenario.reading(p, t0, 48.0)
    [first] = await scenario.urgent(p)
    await scenario.close_task(first["id"], outcome, t0 + timedelta(minutes=30))
    await scenario.tick(t0 + timedelta(minutes=45), p)  # a pass on the same evidence opens nothing
    assert len(await scenario.urgent(p)) == 1
    await scenario.reading(p, t0 + timedelta(hours=1), 45.0)
    tasks = await scenario.urgent(p)
    assert [(t["status"], t["alert_status"]) for t in tasks] == [("done", "resolved"), ("open", "open")]
    assert tasks[1]["created_at"] - (t0 + timedelta(hours=1)) <= MINUTE


@pytest.mark.parametrize("scheduler_pass", [False, True])
async def test_recurrence_after_recovery_is_a_new_urgent_task_with_or_without_a_scheduler_pass(
    scenario, scheduler_pass
):
    start = sim_start(20)
    p = await scenario.add_patient(f"recur-{scheduler_pass}", start)
    t0 = start + timedelta(days=3, hours=8)
    await scenario.reading(p, t0, 48.0)
    await scenario.reading(p, t0 + timedelta(hours=1), 120.0)
    if scheduler_pass:
        await scenario.tick(t0 + timedelta(hours=2), p)
    await scenario.reading(p, t0 + timedelta(hours=3), 45.0)
    assert [(t["status"], t["alert_status"]) for t in await scenario.urgent(p)] == [
        ("open", "resolved"),
        ("open", "open"),
    ]


async def test_worsening_within_an_episode_raises_the_task_and_is_recorded(scenario):
    start = sim_start(20)
    p = await scenario.add_patient("worse", start)
    t0 = start + timedelta(days=3, hours=8)
    await scenario.reading(p, t0, 62.0)
    await scenario.reading(p, t0 + timedelta(minutes=15), 48.0)
    await scenario.reading(p, t0 + timedelta(minutes=30), 38.0)
    [task] = await scenario.tasks(p)
    assert task["severity"] == "urgent" and task["due_at"] == t0 + timedelta(minutes=16 + 15)
    kinds = [
        e["kind"]
        for e in await fetch(scenario.database_url, "SELECT kind FROM task_events WHERE task_id = %s", task["id"])
    ]
    assert "severity_raised" in kinds and "worsened" in kinds


async def test_meter_hi_and_lo_open_urgent_tasks(scenario):
    start = sim_start(20)
    p = await scenario.add_patient("hilo", start)
    t0 = start + timedelta(days=3, hours=8)
    await scenario.reading(p, t0, 500.0, comparator=">", status=["result too high"])
    assert [(t["severity"], t["rule_id"]) for t in await scenario.tasks(p)] in (
        [("urgent", "glucose-level2-hyper")],  # the > 250 task raised by HI in the same batch
        [("urgent", "glucose-meter-hi")],
    )
    await scenario.reading(p, t0 + timedelta(hours=6), 20.0, comparator="<", status=["result too low"])
    assert "glucose-level2-hypo" in [t["rule_id"] for t in await scenario.urgent(p)]


async def test_clockless_meter_a_year_off_is_filed_now_flagged_and_alerts(scenario, tmp_path):
    from vitalgate.app.fleet import VirtualHubRadio
    from vitalgate.devices.virtual import VirtualGlucoseMeter, VirtualRadio
    from vitalgate.gateway.outbox import HubStore
    from vitalgate.gateway.pairing import pair_device
    from vitalgate.gateway.sync import sync_device

    now = datetime.now(UTC)
    p = await scenario.add_patient("clockless", now - timedelta(days=30))
    meter = VirtualGlucoseMeter(serial=p.serial, omit_optional=True, clock_skew=timedelta(days=-365))
    meter.add_record(45.0, base_time=meter.now().replace(microsecond=0))
    store = HubStore(tmp_path / "hub.sqlite")
    async with VirtualRadio() as vr:
        radio = VirtualHubRadio(vr)
        address = await vr.add(meter)
        await pair_device(radio, store, address)
        async with radio.client(address) as client:
            await client.pair()
            await sync_device(client, store, store.device(address))
    [item] = store.next_batch(10)
    reading = json.loads(item.payload)
    # This cheap meter has no serial in its Device Information: the hub names it; bind that name.
    conn = await connect(scenario.database_url)
    async with conn.transaction():
        await people.bind_device(
            conn, reading["device"]["serial"], "glucose_meter", p.id, valid_from=now - timedelta(days=30)
        )
    await conn.close()
    from vitalgate.contract.readings import Reading

    await scenario.publish([Reading.model_validate(reading)], datetime.now(UTC))
    rows = await fetch(scenario.database_url, "SELECT measured_at, status FROM readings WHERE patient_id = %s", p.id)
    assert len(rows) == 1 and "time_uncertain" in rows[0]["status"]
    assert abs(rows[0]["measured_at"] - now) < timedelta(minutes=2)
    assert [(t["severity"], t["rule_id"]) for t in await scenario.tasks(p)] == [("urgent", "glucose-level2-hypo")]
    dead = await fetch(
        scenario.database_url, "SELECT count(*) AS n FROM dead_letters WHERE topic LIKE %s", f"%{scenario.gateway}%"
    )
    assert dead[0]["n"] == 0


async def test_discharged_and_unbound_patients_get_no_missing_data_tasks_over_a_week(scenario):
    start = sim_start(25)
    active = await scenario.add_patient("active", start)
    discharged = await scenario.add_patient("discharged", start)
    unbound = await scenario.add_patient("unbound", start)
    for p in (active, discharged, unbound):
        await _normal_week(scenario, p, start)
    last = start + timedelta(days=6, hours=22)
    conn = await connect(scenario.database_url)
    async with conn.transaction():
        await monitoring.set_status(conn, discharged.id, "discharged", valid_from=last + timedelta(hours=1))
        await monitoring.unbind_device(conn, unbound.serial, at=last + timedelta(hours=1), reason="returned")
    await conn.close()
    for day in range(1, 8):  # a silent week, a scheduler pass a day (through the CLI once)
        at = last + timedelta(days=day)
        if day == 4:
            env = {**os.environ, "VITALGATE_DATABASE_URL": scenario.database_url}
            ids = [str(x) for p in (active, discharged, unbound) for x in ("--patient", p.id)]
            out = subprocess.run(
                [sys.executable, "-m", "vitalgate", "followup", "tick", "--now", at.isoformat(), *ids],
                env=env,
                capture_output=True,
                text=True,
                timeout=120,
                check=True,
            )
            assert json.loads(out.stdout.strip().splitlines()[-1])["now"] == at.isoformat()
        else:
            for p in (active, discharged, unbound):
                await scenario.tick(at, p)

    def silent(tasks):
        return [t["rule_id"] for t in tasks if t["rule_id"] == "no-reading-3-days"]

    assert silent(await scenario.tasks(active)) == ["no-reading-3-days"]
    assert silent(await scenario.tasks(discharged)) == []
    assert silent(await scenario.tasks(unbound)) == []
