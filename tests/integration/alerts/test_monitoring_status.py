"""Monitoring status (issue 12, item 5): missing-data rules judge only active patients with a bound device.

Regressions (failed before): a patient whose only device was unbound kept getting "no reading for
3 days" tasks; a discharged patient's silence opened one too.
"""

from __future__ import annotations

from datetime import timedelta

from tests.support.clinic import add_patient, fetch, glucose, seed_team, sim_start, write
from vitalgate.followup.scheduler import tick
from vitalgate.store import monitoring
from vitalgate.store.db import connect


async def _silent_patient(database_url, unique, ref):
    start = sim_start(30)
    conn = await connect(database_url)
    async with conn.transaction():
        team = await seed_team(conn, f"{unique}{ref}")
        patient, serial = await add_patient(
            conn, team["team"], f"mon-{ref}-{unique}", device="glucose_meter", start=start
        )
    await conn.close()
    await write(database_url, serial, [glucose(start + timedelta(days=d, hours=8), 115.0) for d in range(10)])
    return start + timedelta(days=9, hours=8), patient, serial


async def _missing(database_url, patient):
    return await fetch(
        database_url,
        "SELECT a.status, a.resolution_reason, t.status AS task_status FROM alerts a"
        " LEFT JOIN tasks t ON t.alert_id = a.id WHERE a.patient_id = %s AND a.rule_id = 'no-reading-3-days'"
        " ORDER BY a.id",
        patient,
    )


async def test_unbinding_the_last_device_closes_the_missing_data_episode_and_its_task(database_url, unique):
    last, patient, serial = await _silent_patient(database_url, unique, "u")
    # Whole local days: D+1..D+3 silent, active from D+4 00:00 (alerts/README.md).
    await tick(database_url, last + timedelta(days=4), patient_ids=[patient])
    assert [(r["status"], r["task_status"]) for r in await _missing(database_url, patient)] == [("open", "open")]
    conn = await connect(database_url)
    async with conn.transaction():
        assert await monitoring.unbind_device(conn, serial, at=last + timedelta(days=4, hours=1), reason="returned")
    await conn.close()
    rows = await _missing(database_url, patient)
    assert [(r["status"], r["task_status"]) for r in rows] == [("resolved", "cancelled")]
    assert rows[0]["resolution_reason"] == "last device unbound: returned"
    for day in range(5, 12):  # silence goes on; nobody expects readings: nothing new opens
        await tick(database_url, last + timedelta(days=day), patient_ids=[patient])
    assert len(await _missing(database_url, patient)) == 1


async def test_discharged_or_paused_patients_get_no_missing_data_tasks(database_url, unique):
    last, patient, _serial = await _silent_patient(database_url, unique, "d")
    conn = await connect(database_url)
    async with conn.transaction():
        await monitoring.set_status(conn, patient, "discharged", valid_from=last + timedelta(hours=6), set_by="nurse:1")
    statuses = await monitoring.status_at(conn, [patient], last)
    await conn.close()
    assert statuses == {patient: "active"}
    for day in range(1, 8):
        await tick(database_url, last + timedelta(days=day), patient_ids=[patient])
    assert await _missing(database_url, patient) == []

    last2, paused, _ = await _silent_patient(database_url, unique, "p")
    await tick(database_url, last2 + timedelta(days=4), patient_ids=[paused])
    conn = await connect(database_url)
    async with conn.transaction():
        await monitoring.set_status(
            conn, paused, "paused", valid_from=last2 + timedelta(days=4, hours=1), reason="travel"
        )
    await conn.close()
    rows = await _missing(database_url, paused)
    assert [(r["status"], r["resolution_reason"], r["task_status"]) for r in rows] == [
        ("resolved", "monitoring paused", "cancelled")
    ]
