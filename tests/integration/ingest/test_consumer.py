"""The consumer against the real broker and PostgreSQL: duplicates stored once, poison dead-lettered alone."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

from vitalgate.core.mqtt import AsyncMqttClient
from vitalgate.core.settings import MqttConfig
from vitalgate.ingest import loadgen
from vitalgate.ingest.consumer import IngestConsumer, subscription_topic


async def _consume(
    mqtt_config: MqttConfig, unique: str, database_url: str, messages: list[bytes], expect: int
) -> IngestConsumer:
    """Run a consumer on this test's own group and gateway until it has handled `expect` messages."""
    gateway = f"gw-{unique}"
    sub = AsyncMqttClient(mqtt_config, f"ingest-{unique}", clean_start=True, manual_ack=True)
    await sub.connect()
    await sub.subscribe(subscription_topic(mqtt_config.protocol == "5", group=f"t-{unique}", gateway_id=gateway))
    consumer = IngestConsumer(sub, database_url, batch_size=5000, batch_ms=300)
    task = asyncio.create_task(consumer.run())
    pub = AsyncMqttClient(mqtt_config, f"pub-{unique}", clean_start=True)
    await pub.connect()
    try:
        for payload in messages:
            await pub.publish(f"vitalgate/v1/{gateway}/readings", payload)
        for _ in range(400):
            if consumer.stats.messages >= expect:
                break
            if task.done():
                task.result()
            await asyncio.sleep(0.05)
        else:
            raise AssertionError(f"consumer handled {consumer.stats.messages} of {expect} messages")
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await pub.disconnect()
        await sub.disconnect()
    return consumer


async def test_republished_and_overlapping_batches_store_each_reading_once(database_url, mqtt_config, unique):
    fleet = loadgen.devices(f"DUP{unique}", 20)
    first, second = loadgen.payloads(f"gw-{unique}", fleet, 1000)
    overlap = json.loads(second)
    overlap["readings"] = overlap["readings"][:250] + json.loads(first)["readings"][:250]
    consumer = await _consume(
        mqtt_config, unique, database_url, [first, first, second, json.dumps(overlap).encode()], 4
    )
    assert consumer.stats.readings_stored == 1000
    assert consumer.stats.duplicates == 500 + 500
    with psycopg.connect(database_url) as conn:
        count, distinct = conn.execute(
            "SELECT count(*), count(DISTINCT id) FROM readings WHERE gateway_id = %s", (f"gw-{unique}",)
        ).fetchone()
    assert count == distinct == 1000


async def test_poison_goes_to_dead_letters_and_good_neighbours_are_stored(database_url, mqtt_config, unique):
    fleet = loadgen.devices(f"PSN{unique}", 10)
    gateway = f"gw-{unique}"
    good, mixed, refused = loadgen.payloads(gateway, fleet, 30, per_message=10)
    doc = json.loads(mixed)
    bp = next(i for i, r in enumerate(doc["readings"]) if r["kind"] == "blood_pressure")
    doc["readings"][bp]["values"]["systolic"]["value"] = 900.0
    doc["readings"][0]["measured_at"] = (datetime.now(UTC) + timedelta(days=3650)).isoformat()
    # Valid by the contract, refused by PostgreSQL (text cannot hold NUL): found and isolated.
    nul = json.loads(refused)
    nul["readings"][3]["device"]["serial"] = f"NUL\u0000{unique}"
    wrong_version = json.loads(good)
    wrong_version["schema_version"] = 9
    messages = [
        b"{not json " + unique.encode(),
        good,
        json.dumps(doc).encode(),
        json.dumps(nul).encode(),
        json.dumps(wrong_version).encode(),
    ]
    consumer = await _consume(mqtt_config, unique, database_url, messages, len(messages))

    assert consumer.stats.readings_stored == 10 + 8 + 9
    assert consumer.stats.dead_letters == 4
    assert consumer.stats.held == 1  # the far-future reading waits in the review queue (future_time)
    with psycopg.connect(database_url) as conn:
        stored = conn.execute("SELECT count(*) FROM readings WHERE gateway_id = %s", (gateway,)).fetchone()[0]
        letters = conn.execute(
            "SELECT reason, payload FROM dead_letters WHERE topic = %s ORDER BY id",
            (f"vitalgate/v1/{gateway}/readings",),
        ).fetchall()
    assert stored == 27
    reasons = [r for r, _ in letters]
    assert any(r.startswith("not JSON") for r in reasons)
    assert any("unsupported schema_version 9" in r for r in reasons)
    assert any("systolic 900.0 mm[Hg] is outside the plausible range" in r for r in reasons)
    with psycopg.connect(database_url) as conn:
        held = conn.execute(
            "SELECT reason, reading_id::text FROM review_queue WHERE gateway_id = %s", (gateway,)
        ).fetchall()
    assert held == [("future_time", doc["readings"][0]["id"])]
    assert any(r.startswith("refused by the database") for r in reasons)
    assert all(p for _, p in letters)  # the raw input is kept

    cli = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).with_name("vitalgate")),
        "ingest",
        "dead-letters",
        "--limit",
        "200",
        env={**os.environ, "VITALGATE_DATABASE_URL": database_url, "COLUMNS": "250"},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output = (await asyncio.wait_for(cli.communicate(), 60))[0].decode()
    assert cli.returncode == 0, output
    assert f"vitalgate/v1/{gateway}/readings" in output and "refused by the database" in output
