"""SOP steps at the patient's local wall-clock times across DST, and quiet hours, on the real PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from tests.support.clinic import add_patient, fetch, seed_team
from vitalgate.core.localtime import to_instant
from vitalgate.followup.scheduler import tick
from vitalgate.followup.sop import schedule_sop
from vitalgate.store import tasks as task_store
from vitalgate.store import time_zones
from vitalgate.store import touchpoints as tp_store
from vitalgate.store.db import connect
from vitalgate.store.touchpoints import PlannedTouchpoint

NY, SH = "America/New_York", "Asia/Shanghai"
SINCE = datetime(2025, 1, 1, tzinfo=UTC)


async def _patient(database_url: str, unique: str, zone_name: str) -> tuple[int, int]:
    conn = await connect(database_url)
    async with conn.transaction():
        team = await seed_team(conn, unique)
        patient, _ = await add_patient(conn, team["team"], f"lt-{unique}", device="bp_cuff", start=SINCE)
        await time_zones.set_patient_time_zone(conn, patient, zone_name, valid_from=SINCE, now=SINCE, actor="test")
    await conn.close()
    return patient, team["team"]


async def _visit_chain(database_url: str, unique: str, visit: datetime) -> list[tuple[str, datetime]]:
    patient, _ = await _patient(database_url, unique, NY)
    conn = await connect(database_url)
    async with conn.transaction():
        sop = await schedule_sop(conn, patient_id=patient, anchor_at=visit, now=visit - timedelta(days=10))
    await conn.close()
    t = visit - timedelta(days=8)
    while t <= visit + timedelta(days=3):  # an hourly scheduler
        await tick(database_url, t, patient_ids=[patient], evaluate=False)
        t += timedelta(hours=1)
    rows = await fetch(
        database_url,
        "SELECT at, detail FROM task_events WHERE task_id = %s AND kind = 'delivery' ORDER BY id",
        sop.task_id,
    )
    title = (await fetch(database_url, "SELECT title FROM tasks WHERE id = %s", sop.task_id))[0]["title"]
    assert "UTC" not in title and "America" not in title  # no zone names in stored titles
    return [(r["detail"]["step"], r["at"]) for r in rows]


def _ny(day: date, hh: int) -> datetime:
    return to_instant(day, time(hh), NY)


async def test_new_york_visit_the_day_after_spring_forward_fires_each_step_at_its_local_time(database_url, unique):
    # Clocks go from EST to EDT on Sunday 8 March 2026; the visit is Monday 9 March, 09:00 local.
    visit = _ny(date(2026, 3, 9), 9)
    fired = await _visit_chain(database_url, unique, visit)
    assert fired == [
        ("T-7 message", _ny(date(2026, 3, 2), 10)),  # 15:00 UTC (EST)
        ("T-2 confirmation link", _ny(date(2026, 3, 7), 10)),  # 15:00 UTC (EST)
        ("T-1 voice message", _ny(date(2026, 3, 8), 10)),  # 14:00 UTC (EDT): not 11:00 local
        # 3 h before 09:00 is 06:00, inside quiet hours (21:00-08:00): held until 08:00 local
        ("day-of phone call", _ny(date(2026, 3, 9), 8)),
        ("T+2 visit check", _ny(date(2026, 3, 11), 10)),
    ]
    assert [at.hour for _, at in fired] == [15, 15, 14, 12, 14]


async def test_new_york_visit_the_day_after_fall_back(database_url, unique):
    # EDT -> EST on Sunday 1 November 2026; the visit is Monday 2 November, 09:00 local.
    visit = _ny(date(2026, 11, 2), 9)
    fired = await _visit_chain(database_url, unique, visit)
    assert [at for _, at in fired] == [
        _ny(date(2026, 10, 26), 10),
        _ny(date(2026, 10, 31), 10),
        _ny(date(2026, 11, 1), 10),
        _ny(date(2026, 11, 2), 8),
        _ny(date(2026, 11, 4), 10),
    ]
    assert [at.hour for _, at in fired] == [14, 14, 15, 13, 15]


async def test_quiet_hours_hold_routine_contact_until_the_morning_but_never_urgent(database_url, unique):
    patient, team = await _patient(database_url, unique, SH)
    night = to_instant(date(2026, 5, 4), time(22, 30), SH)  # 14:30 UTC
    conn = await connect(database_url)
    task_ids = {}
    async with conn.transaction():
        for severity in ("routine", "urgent"):
            task_ids[severity] = await task_store.create_task(
                conn,
                patient_id=patient,
                care_team_id=team,
                assignee_id=None,
                severity=severity,
                title=f"{severity} check",
                due_at=night,
                now=night,
                kind="alert",
            )
            steps = [
                PlannedTouchpoint(0, "app message", "message", "check-in", night),
                PlannedTouchpoint(1, "coordinator", "coordinator", "review", night),
            ]
            await tp_store.schedule(conn, task_ids[severity], steps, now=night)
    await conn.close()
    result = await tick(database_url, night, patient_ids=[patient], evaluate=False)
    sent = sorted((f.task_id == task_ids["urgent"], f.channel) for f in result.fired)
    # Urgent contact goes out at night; staff steps are not contact; the routine message waits.
    assert sent == [(False, "coordinator"), (True, "coordinator"), (True, "message")]
    morning = to_instant(date(2026, 5, 5), time(8), SH)
    held = await fetch(
        database_url,
        "SELECT due_at, fired_at FROM touchpoints WHERE task_id = %s AND channel = 'message'",
        task_ids["routine"],
    )
    assert held == [{"due_at": morning, "fired_at": None}]
    assert (await tick(database_url, morning - timedelta(minutes=1), patient_ids=[patient], evaluate=False)).fired == []
    assert [f.channel for f in (await tick(database_url, morning, patient_ids=[patient], evaluate=False)).fired] == [
        "message"
    ]
