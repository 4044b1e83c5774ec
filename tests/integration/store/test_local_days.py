"""Local days on the real PostgreSQL: rollup, reading days, daily profile and series in the patient's zone."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta

from vitalgate.contract import Reading
from vitalgate.core.localtime import to_instant
from vitalgate.ingest import loadgen
from vitalgate.ingest.rows import staging_row
from vitalgate.store import people, time_zones
from vitalgate.store.adherence import reading_days
from vitalgate.store.db import connect
from vitalgate.store.patient_stats import daily_profile
from vitalgate.store.readings import write_readings
from vitalgate.store.timeseries import daily_stats, patient_series

SH = "Asia/Shanghai"
FIRST = date(2026, 10, 5)


def _glucose(device: loadgen.Device, seq: int, at: datetime, value: float) -> Reading:
    raw = loadgen.reading_json(device, seq, at, at + timedelta(minutes=5), random.Random(seq))
    raw["values"] = {"glucose": {"value": value, "unit": "mg/dL"}}
    return Reading.model_validate(raw)


async def _setup(url: str, unique: str, zone_name: str | None, team_zone: str = "UTC"):
    conn = await connect(url)
    async with conn.transaction():
        team = await people.create_care_team(conn, f"lt-team-{unique}")
        await time_zones.set_team_time_zone(conn, team, team_zone)
        patient = await people.create_patient(conn, "L", team, external_ref=f"lt-{unique}")
        if zone_name:
            await time_zones.set_patient_time_zone(
                conn, patient, zone_name, valid_from=datetime(2026, 1, 1, tzinfo=UTC), now=datetime.now(UTC), actor="t"
            )
        meter = loadgen.Device(f"LT-{unique}", "glucose_meter")
        await people.bind_device(conn, meter.serial, meter.kind, patient, valid_from=datetime(2026, 1, 1, tzinfo=UTC))
    return conn, patient, meter


async def test_shanghai_0730_readings_are_on_their_local_day_and_hour(database_url, unique):
    conn, patient, meter = await _setup(database_url, unique, SH)
    try:
        # 07:30 Shanghai is 23:30 UTC the evening before: by UTC these would land a day early.
        at = [to_instant(FIRST + timedelta(days=d), time(7, 30), SH) for d in range(5)]
        at.append(to_instant(FIRST + timedelta(days=4), time(23, 59, 59), SH))
        at.append(to_instant(FIRST + timedelta(days=5), time(0, 0), SH))
        async with conn.transaction():
            await write_readings(
                conn, [staging_row(_glucose(meter, i, t, 100.0 + i), "gw-lt") for i, t in enumerate(at)]
            )
        days = await daily_stats(conn, patient, FIRST - timedelta(days=1), FIRST + timedelta(days=7))
        assert [(d["day"], d["n"]) for d in days] == [(FIRST + timedelta(days=d), 1) for d in range(4)] + [
            (FIRST + timedelta(days=4), 2),
            (FIRST + timedelta(days=5), 1),
        ]
        profile = await daily_profile(conn, patient, at[0] - timedelta(hours=1), at[-1] + timedelta(hours=1))
        assert {r["hour"]: r["n"] for r in profile} == {7: 5, 23: 1, 0: 1}
        series = await patient_series(
            conn, patient, at[0] - timedelta(days=1), at[-1] + timedelta(days=1), timedelta(days=1)
        )
        # A 1-day bucket is a local day: it starts at 00:00 Shanghai (16:00 UTC).
        assert series[0]["bucket"] == to_instant(FIRST, time(0), SH) and [s["n"] for s in series] == [1, 1, 1, 1, 2, 1]
        # Reading days: the local dates of the last 30, today = 6 Oct 09:00 local (5 Oct 01:00 UTC).
        now = to_instant(FIRST + timedelta(days=1), time(9), SH)
        coverage = (await reading_days(conn, [patient], now=now, window_days=2))[patient]
        assert coverage["reading_days"] == 2  # 5 and 6 October local, though 6 Oct 07:30 is 5 Oct UTC
        assert coverage["window_start"] == to_instant(FIRST, time(0), SH)
    finally:
        await conn.close()


async def test_moving_from_berlin_to_shanghai_keeps_past_days_and_backdating_relabels(database_url, unique):
    conn, patient, meter = await _setup(database_url, unique, "Europe/Berlin")
    try:
        berlin = [to_instant(FIRST + timedelta(days=d), time(7, 30), "Europe/Berlin") for d in range(3)]
        async with conn.transaction():
            await write_readings(
                conn, [staging_row(_glucose(meter, i, t, 90.0), "gw-lt") for i, t in enumerate(berlin)]
            )
        moved = to_instant(FIRST + timedelta(days=3), time(0), SH)
        async with conn.transaction():
            await time_zones.set_patient_time_zone(conn, patient, SH, valid_from=moved, now=moved, actor="t")
            shanghai = [to_instant(FIRST + timedelta(days=d), time(7, 30), SH) for d in (3, 4)]
            await write_readings(
                conn, [staging_row(_glucose(meter, 10 + i, t, 120.0), "gw-lt") for i, t in enumerate(shanghai)]
            )
        days = await daily_stats(conn, patient, FIRST, FIRST + timedelta(days=6))
        assert [(d["day"], d["glucose_max"]) for d in days] == [(FIRST + timedelta(days=d), 90.0) for d in range(3)] + [
            (FIRST + timedelta(days=d), 120.0) for d in (3, 4)
        ]
        profile = await daily_profile(conn, patient, berlin[0] - timedelta(hours=1), shanghai[-1] + timedelta(hours=1))
        assert {r["hour"]: r["n"] for r in profile} == {7: 5}
        clock = await time_zones.patient_clock(conn, patient)
        assert clock is not None and clock.zone_name == SH and clock.own_zone == SH
        # A backdated correction (she moved before the 2nd reading) re-labels from then on: the
        # rollup follows (native: re-aggregated by trigger; TimescaleDB: a view).
        async with conn.transaction():
            await time_zones.set_patient_time_zone(
                conn, patient, SH, valid_from=berlin[1] - timedelta(hours=1), now=moved, actor="t"
            )
        days = await daily_stats(conn, patient, FIRST, FIRST + timedelta(days=6))
        assert [d["day"] for d in days] == [FIRST + timedelta(days=d) for d in range(5)]
        profile = await daily_profile(conn, patient, berlin[0] - timedelta(hours=1), shanghai[-1] + timedelta(hours=1))
        assert {r["hour"]: r["n"] for r in profile} == {7: 3, 13: 2}  # Berlin 07:30 CEST = 13:30 Shanghai
    finally:
        await conn.close()


async def test_direct_zone_writes_and_team_changes_keep_history(database_url, unique):
    conn, patient, _ = await _setup(database_url, unique, None, team_zone="America/New_York")
    try:
        assert (await time_zones.patient_clock(conn, patient)).zone_name == "America/New_York"
        async with conn.transaction():
            await conn.execute("UPDATE patients SET time_zone = 'Asia/Shanghai' WHERE id = %s", (patient,))
        history = (await time_zones.zone_histories(conn, [patient]))[patient]
        assert [s.zone_name for s in history.spans] == ["America/New_York", SH]
        assert history.zone_name_at(datetime(2026, 1, 2, tzinfo=UTC)) == "America/New_York"
    finally:
        await conn.close()
