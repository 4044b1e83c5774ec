"""Storage on the real PostgreSQL: idempotent merge, bindings over time, partitions, and the query layer."""

from __future__ import annotations

import math
import random
import statistics
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from vitalgate.contract import Reading
from vitalgate.ingest import loadgen
from vitalgate.ingest.rows import staging_row
from vitalgate.store import people
from vitalgate.store.db import connect
from vitalgate.store.readings import unbound_devices, write_readings
from vitalgate.store.timeseries import daily_stats, latest_readings, patient_series, timeseries_backend

DAY0 = datetime(2026, 10, 5, tzinfo=UTC)  # a Monday


def _reading(device: loadgen.Device, seq: int, at: datetime, value: float | None = None, **override) -> Reading:
    raw = loadgen.reading_json(device, seq, at, at + timedelta(hours=1), random.Random(seq))
    if value is not None:
        raw["values"] = {"glucose": {"value": value, "unit": "mg/dL"}}
    raw.update(override)
    return Reading.model_validate(raw)


async def _write(url: str, readings: list[Reading]):
    conn = await connect(url)
    try:
        async with conn.transaction():
            return await write_readings(conn, [staging_row(r, "gw-store-test") for r in readings])
    finally:
        await conn.close()


async def _patient(url: str, unique: str, name: str) -> int:
    conn = await connect(url)
    try:
        async with conn.transaction():
            team = await people.create_care_team(conn, f"team-{unique}")
            return await people.create_patient(conn, name, team, external_ref=f"{name}-{unique}")
    finally:
        await conn.close()


async def _bind(url: str, device: loadgen.Device, patient: int, since: datetime) -> None:
    conn = await connect(url)
    try:
        async with conn.transaction():
            await people.bind_device(conn, device.serial, device.kind, patient, valid_from=since)
    finally:
        await conn.close()


async def test_same_record_with_a_corrected_clock_is_stored_once(database_url, unique):
    meter = loadgen.Device(f"CLK-{unique}", "glucose_meter")
    first = _reading(meter, 7, DAY0)
    # The next sync saw a different device clock offset: same record (same id), shifted measured_at.
    again = first.model_copy(update={"measured_at": DAY0 + timedelta(minutes=5)})
    assert [s.id for s in await _write(database_url, [first])] == [first.id]
    assert await _write(database_url, [again, again]) == []
    with psycopg.connect(database_url) as conn:
        rows = conn.execute("SELECT measured_at FROM readings WHERE id = %s", (first.id,)).fetchall()
        key = conn.execute("SELECT measured_at FROM reading_keys WHERE id = %s", (first.id,)).fetchone()
    assert rows == [(DAY0,)] and key == (DAY0,)


async def test_two_writes_in_one_transaction_do_not_replay_the_first(database_url, unique):
    meter = loadgen.Device(f"TWO-{unique}", "glucose_meter")
    a, b = _reading(meter, 1, DAY0), _reading(meter, 2, DAY0 + timedelta(hours=1))
    conn = await connect(database_url)
    try:
        async with conn.transaction():
            first = await write_readings(conn, [staging_row(a, "gw")])
            second = await write_readings(conn, [staging_row(b, "gw")])
    finally:
        await conn.close()
    assert [s.id for s in first] == [a.id] and [s.id for s in second] == [b.id]


async def test_readings_follow_the_binding_valid_when_measured(database_url, unique):
    alice, bob = await _patient(database_url, unique, "A"), await _patient(database_url, unique, "B")
    meter = loadgen.Device(f"MOVE-{unique}", "glucose_meter")
    stray = loadgen.Device(f"STRAY-{unique}", "bp_cuff")
    await _bind(database_url, meter, alice, DAY0 - timedelta(days=10))
    await _bind(database_url, meter, bob, DAY0)  # re-assigned: closes Alice's binding at DAY0
    before, after = _reading(meter, 1, DAY0 - timedelta(hours=1)), _reading(meter, 2, DAY0 + timedelta(hours=1))
    orphan = _reading(stray, 1, DAY0)
    stored = {s.id: s.patient_id for s in await _write(database_url, [before, after, orphan])}
    assert stored == {before.id: alice, after.id: bob, orphan.id: None}
    conn = await connect(database_url)
    try:
        listed = {d.serial: d for d in await unbound_devices(conn, limit=100_000)}
    finally:
        await conn.close()
    assert stray.serial in listed and meter.serial not in listed
    assert listed[stray.serial].readings == 1 and listed[stray.serial].kind == "bp_cuff"
    assert listed[stray.serial].last_gateway_id == "gw-store-test"


