"""`vitalgate ingest run`: keep one consumer alive across broker and database outages."""

from __future__ import annotations

import asyncio
import signal

import psycopg
import structlog

from ingest.consumer import IngestConsumer, subscription_topic
from vitalgate.mqtt import AsyncMqttClient, MqttError
from vitalgate.pipeline import AlertPipeline
from vitalgate.settings import Settings

log = structlog.get_logger(__name__)

# Reconnect backoff: quick first retry, capped so a long outage is retried every half minute.
BACKOFF_START_S = 0.5
BACKOFF_MAX_S = 30.0


def next_backoff(previous: float) -> float:
    """Exponential backoff, doubling up to the cap."""
    return min(BACKOFF_MAX_S, max(BACKOFF_START_S, previous * 2))


async def run_ingest_service(settings: Settings, database_url: str, *, client_id: str) -> None:
    """Consume until SIGTERM/SIGINT; unacknowledged messages are redelivered after a restart."""
    assert settings.mqtt_url is not None
    config = settings.mqtt_config(settings.mqtt_url)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    backoff = 0.0
    while not stop.is_set():
        # Persistent session (clean_start=False): the broker keeps our unacked messages while we are away.
        mqtt = AsyncMqttClient(config, client_id, clean_start=False, manual_ack=True)
        try:
            await mqtt.connect()
            await mqtt.subscribe(subscription_topic(shared=config.protocol == "5"), qos=1)
            log.info("ingest.started", broker=config.describe(), client_id=client_id)
            backoff = 0.0
            consumer = IngestConsumer(
                mqtt, database_url, batch_size=settings.ingest_batch_size, batch_ms=settings.ingest_batch_ms,
                on_committed=AlertPipeline(database_url),
            )
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
            backoff = next_backoff(backoff)
            log.warning("ingest.retrying", error=str(exc), retry_in_s=backoff)
            await mqtt.disconnect()
            try:
                await asyncio.wait_for(stop.wait(), backoff)
            except asyncio.TimeoutError:
                pass
            continue
        await mqtt.disconnect()
    log.info("ingest.stopped")
