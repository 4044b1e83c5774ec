"""The ingest loop: collect messages into a batch, commit it, then acknowledge every message in it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone

import psycopg
import structlog

from ingest.rows import staging_row
from ingest.validate import parse_message
from store import readings as reading_store
from store.db import connect
from vitalgate.mqtt import AsyncMqttClient, Message

log = structlog.get_logger(__name__)

SHARED_GROUP = "ingest"

OnCommitted = Callable[[Sequence[reading_store.StoredReading], datetime], Awaitable[None]]


def subscription_topic(shared: bool, *, group: str = SHARED_GROUP, gateway_id: str = "+") -> str:
    """MQTT v5 shared subscription so several ingest processes split the stream.

    Tests and the demo pass their own group and gateway so they never take messages meant for a
    production ingest group on the same broker (or hand theirs to it).
    """
    topic = f"vitalgate/v1/{gateway_id}/readings"
    return f"$share/{group}/{topic}" if shared else topic


@dataclass(slots=True)
class IngestStats:
    messages: int = 0
    readings_stored: int = 0
    duplicates: int = 0
    dead_letters: int = 0
    batches: int = 0
    last_commit_at: datetime | None = None
    errors: list[str] = field(default_factory=list)


class IngestConsumer:
    """Batches by size and by time; at-least-once from the broker, exactly-once in the table."""

    def __init__(
        self,
        mqtt: AsyncMqttClient,
        database_url: str,
        *,
        batch_size: int = 1000,
        batch_ms: int = 200,
        on_committed: OnCommitted | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
    ) -> None:
        self._mqtt = mqtt
        self._url = database_url
        self._batch_size = batch_size
        self._batch_s = batch_ms / 1000
        self._on_committed = on_committed
        self._clock = clock
        self.stats = IngestStats()

    async def run(self) -> None:
        """Consume until cancelled."""
        conn = await connect(self._url)
        try:
            while True:
                batch = await self._collect()
                await self._commit(conn, batch)
        finally:
            await conn.close()

    async def _collect(self) -> list[Message]:
        """Wait for a first message, then take more until the batch is full or its time is up."""
        first = await self._mqtt.messages.get()
        batch = [first]
        deadline = time.monotonic() + self._batch_s
        readings_guess = 1
        while readings_guess < self._batch_size:
            timeout = deadline - time.monotonic()
            if timeout <= 0:
                break
            try:
                message = await asyncio.wait_for(self._mqtt.messages.get(), timeout)
            except asyncio.TimeoutError:
                break
            batch.append(message)
            # Gateways send up to 500 readings a message; count messages as cheap proxies.
            readings_guess += max(1, message.payload.count(b'"kind"'))
        return batch

    async def _commit(self, conn: psycopg.AsyncConnection, batch: list[Message]) -> None:
        now = self._clock()
        rows = []
        rejects = []
        for message in batch:
            parsed = parse_message(message.topic, message.payload, now)
            for reading in parsed.readings:
                rows.append(staging_row(reading, parsed.gateway_id or "unknown"))
            rejects.extend((message.topic, r.payload, r.reason) for r in parsed.rejected)
        async with conn.transaction():
            stored = await reading_store.write_readings(conn, rows)
            for topic, payload, reason in rejects:
                await reading_store.record_dead_letter(conn, topic, payload, reason)
        # Only now, with the rows durable, may the broker forget the messages.
        for message in batch:
            self._mqtt.ack(message)
        self.stats.messages += len(batch)
        self.stats.batches += 1
        self.stats.readings_stored += len(stored)
        self.stats.duplicates += len(rows) - len(stored)
        self.stats.dead_letters += len(rejects)
        self.stats.last_commit_at = now
        log.info(
            "ingest.batch_committed", messages=len(batch), stored=len(stored),
            duplicates=len(rows) - len(stored), dead_letters=len(rejects),
        )
        for topic, _, reason in rejects:
            log.warning("ingest.dead_letter", topic=topic, reason=reason[:200])
        if stored and self._on_committed is not None:
            try:
                await self._on_committed(stored, now)
            except Exception as exc:  # isolate downstream failures: the readings are safe already
                log.exception("ingest.after_commit_failed", error=str(exc))
                self.stats.errors.append(str(exc))