async def test_a_month_without_a_partition_gets_one_on_demand(database_url, unique):
    if await _backend(database_url) != "native":
        pytest.skip("partitions are TimescaleDB chunks on this server")
    meter = loadgen.Device(f"OLD-{unique}", "glucose_meter")
    old = _reading(meter, 1, datetime(2019, 3, 15, 8, 30, tzinfo=UTC))  # a hub re-syncing a very old memory
    await _write(database_url, [old])
    with psycopg.connect(database_url) as conn:
        where = conn.execute("SELECT tableoid::regclass::text FROM readings WHERE id = %s", (old.id,)).fetchone()
        bounds = conn.execute(
            "SELECT pg_get_expr(relpartbound, oid) FROM pg_class WHERE relname = 'readings_2019_03'"
        ).fetchone()
    assert where == ("readings_2019_03",)
    assert bounds is not None and "2019-03-01 00:00:00+00" in bounds[0] and "2019-04-01 00:00:00+00" in bounds[0]


async def _backend(url: str) -> str:
    conn = await connect(url)
    try:
        return await timeseries_backend(conn)
    finally:
        await conn.close()


async def test_series_daily_stats_and_latest_agree_with_the_raw_readings(database_url, unique):
    patient = await _patient(database_url, unique, "S")
    meter, cuff = loadgen.Device(f"SM-{unique}", "glucose_meter"), loadgen.Device(f"SC-{unique}", "bp_cuff")
    await _bind(database_url, meter, patient, DAY0 - timedelta(days=30))
    await _bind(database_url, cuff, patient, DAY0 - timedelta(days=30))
    rng = random.Random(5)
    glucose = [(DAY0 + timedelta(hours=3 * i), round(rng.uniform(60, 250), 1)) for i in range(24)]  # 3 days
    readings = [_reading(meter, i, at, value) for i, (at, value) in enumerate(glucose)]
    bp = [_reading(cuff, i, DAY0 + timedelta(hours=7 + 24 * i)) for i in range(3)]
    # Two statements: the daily rollup must add up across them (native: incremental upsert).
    await _write(database_url, readings[:10] + bp[:1])
    await _write(database_url, readings[10:] + bp[1:])

    conn = await connect(database_url)
    try:
        days = await daily_stats(conn, patient, DAY0.date(), (DAY0 + timedelta(days=3)).date(), kind="glucose")
        series = await patient_series(conn, patient, DAY0, DAY0 + timedelta(days=3), timedelta(hours=6), kind="glucose")
        weekly = await patient_series(
            conn, patient, DAY0 - timedelta(days=7), DAY0 + timedelta(days=7), timedelta(days=7)
        )
        latest = await latest_readings(conn, [patient])
        bp_days = await daily_stats(
            conn, patient, DAY0.date(), (DAY0 + timedelta(days=3)).date(), kind="blood_pressure"
        )
    finally:
        await conn.close()

    # The team's zone is UTC (the column default), so local days are UTC days here.
    assert [d["day"] for d in days] == [(DAY0 + timedelta(days=i)).date() for i in range(3)]
    for d in days:
        values = [v for at, v in glucose if at.date() == d["day"]]
        assert d["n"] == len(values) == 8
        assert math.isclose(d["glucose_mean"], statistics.fmean(values), rel_tol=1e-9)
        assert math.isclose(d["glucose_sd"], statistics.stdev(values), rel_tol=1e-6)
        assert (d["glucose_min"], d["glucose_max"]) == (min(values), max(values))
    assert [s["n"] for s in series] == [2] * 12  # 6-hour buckets over 3 days, 2 readings each
    assert math.isclose(series[0]["glucose_mean"], statistics.fmean(v for _, v in glucose[:2]))
    # Weekly buckets start on Mondays (time_bucket's origin), whichever path ran.
    assert [(s["bucket"], s["kind"], s["n"]) for s in weekly] == [(DAY0, "blood_pressure", 3), (DAY0, "glucose", 24)]
    by_kind = {r["kind"]: r for r in latest}
    assert by_kind["glucose"]["id"] == readings[-1].id and by_kind["blood_pressure"]["id"] == bp[-1].id
    assert [d["n"] for d in bp_days] == [1, 1, 1]
    assert bp_days[0]["systolic_mean"] == bp[0].values["systolic"].value
    assert bp_days[0]["pulse_mean"] == bp[0].values["pulse"].value


async def test_series_rejects_a_non_positive_bucket(database_url):
    conn = await connect(database_url)
    try:
        with pytest.raises(ValueError):
            await patient_series(conn, 1, DAY0, DAY0, timedelta(0))
    finally:
        await conn.close()
