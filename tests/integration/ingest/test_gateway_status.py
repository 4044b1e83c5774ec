"""The hubs' retained status reaches the gateways table (the worklist's data-gap reasons read it)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import psycopg

from vitalgate.contract import GatewayStatus
from vitalgate.contract.status import offline_status
from vitalgate.core.mqtt import AsyncMqttClient
from vitalgate.core.settings import MqttConfig
from vitalgate.ingest.consumer import IngestConsumer


def _row(url: str, gateway: str) -> tuple | None:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT status, backlog FROM gateways WHERE id = %s", (gateway,)).fetchone()


async def test_retained_status_is_stored_and_the_last_will_marks_the_hub_offline(
    database_url: str, mqtt_config: MqttConfig, unique: str
) -> None:
    gateway = f"gw-{unique}"
    pub = AsyncMqttClient(mqtt_config, f"hub-{unique}", clean_start=True)
    await pub.connect()
    online = GatewayStatus(gateway_id=gateway, state="online", online=True, backlog=37, updated_at=datetime.now(UTC))
    # Retained before ingest subscribes: a plain subscription still receives it.
    await pub.publish(f"vitalgate/v1/{gateway}/status", online.model_dump_json().encode(), retain=True)
    sub = AsyncMqttClient(mqtt_config, f"ingest-{unique}", clean_start=True, manual_ack=True)
    await sub.connect()
    await sub.subscribe(f"vitalgate/v1/{gateway}/status", qos=1)
    consumer = IngestConsumer(sub, database_url, batch_size=100, batch_ms=100)
    task = asyncio.create_task(consumer.run())
    try:
        for _ in range(200):
            if _row(database_url, gateway) is not None:
                break
            await asyncio.sleep(0.05)
        assert _row(database_url, gateway) == ("online", 37)
        await pub.publish(
            f"vitalgate/v1/{gateway}/status", offline_status(gateway).model_dump_json().encode(), retain=True
        )
        await pub.publish(f"vitalgate/v1/{gateway}/status", b"{not json", retain=False)
        for _ in range(200):
            if (_row(database_url, gateway) or ("",))[0] == "offline":
                break
            await asyncio.sleep(0.05)
        assert _row(database_url, gateway) == ("offline", None)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await pub.publish(f"vitalgate/v1/{gateway}/status", b"", retain=True)  # clear the retained message
        await pub.disconnect()
        await sub.disconnect()
    with psycopg.connect(database_url) as conn:
        letters = conn.execute(
            "SELECT reason FROM dead_letters WHERE topic = %s", (f"vitalgate/v1/{gateway}/status",)
        ).fetchall()
    assert any(r[0].startswith("bad status") for r in letters)
