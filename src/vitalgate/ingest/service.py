"""`vitalgate ingest run`: keep one consumer alive across broker and database outages."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Callable
from datetime import UTC, datetime

import psycopg
import structlog

from vitalgate.core.backoff import backoff_s
from vitalgate.core.mqtt import AsyncMqttClient, MqttError
from vitalgate.core.settings import Settings
from vitalgate.core.shutdown import sleep_until_stopped
from vitalgate.ingest.after_commit import OnCommitted
from vitalgate.ingest.consumer import DEFAULT_WRITERS, SHARED_GROUP, IngestConsumer, IngestStats, subscription_topic

log = structlog.get_logger(__name__)

# Each reading allocates a few dozen short-lived objects (pydantic models, rows): with the default
# threshold of 700 the cyclic collector runs every few readings and cost ~25 % of the parse time
# (measured). Nothing in the hot path builds reference cycles, so collect far less often.
GC_THRESHOLDS = (50_000, 20, 100)

# Reconnect backoff: quick first retry, capped so a long outage is retried every half minute.
BACKOFF_START_S = 0.5
BACKOFF_MAX_S = 30.0


async def run_ingest_service(
    settings: Settings,
    database_url: str,
    stop: asyncio.Event,
    *,
    client_id: str,
    group: str = SHARED_GROUP,
    gateway_id: str = "+",
    on_committed: OnCommitted | None = None,
    writers: int = DEFAULT_WRITERS,
    clock: Callable[[], datetime] | None = None,
) -> IngestStats:
    """Consume until `stop`; unacknowledged messages are redelivered after a restart.

    `on_committed` runs after each committed batch (the composition root hands in the alert pipeline).
    """
    assert settings.mqtt_url is not None
    config = settings.mqtt_config(settings.mqtt_url)
    gc.freeze()  # the start-up objects (modules, settings) never need scanning again
    gc.set_threshold(*GC_THRESHOLDS)
    consumers: list[IngestConsumer] = []
    failures = 0  # consecutive failed attempts, for the reconnect backoff
    # MQTT 3.1.1 brokers (amqtt) have no shared subscriptions: then one ingest process per broker.
    topic = subscription_topic(shared=config.protocol == "5", group=group, gateway_id=gateway_id)
    totals = IngestStats()
    while not stop.is_set():
        # Persistent session (clean_start=False): the broker keeps our unacked messages while we are away.
        mqtt = AsyncMqttClient(
            config,
            client_id,
            clean_start=False,
            manual_ack=True,
            max_unacked_bytes=settings.ingest_max_unacked_mb * 1024 * 1024,
        )
        try:
            await mqtt.connect()
            await mqtt.subscribe(topic, qos=1)
            # Hubs register pairing claims (contract.claim) on their own claims topic.
            await mqtt.subscribe(topic.removesuffix("/readings") + "/claims", qos=1)
            # The hubs' retained status (offline last will, outbox backlog): a plain subscription,
            # since a shared one gets no retained messages; every ingest stores it (an upsert).
            await mqtt.subscribe(f"vitalgate/v1/{gateway_id}/status", qos=1)
            log.info("ingest.started", broker=config.describe(), client_id=client_id, topic=topic)
            failures = 0
            consumer = IngestConsumer(
                mqtt,
                database_url,
                batch_size=settings.ingest_batch_size,
                batch_ms=settings.ingest_batch_ms,
                writers=writers,
                on_committed=on_committed,
                clock=clock or (lambda: datetime.now(UTC)),
                max_payload_bytes=settings.ingest_max_payload_bytes,
                horizon_days=settings.ingest_horizon_days,
            )
            consumers.append(consumer)
            run = asyncio.create_task(consumer.run())
            lost = asyncio.create_task(mqtt.wait_disconnected())
            stopping = asyncio.create_task(stop.wait())
            done, pending = await asyncio.wait({run, lost, stopping}, return_when=asyncio.FIRST_COMPLETED)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
            if run in done:
                run.result()  # re-raise the consumer's failure into the handler below
            if lost in done:
                log.warning("ingest.broker_connection_lost")
        except (MqttError, psycopg.OperationalError, OSError) as exc:
            failures += 1
            delay = backoff_s(failures, base_s=BACKOFF_START_S, cap_s=BACKOFF_MAX_S)
            log.warning("ingest.retrying", error=str(exc), retry_in_s=delay)
            await mqtt.disconnect()
            await sleep_until_stopped(stop, delay)
            continue
        await mqtt.disconnect()
    for consumer in consumers:
        for name in ("messages", "readings_stored", "duplicates", "held", "dead_letters", "batches"):
            setattr(totals, name, getattr(totals, name) + getattr(consumer.stats, name))
    log.info(
        "ingest.stopped",
        messages=totals.messages,
        readings_stored=totals.readings_stored,
        duplicates=totals.duplicates,
        held_for_review=totals.held,
        dead_letters=totals.dead_letters,
        batches=totals.batches,
    )
    return totals
