"""Drain the outbox to MQTT in order, in batches; delete a batch only after its PUBACK."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import structlog

from contract import ReadingBatch, readings_topic
from gateway.outbox import HubStore
from vitalgate.mqtt import AsyncMqttClient

log = structlog.get_logger(__name__)

# Readings per MQTT message: big enough to amortise broker and database round trips, small
# enough (~250 kB of JSON) to stay far below broker message-size limits.
DEFAULT_BATCH_SIZE = 500


def batch_payload(gateway_id: str, payloads: list[str], now: datetime) -> bytes:
    """Wrap already-serialised readings in a ReadingBatch envelope without re-validating them."""
    envelope = ReadingBatch(gateway_id=gateway_id, sent_at=now, readings=[]).model_dump(mode="json")
    body = json.dumps(envelope, separators=(",", ":"))
    # Splice the stored reading JSON in as-is: it was validated when it entered the outbox.
    return body.replace('"readings":[]', '"readings":[' + ",".join(payloads) + "]").encode()


async def drain_outbox(
    mqtt: AsyncMqttClient, store: HubStore, gateway_id: str, *, batch_size: int = DEFAULT_BATCH_SIZE
) -> int:
    """Publish until the outbox is empty; returns readings published. Raises MqttError on a drop."""
    topic = readings_topic(gateway_id)
    sent = 0
    while True:
        items = store.next_batch(batch_size)
        if not items:
            return sent
        payload = batch_payload(gateway_id, [i.payload for i in items], datetime.now(timezone.utc))
        await mqtt.publish(topic, payload, qos=1)
        store.delete_through(items)
        sent += len(items)
        log.info("gateway.batch_published", readings=len(items), backlog=store.backlog())
