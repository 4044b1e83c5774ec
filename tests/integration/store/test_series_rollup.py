"""Whole-day chart buckets read the daily rollup: same counts, means, min and max as the raw readings."""

from __future__ import annotations

import math
import random
import statistics
from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from vitalgate.ingest import loadgen
from vitalgate.store import people
from vitalgate.store.db import connect
from vitalgate.store.timeseries import patient_series

from .test_timeseries import _bind, _reading, _write

ZONE = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 8, 3, 16, 40, tzinfo=UTC)  # 00:40 local on a Tuesday: partial first day and week
LOW_AT = START + timedelta(days=9, hours=5, minutes=15)


async def _patient_in_shanghai(url: str, unique: str) -> int:
    conn = await connect(url)
    try:
        async with conn.transaction():
            team = await people.create_care_team(conn, f"team-{unique}")
            await conn.execute("UPDATE care_teams SET time_zone = 'Asia/Shanghai' WHERE id = %s", (team,))
            return await people.create_patient(conn, "R", team, external_ref=f"R-{unique}")
    finally:
        await conn.close()


def _reference(values: list[tuple[datetime, float]], bucket_of) -> dict[date, list[float]]:
    out: dict[date, list[float]] = defaultdict(list)
    for at, v in values:
        out[bucket_of(at.astimezone(ZONE).date())].append(v)
    return out


async def test_long_window_buckets_keep_every_min_and_max_of_the_raw_readings(database_url, unique):
    patient = await _patient_in_shanghai(database_url, unique)
    cgm = loadgen.Device(f"RC-{unique}", "glucose_meter")
    await _bind(database_url, cgm, patient, START - timedelta(days=1))
    rng = random.Random(18)
    # 40 days of 20-minute readings between 90 and 180 mg/dL, with one single 40 mg/dL low.
    values = [(START + timedelta(minutes=20 * i), round(rng.uniform(90, 180), 1)) for i in range(40 * 72)]
    values.append((LOW_AT, 40.0))
    readings = [_reading(cgm, i, at, v) for i, (at, v) in enumerate(values)]
    await _write(database_url, readings[:1500])  # two statements: the rollup adds up across them
    await _write(database_url, readings[1500:])

    # A window that starts and ends mid-day (local), so the edge days come from raw readings.
    since, until = START + timedelta(hours=7, minutes=5), START + timedelta(days=38, hours=3)
    inside = [(at, v) for at, v in values if since <= at < until]
    conn = await connect(database_url)
    try:
        daily = await patient_series(conn, patient, since, until, timedelta(days=1), kind="glucose")
        weekly = await patient_series(conn, patient, since, until, timedelta(days=7), kind="glucose")
    finally:
        await conn.close()

    for rows, bucket_of in ((daily, lambda d: d), (weekly, lambda d: d - timedelta(days=d.weekday()))):
        expected = _reference(inside, bucket_of)
        got = {r["bucket"].astimezone(ZONE).date(): r for r in rows}
        assert sorted(got) == sorted(expected)
        for day, vs in expected.items():
            r = got[day]
            assert r["bucket"] == datetime.combine(day, time(), ZONE)
            assert (r["n"], r["glucose_min"], r["glucose_max"]) == (len(vs), min(vs), max(vs))
            assert math.isclose(r["glucose_mean"], statistics.fmean(vs), rel_tol=1e-9)
    low_day = LOW_AT.astimezone(ZONE).date()
    assert {r["bucket"].astimezone(ZONE).date(): r["glucose_min"] for r in daily}[low_day] == 40.0
    assert sum(r["n"] for r in daily) == sum(r["n"] for r in weekly) == len(inside)
