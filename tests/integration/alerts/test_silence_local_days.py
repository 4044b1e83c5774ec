"""'No reading for 3 days' counts whole LOCAL dates in the patient's zone (issue 14 item 4).

Regression (failed before): the rule counted 72 elapsed hours since the last reading, so a
Shanghai reading at 23:59:59 local opened a task at 23:59:59 three days later, when only two
whole local days had passed without a reading, and New York's 23/25-hour DST days shifted it.
Definition (alerts/README.md): the dates after the last reading's local date and before today's
local date; active once there are `silent_days` of them.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta

from vitalgate.alerts.config import default_rules
from vitalgate.alerts.engine import evaluate_patients
from vitalgate.contract import Reading
from vitalgate.core.localtime import to_instant
from vitalgate.ingest import loadgen
from vitalgate.ingest.rows import staging_row
from vitalgate.store import people, time_zones
from vitalgate.store.db import connect
from vitalgate.store.readings import write_readings

SH = "Asia/Shanghai"
NY = "America/New_York"
BERLIN = "Europe/Berlin"
SINCE = datetime(2026, 1, 1, tzinfo=UTC)
RULES = default_rules().model_copy(update={"rules": [default_rules().by_id("no-reading-3-days")]})


def _glucose(device: loadgen.Device, seq: int, at: datetime) -> Reading:
    raw = loadgen.reading_json(device, seq, at, at + timedelta(minutes=5), random.Random(seq))
    raw["values"] = {"glucose": {"value": 110.0, "unit": "mg/dL"}}
    return Reading.model_validate(raw)


async def _patient(conn, unique: str, ref: str, zones: list[tuple[str, datetime]], readings: list[datetime]) -> int:
    async with conn.transaction():
        team = await people.create_care_team(conn, f"sil-{ref}-{unique}")
        patient = await people.create_patient(conn, ref, team, external_ref=f"sil-{ref}-{unique}")
        for zone_name, valid_from in zones:
            await time_zones.set_patient_time_zone(
                conn, patient, zone_name, valid_from=valid_from, now=datetime(2027, 1, 1, tzinfo=UTC), actor="t"
            )
        meter = loadgen.Device(f"SIL-{ref}-{unique}", "glucose_meter")
        await people.bind_device(conn, meter.serial, meter.kind, patient, valid_from=SINCE)
        await write_readings(conn, [staging_row(_glucose(meter, i, t), "gw-sil") for i, t in enumerate(readings)])
    return patient


async def _silent_at(conn, patient: int, now: datetime) -> bool:
    """Whether the rule is active at `now` (evaluated and rolled back, so each probe is independent)."""
    async with conn.transaction(force_rollback=True):
        raised = await evaluate_patients(conn, [patient], now=now, rules=RULES)
    return any(a.rule_id == "no-reading-3-days" and a.opened for a in raised)


def _daily(last_day: date, wall: time, zone_name: str) -> list[datetime]:
    """A week of 08:00 readings up to the day before `last_day`, then the last one at `wall`."""
    days = [last_day - timedelta(days=k) for k in range(7, 0, -1)]
    return [to_instant(d, time(8, 0), zone_name) for d in days] + [to_instant(last_day, wall, zone_name)]


async def test_shanghai_counts_whole_local_dates_after_2359_59_and_0000_00(database_url, unique):
    d = date(2026, 10, 5)
    conn = await connect(database_url)
    try:
        late = await _patient(conn, unique, "late", [(SH, SINCE)], _daily(d, time(23, 59, 59), SH))
        early = await _patient(conn, unique, "early", [(SH, SINCE)], _daily(d + timedelta(days=1), time(0, 0), SH))
        # 23:59:59 on D: D+1, D+2, D+3 are the three silent dates; D+3 is over at D+4 00:00 local.
        assert not await _silent_at(conn, late, to_instant(d + timedelta(days=3), time(23, 59, 59), SH))
        assert await _silent_at(conn, late, to_instant(d + timedelta(days=4), time(0, 0), SH))
        # 00:00:00 on D+1 (one second later) belongs to D+1: a whole local day later.
        assert not await _silent_at(conn, early, to_instant(d + timedelta(days=4), time(0, 0), SH))
        assert not await _silent_at(conn, early, to_instant(d + timedelta(days=4), time(23, 59, 59), SH))
        assert await _silent_at(conn, early, to_instant(d + timedelta(days=5), time(0, 0), SH))
    finally:
        await conn.close()


async def test_new_york_across_the_autumn_and_spring_changes(database_url, unique):
    conn = await connect(database_url)
    try:
        # Autumn: 1 Nov 2026 has 25 hours. Last reading 30 Oct 23:59:59 EDT; silent 31 Oct, 1 Nov, 2 Nov.
        autumn = await _patient(conn, unique, "aut", [(NY, SINCE)], _daily(date(2026, 10, 30), time(23, 59, 59), NY))
        # 72 elapsed hours end at 2 Nov 22:59:59 EST: not yet three whole local days.
        assert not await _silent_at(conn, autumn, to_instant(date(2026, 11, 2), time(23, 30), NY))
        assert await _silent_at(conn, autumn, to_instant(date(2026, 11, 3), time(0, 0), NY))
        # Spring: 8 Mar 2026 has 23 hours. Last reading 6 Mar 00:00:00 EST; silent 7, 8, 9 Mar.
        spring = await _patient(conn, unique, "spr", [(NY, SINCE)], _daily(date(2026, 3, 6), time(0, 0), NY))
        assert not await _silent_at(conn, spring, to_instant(date(2026, 3, 9), time(23, 59, 59), NY))
        assert await _silent_at(conn, spring, to_instant(date(2026, 3, 10), time(0, 0), NY))
    finally:
        await conn.close()


async def test_the_last_reading_keeps_the_local_date_of_the_zone_it_was_measured_in(database_url, unique):
    # 23:59:59 in Berlin on 5 Oct is 06:59:59 on 6 Oct in Shanghai, where the patient moves the next day.
    d = date(2026, 10, 5)
    moved = to_instant(d + timedelta(days=1), time(12, 0), BERLIN)
    conn = await connect(database_url)
    try:
        patient = await _patient(
            conn, unique, "mov", [(BERLIN, SINCE), (SH, moved)], _daily(d, time(23, 59, 59), BERLIN)
        )
        # Dated in Berlin (5 Oct): 6, 7, 8 Oct are silent, so the rule is active from 9 Oct 00:00 Shanghai.
        assert not await _silent_at(conn, patient, to_instant(d + timedelta(days=3), time(23, 0), SH))
        assert await _silent_at(conn, patient, to_instant(d + timedelta(days=4), time(0, 0), SH))
    finally:
        await conn.close()
