"""Real `vitalgate ingest run` processes: a kill -9 mid-stream loses nothing, two processes share the load."""

from __future__ import annotations

import asyncio
import signal

import psycopg
import pytest

from tests.support.ingest_process import IngestProcess
from vitalgate.core.mqtt import AsyncMqttClient
from vitalgate.ingest import loadgen


def _count(database_url: str, gateway: str) -> tuple[int, int]:
    with psycopg.connect(database_url) as conn:
        return conn.execute(
            "SELECT count(*), count(DISTINCT id) FROM readings WHERE gateway_id = %s", (gateway,)
        ).fetchone()


async def _publish(mqtt_config, unique: str, gateway: str, messages: list[bytes]) -> None:
    pub = AsyncMqttClient(mqtt_config, f"pub-{unique}", clean_start=True)
    await pub.connect()
    try:
        await asyncio.gather(*(pub.publish(f"vitalgate/v1/{gateway}/readings", m, timeout=60) for m in messages))
    finally:
        await pub.disconnect()


async def _until(database_url: str, gateway: str, predicate, timeout: float) -> int:
    for _ in range(int(timeout / 0.05)):
        count, _ = await asyncio.to_thread(_count, database_url, gateway)
        if predicate(count):
            return count
        await asyncio.sleep(0.05)
    raise AssertionError(f"stuck at {count} readings")


async def _forget(mqtt_config, client_id: str) -> None:
    """Drop the persistent session so the shared broker stops queueing for this test's client."""
    client = AsyncMqttClient(mqtt_config, client_id, clean_start=True)
    await client.connect()
    await client.disconnect()


async def test_kill_9_mid_stream_then_restart_ends_with_exactly_50000_rows(
    database_url, mqtt_url, mqtt_protocol, mqtt_config, unique, tmp_path
):
    if mqtt_protocol != "5":
        pytest.skip(
            "needs an MQTT 5 broker such as Mosquitto: with the embedded amqtt (MQTT 3.1.1) a restarted consumer "
            "was not sent the unacknowledged messages of its persistent session (observed with amqtt 0.12)"
        )
    total = 50_000
    gateway, client_id = f"gw-crash-{unique}", f"ingest-crash-{unique}"
    args = ("--client-id", client_id, "--group", f"crash-{unique}", "--gateway-id", gateway)
    messages = loadgen.payloads(gateway, loadgen.devices(f"CR{unique}", 200), total)
    first = IngestProcess(tmp_path / "first.log")
    await first.start(database_url, mqtt_url, mqtt_protocol, *args)
    try:
        await _publish(mqtt_config, unique, gateway, messages)
        mid = await _until(database_url, gateway, lambda n: n >= 5_000, 60)
        await first.stop(signal.SIGKILL)  # no goodbye: unacked messages stay with the broker
        await asyncio.sleep(0.3)  # a COMMIT already sent before the kill may still complete
        at_kill, _ = _count(database_url, gateway)
        assert mid <= at_kill < total, "the kill did not land mid-stream"

        second = IngestProcess(tmp_path / "second.log")
        await second.start(database_url, mqtt_url, mqtt_protocol, *args)  # same client id: same session
        try:
            await _until(database_url, gateway, lambda n: n >= total, 120)
            await asyncio.sleep(1.0)  # anything still in flight would land now and be a duplicate
        finally:
            await second.stop()
        stopped = await second.wait_for_event("ingest.stopped", 5)
    finally:
        await first.stop(signal.SIGKILL)
        await _forget(mqtt_config, client_id)

    assert _count(database_url, gateway) == (total, total)
    assert stopped["readings_stored"] == total - at_kill  # the restart stored exactly the rest


async def test_two_processes_on_one_shared_subscription_split_the_stream(
    database_url, mqtt_url, mqtt_protocol, mqtt_config, unique, tmp_path
):
    if mqtt_protocol != "5":
        pytest.skip("shared subscriptions need MQTT 5 (amqtt speaks 3.1.1: one ingest process per broker)")
    total = 20_000
    gateway, group = f"gw-split-{unique}", f"split-{unique}"
    messages = loadgen.payloads(gateway, loadgen.devices(f"SP{unique}", 100), total)
    workers = [IngestProcess(tmp_path / f"ingest-{i}.log") for i in range(2)]
    try:
        for i, worker in enumerate(workers):
            await worker.start(
                database_url,
                mqtt_url,
                mqtt_protocol,
                "--client-id",
                f"ingest-split-{i}-{unique}",
                "--group",
                group,
                "--gateway-id",
                gateway,
            )
        await _publish(mqtt_config, unique, gateway, messages)
        await _until(database_url, gateway, lambda n: n >= total, 120)
        await asyncio.sleep(0.5)
    finally:
        for worker in workers:
            await worker.stop()
        for i in range(2):
            await _forget(mqtt_config, f"ingest-split-{i}-{unique}")
    stats = [await worker.wait_for_event("ingest.stopped", 5) for worker in workers]
    assert _count(database_url, gateway) == (total, total)
    assert all(s["messages"] > 0 for s in stats), stats  # both took a share
    assert sum(s["messages"] for s in stats) == len(messages)  # each message went to exactly one
    assert sum(s["readings_stored"] for s in stats) == total and sum(s["duplicates"] for s in stats) == 0
