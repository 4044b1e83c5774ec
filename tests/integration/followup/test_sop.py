"""SOP reminder chains: each step fires once across process restarts, confirmation stops reminders."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from datetime import datetime, timedelta

from tests.support.clinic import add_patient, fetch, seed_team, sim_start
from vitalgate.core.clock import SimulatedClock
from vitalgate.followup.scheduler import run_scheduler, tick
from vitalgate.followup.sop import confirm_sop, schedule_sop
from vitalgate.store.db import connect


class _ReadClock(SimulatedClock):
    """A simulated clock that remembers the last time the scheduler read from it."""

    def __init__(self, start: datetime) -> None:
        super().__init__(start)
        self._read: datetime | None = None
        self._was_read = asyncio.Event()

    def now(self) -> datetime:
        self._read = super().now()
        self._was_read.set()
        return self._read

    async def read_at(self, when: datetime) -> None:
        """Return once a tick has started at `when` (the scheduler reads the clock as a tick begins)."""
        while self._read != when:
            self._was_read.clear()
            await self._was_read.wait()


async def _visit(database_url, unique, anchor_days=20):
    start = sim_start(60)
    conn = await connect(database_url)
    async with conn.transaction():
        team = await seed_team(conn, unique)
        patient, _ = await add_patient(conn, team["team"], f"p-{unique}", device="bp_cuff", start=start, tags=["htn"])
        anchor = start + timedelta(days=anchor_days, hours=10)
        sop = await schedule_sop(conn, patient_id=patient, anchor_at=anchor, now=start)
        again = await schedule_sop(conn, patient_id=patient, anchor_at=anchor, now=start + timedelta(hours=1))
    await conn.close()
    assert sop.created and not again.created and again.instance_id == sop.instance_id
    return start, anchor, patient, sop


async def _fired(database_url, sop):
    rows = await fetch(
        database_url,
        "SELECT at, detail FROM task_events WHERE task_id = %s AND kind = 'delivery' ORDER BY id",
        sop.task_id,
    )
    return [(r["detail"]["step"], r["at"]) for r in rows]


def _cli_tick(database_url: str, now, patient: int) -> dict:
    """`vitalgate followup tick` in a separate process: a real process restart between ticks."""
    env = {**os.environ, "VITALGATE_DATABASE_URL": database_url, "VITALGATE_LOG_FORMAT": "json"}
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "vitalgate.app.cli",
            "followup",
            "tick",
            "--now",
            now.isoformat(),
            "--patient",
            str(patient),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads([line for line in out.stdout.splitlines() if line.startswith('{"now"')][-1])


async def test_unconfirmed_chain_fires_each_step_once_across_restarts(database_url, unique):
    _start, anchor, patient, sop = await _visit(database_url, unique)
    clock = _ReadClock(anchor - timedelta(days=8))
    # Scheduler process 1 runs through T-7 and is then stopped (as if killed). The simulated hour moves
    # on only after the scheduler has started a tick at it, so a slow machine cannot skip T-7 (a fixed
    # 0.02 s per hour let a loaded machine stop the scheduler before it ever ticked past T-7).
    stop = asyncio.Event()
    runner = asyncio.create_task(run_scheduler(database_url, clock, interval_s=0.01, stop=stop))
    at = anchor - timedelta(days=8)
    while at < anchor - timedelta(days=6):
        at = clock.advance(timedelta(hours=1))
        await asyncio.wait_for(clock.read_at(at), timeout=60)
    stop.set()  # the tick that read the last hour finishes before the runner returns
    await runner
    assert [s for s, _ in await _fired(database_url, sop)] == ["T-7 message"]
    # Process 2 (a fresh interpreter) ticks at the same moment again, then later: nothing fires twice.
    _cli_tick(database_url, anchor - timedelta(days=6), patient)
    assert [s for s, _ in await _fired(database_url, sop)] == ["T-7 message"]
    assert _cli_tick(database_url, anchor - timedelta(days=2), patient)["touchpoints_fired"] >= 1
    assert [s for s, _ in await _fired(database_url, sop)] == ["T-7 message", "T-2 confirmation link"]
    # Three schedulers racing at the same instant: SKIP LOCKED lets exactly one deliver the step.
    at = anchor - timedelta(days=1)
    await asyncio.gather(*(tick(database_url, at, patient_ids=[patient]) for _ in range(3)))
    assert [s for s, _ in await _fired(database_url, sop)][-1:] == ["T-1 voice message"]
    assert len(await _fired(database_url, sop)) == 3
    for hours in (-3, 0, 24, 48, 72):
        await tick(database_url, anchor + timedelta(hours=hours), patient_ids=[patient])
    fired = await _fired(database_url, sop)
    assert [s for s, _ in fired] == [
        "T-7 message",
        "T-2 confirmation link",
        "T-1 voice message",
        "day-of phone call",
        "T+2 visit check",
    ]
    assert fired[-1][1] == anchor + timedelta(hours=48)


async def test_confirmation_cancels_the_remaining_reminders(database_url, unique):
    _start, anchor, patient, sop = await _visit(database_url, unique + "c")
    for days in (-7, -2):
        await tick(database_url, anchor + timedelta(days=days), patient_ids=[patient])
    conn = await connect(database_url)
    async with conn.transaction():
        assert await confirm_sop(conn, sop.instance_id, now=anchor - timedelta(days=2, hours=-3)) == 2
    await conn.close()
    t = anchor - timedelta(days=2)
    while t <= anchor + timedelta(days=3):  # hourly ticks through the visit and the check
        t += timedelta(hours=1)
        await tick(database_url, t, patient_ids=[patient], evaluate=False)
    assert [s for s, _ in await _fired(database_url, sop)] == [
        "T-7 message",
        "T-2 confirmation link",
        "T+2 visit check",
    ]
    steps = await fetch(
        database_url,
        "SELECT step_name, fired_at IS NOT NULL AS fired, cancel_reason FROM touchpoints"
        " WHERE sop_instance_id = %s ORDER BY step_index",
        sop.instance_id,
    )
    assert [(s["step_name"], s["fired"], s["cancel_reason"]) for s in steps] == [
        ("T-7 message", True, None),
        ("T-2 confirmation link", True, None),
        ("T-1 voice message", False, "confirmed"),
        ("day-of phone call", False, "confirmed"),
        ("T+2 visit check", True, None),
    ]
    task = (await fetch(database_url, "SELECT kind, severity, due_at, status FROM tasks WHERE id = %s", sop.task_id))[0]
    assert (task["kind"], task["severity"], task["due_at"], task["status"]) == (
        "sop",
        "routine",
        anchor + timedelta(hours=48),
        "open",
    )


async def test_steps_already_past_when_scheduled_are_not_sent_late(database_url, unique):
    start = sim_start(60)
    conn = await connect(database_url)
    async with conn.transaction():
        team = await seed_team(conn, unique)
        patient, _ = await add_patient(conn, team["team"], f"p-{unique}", device="bp_cuff", start=start)
        anchor = start + timedelta(days=3)
        sop = await schedule_sop(conn, patient_id=patient, anchor_at=anchor, now=start)
    await conn.close()
    await tick(database_url, start + timedelta(minutes=1), patient_ids=[patient])
    await tick(database_url, anchor - timedelta(days=2, hours=-10), patient_ids=[patient])  # T-2 at 10:00 local
    assert [s for s, _ in await _fired(database_url, sop)] == ["T-2 confirmation link"]
