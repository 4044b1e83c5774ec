"""A real IngestConsumer on a test's own shared-subscription group and gateway topic (real broker and PostgreSQL)."""

from __future__ import annotations

import asyncio
from typing import Any

from vitalgate.core.mqtt import AsyncMqttClient
from vitalgate.core.settings import MqttConfig
from vitalgate.ingest.consumer import IngestConsumer, subscription_topic


class ConsumerRun:
    """A consumer on this test's own group and gateway; publish, then wait until it handled N messages."""

    def __init__(self, mqtt_config: MqttConfig, unique: str, database_url: str, **options: Any) -> None:
        self.gateway = f"gw-{unique}"
        self._options = options
        self.topic = f"vitalgate/v1/{self.gateway}/readings"
        self._config, self._unique, self._url = mqtt_config, unique, database_url

    async def __aenter__(self) -> ConsumerRun:
        group = subscription_topic(self._config.protocol == "5", group=f"t-{self._unique}", gateway_id=self.gateway)
        self.sub = AsyncMqttClient(self._config, f"ingest-{self._unique}", clean_start=True, manual_ack=True)
        await self.sub.connect()
        await self.sub.subscribe(group)
        self.consumer = IngestConsumer(self.sub, self._url, batch_size=5000, batch_ms=300, **self._options)
        self.task = asyncio.create_task(self.consumer.run())
        self.pub = AsyncMqttClient(self._config, f"pub-{self._unique}", clean_start=True)
        await self.pub.connect()
        return self

    async def send(self, payloads: list[bytes]) -> None:
        expect = self.consumer.stats.messages + len(payloads)
        for payload in payloads:
            await self.pub.publish(self.topic, payload)
        for _ in range(600):
            if self.consumer.stats.messages >= expect:
                return
            assert not self.task.done(), self.task.exception()
            await asyncio.sleep(0.05)
        raise AssertionError(f"consumer handled {self.consumer.stats.messages} of {expect} messages")

    async def __aexit__(self, *exc: object) -> None:
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)
        await self.pub.disconnect()
        await self.sub.disconnect()
