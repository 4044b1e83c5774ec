"""Chart buckets read the daily and quarter-hourly rollups: same counts, means, min and max as the raw readings."""

from __future__ import annotations

import math
import random
import statistics
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from vitalgate.ingest import loadgen
from vitalgate.store import bindings, people
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


ORIGIN = datetime(2000, 1, 3)  # local wall clock, as the query layer bins


def _reference(values: list[tuple[datetime, float]], width: timedelta) -> dict[datetime, list[float]]:
    """Readings per local bucket: the local wall-clock time floored to the width from a Monday."""
    out: dict[datetime, list[float]] = defaultdict(list)
    for at, v in values:
        local = at.astimezone(ZONE).replace(tzinfo=None)
        out[local - (local - ORIGIN) % width].append(v)
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
    widths = [timedelta(minutes=15), timedelta(minutes=30), timedelta(hours=1), timedelta(hours=6)]
    widths += [timedelta(days=1), timedelta(days=7)]
    conn = await connect(database_url)
    try:
        series = {w: await patient_series(conn, patient, since, until, w, kind="glucose") for w in widths}
    finally:
        await conn.close()

    for width, rows in series.items():
        expected = _reference(inside, width)
        got = {r["bucket"].astimezone(ZONE).replace(tzinfo=None): r for r in rows}
        assert sorted(got) == sorted(expected), width
        for local, vs in expected.items():
            r = got[local]
            assert (r["n"], r["glucose_min"], r["glucose_max"]) == (len(vs), min(vs), max(vs)), (width, local)
            assert math.isclose(r["glucose_mean"], statistics.fmean(vs), rel_tol=1e-9)
        assert sum(r["n"] for r in rows) == len(inside)
        # the single low is its bucket's minimum whatever the width
        low_bucket = max(k for k in got if k <= LOW_AT.astimezone(ZONE).replace(tzinfo=None))
        assert got[low_bucket]["glucose_min"] == 40.0


async def test_readings_filed_when_a_device_is_paired_later_show_in_every_bucket_width(database_url, unique):
    patient = await _patient_in_shanghai(database_url, unique)
    meter = loadgen.Device(f"RF-{unique}", "glucose_meter")
    at = [START + timedelta(days=d, hours=h) for d in range(4) for h in (1, 9)]
    await _write(database_url, [_reading(meter, i, t, 100.0 + i) for i, t in enumerate(at)])  # not paired yet
    conn = await connect(database_url)
    try:
        async with conn.transaction():
            await bindings.bind(
                conn, serial=meter.serial, kind="glucose_meter", patient_id=patient, valid_from=START, bound_by="test"
            )
        since, until = START - timedelta(days=1), START + timedelta(days=6)
        counts = {
            w: sum(r["n"] for r in await patient_series(conn, patient, since, until, w, kind="glucose"))
            for w in (timedelta(hours=1), timedelta(days=1))
        }
    finally:
        await conn.close()
    assert counts == {timedelta(hours=1): len(at), timedelta(days=1): len(at)}
