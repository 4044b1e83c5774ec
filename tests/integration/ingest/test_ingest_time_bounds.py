"""Time bounds at ingest (issue 13 item 4, issue 12 item 3): out-of-window readings are held, partitions stay bounded.

Regression: one 1,000-reading message with 1,000 distinct old months created 1,000 partitions;
a reading measured before its device's binding was stored unfiled, silently. Both failed before.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta

import psycopg

from tests.support.ingest_run import ConsumerRun
from vitalgate.ingest import loadgen
from vitalgate.store.db import connect
from vitalgate.store.holds import TimeWindow
from vitalgate.store.people import bind_device, create_care_team, create_patient

_PARTITIONS = "SELECT count(*) FROM pg_inherits WHERE inhparent = 'readings'::regclass"


def _partitions(database_url: str) -> int:
    with psycopg.connect(database_url) as conn:
        return conn.execute(_PARTITIONS).fetchone()[0]


async def test_a_thousand_old_months_create_at_most_the_window_of_partitions(database_url, mqtt_config, unique):
    now = datetime.now(UTC).replace(microsecond=0)
    device = loadgen.devices(f"OLD{unique}", 1)[0]
    rng = random.Random(4)
    readings = []
    for month in range(1000):  # one reading in each of 1,000 distinct months, 14 to ~1,013 months ago
        at = (now.replace(day=1) - timedelta(days=31 * (month + 14))).replace(day=15)
        readings.append(loadgen.reading_json(device, month, at, now, rng))
    before = _partitions(database_url)
    async with ConsumerRun(mqtt_config, unique, database_url) as run:
        await run.send([loadgen.batch_payload(run.gateway, readings, now)])
        assert run.consumer.stats.held == 1000 and run.consumer.stats.readings_stored == 0
    created = _partitions(database_url) - before
    bound = TimeWindow.around(now).max_new_partitions()
    assert bound in (14, 15)  # the UTC months 400 days back to one day ahead touch (15 near a month's end)
    assert created <= bound
    assert created == 0
    with psycopg.connect(database_url) as conn:
        reasons = conn.execute(
            "SELECT reason, count(*) FROM review_queue WHERE device_serial = %s GROUP BY reason", (device.serial,)
        ).fetchall()
        stored = conn.execute("SELECT count(*) FROM readings WHERE device_serial = %s", (device.serial,)).fetchone()
    assert reasons == [("older_than_horizon", 1000)] and stored == (0,)


async def test_readings_before_the_binding_or_in_the_future_are_held_not_filed(database_url, mqtt_config, unique):
    now = datetime.now(UTC).replace(microsecond=0)
    meter = loadgen.devices(f"BND{unique}", 1)[0]
    stray = loadgen.Device(f"STRAY{unique}", "glucose_meter")
    conn = await connect(database_url)
    try:
        async with conn.transaction():
            team = await create_care_team(conn, f"Bounds {unique}")
            patient = await create_patient(conn, "Bo Unds", team, external_ref=f"bounds-{unique}")
            await bind_device(conn, meter.serial, meter.kind, patient, valid_from=now - timedelta(days=1))
    finally:
        await conn.close()
    rng = random.Random(5)
    year_off = loadgen.reading_json(meter, 1, now - timedelta(days=365), now, rng)  # a meter clock a year behind
    fresh = loadgen.reading_json(meter, 2, now - timedelta(hours=1), now, rng)
    ahead = loadgen.reading_json(meter, 3, now + timedelta(days=2), now, rng)
    unbound = loadgen.reading_json(stray, 1, now - timedelta(days=30), now, rng)  # nobody's device: stored unassigned
    payload = loadgen.batch_payload(f"gw-{unique}", [year_off, fresh, ahead, unbound], now)
    async with ConsumerRun(mqtt_config, unique, database_url) as run:
        await run.send([payload, payload])  # a redelivery holds nothing twice
        assert run.consumer.stats.readings_stored == 2 and run.consumer.stats.held == 4
    with psycopg.connect(database_url) as conn:
        held = conn.execute(
            "SELECT reading_id::text, reason, patient_id, detail FROM review_queue WHERE device_serial = %s"
            " ORDER BY measured_at",
            (meter.serial,),
        ).fetchall()
        filed = conn.execute(
            "SELECT id::text, patient_id FROM readings WHERE device_serial = ANY(%s) ORDER BY measured_at",
            ([meter.serial, stray.serial],),
        ).fetchall()
    assert [(h[0], h[1], h[2]) for h in held] == [
        (year_off["id"], "before_binding", patient),
        (ahead["id"], "future_time", patient),
    ]
    assert held[0][3].startswith("the device is bound only since")
    assert filed == [(unbound["id"], None), (fresh["id"], patient)]
    assert json.loads(payload)["readings"][1]["id"] == fresh["id"]
