"""The ingest loop: collect messages into a batch, commit it, then acknowledge every message in it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import psycopg
import structlog

from vitalgate.core.mqtt import AsyncMqttClient, Message
from vitalgate.ingest.after_commit import AfterCommitWorker, OnCommitted
from vitalgate.ingest.messages import (
    DEFAULT_MAX_PAYLOAD_BYTES,
    Parts,
    drop_batch_conflicts,
    drop_stored_conflicts,
    receipts_by_gateway,
    split_message,
)
from vitalgate.ingest.receipts import ReceiptSender
from vitalgate.store import claims as claim_store
from vitalgate.store import gateway_status
from vitalgate.store import readings as reading_store
from vitalgate.store.db import connect
from vitalgate.store.holds import DEFAULT_HORIZON_DAYS, HeldReading, TimeWindow

log = structlog.get_logger(__name__)

SHARED_GROUP = "ingest"

# Database connections writing batches concurrently: PostgreSQL does most of the work per reading
# (merge, indexes, rollup), so two server processes keep both cores of a small host busy.
DEFAULT_WRITERS = 2

# Readings committed but waiting for the after-commit hook before ingest itself waits: a burst of
# this size is absorbed at full speed while alert evaluation catches up.
MAX_AFTER_COMMIT_PENDING = 50_000


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
    held: int = 0  # readings moved to the review queue (store.holds)
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
        writers: int = DEFAULT_WRITERS,
        on_committed: OnCommitted | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        max_payload_bytes: int = DEFAULT_MAX_PAYLOAD_BYTES,
        horizon_days: int = DEFAULT_HORIZON_DAYS,
        receipts: bool = True,
    ) -> None:
        self._mqtt = mqtt
        self._url = database_url
        self._batch_size = batch_size
        self._batch_s = batch_ms / 1000
        self._on_committed = on_committed
        self._writers = writers
        self._clock = clock
        self._max_payload_bytes = max_payload_bytes
        self._horizon_days = horizon_days
        self.stats = IngestStats()
        self._after: AfterCommitWorker | None = None
        # Commit receipts to the hubs (contract.receipts), published after each batch's commit.
        self.receipts = ReceiptSender(mqtt) if receipts else None

    async def run(self) -> None:
        """Consume until cancelled.

        Stages overlap: while PostgreSQL merges earlier batches on `writers` connections (server
        processes on other cores), this loop collects and validates the next one. Acknowledgements
        and the after-commit hook still follow the commits in batch order.
        """
        conns = [await connect(self._url) for _ in range(self._writers)]
        free: asyncio.Queue[psycopg.AsyncConnection] = asyncio.Queue()
        for conn in conns:
            free.put_nowait(conn)
        in_flight: set[asyncio.Task[None]] = set()
        last: asyncio.Task[None] | None = None
        after: asyncio.Task[None] | None = None
        if self._on_committed is not None:
            self._after = AfterCommitWorker(
                self._on_committed, max_pending=MAX_AFTER_COMMIT_PENDING, errors=self.stats.errors
            )
            after = asyncio.create_task(self._after.run(), name="ingest-after-commit")
        sender = asyncio.create_task(self.receipts.run(), name="ingest-receipts") if self.receipts else None
        try:
            while True:
                batch = await self._collect(last)
                now = self._clock()
                parts = []
                for message in batch:
                    parts.append(split_message(message, now, self._max_payload_bytes))
                    # A 500-reading message takes milliseconds to validate: let the writers send
                    # their next statements in between, so PostgreSQL works while we parse.
                    await asyncio.sleep(0)
                drop_batch_conflicts(parts)
                conn = await self._free_writer(free, last)
                last = asyncio.create_task(self._commit(conn, batch, parts, now, previous=last))
                in_flight.add(last)
                last.add_done_callback(_release(in_flight, free, conn))
        finally:
            for task in [*in_flight, after, sender]:
                if task is not None and not task.done():
                    task.cancel()
            await asyncio.gather(*in_flight, *[t for t in (after, sender) if t], return_exceptions=True)
            for conn in conns:
                await conn.close()

    @staticmethod
    async def _free_writer(
        free: asyncio.Queue[psycopg.AsyncConnection], last: asyncio.Task[None] | None
    ) -> psycopg.AsyncConnection:
        """A connection with no batch on it; waits while all are busy (back-pressure), re-raises a failure."""
        if not free.empty() or last is None:
            return await free.get()
        get = asyncio.ensure_future(free.get())
        await asyncio.wait({get, last}, return_when=asyncio.FIRST_COMPLETED)
        if last.done() and not last.cancelled() and last.exception() is not None:
            get.cancel()
            last.result()
        return await get

    async def _collect(self, writing: asyncio.Task[None] | None) -> list[Message]:
        """Wait for a first message, then take more until the batch is full or its time is up."""
        queue = self._mqtt.messages
        if queue.empty() and writing is not None and not writing.done():
            # Idle: still surface a failed commit now rather than at the next message.
            get = asyncio.ensure_future(queue.get())
            await asyncio.wait({get, writing}, return_when=asyncio.FIRST_COMPLETED)
            if writing.done() and not writing.cancelled() and writing.exception() is not None:
                get.cancel()
                writing.result()
            first = await get
        else:
            first = await queue.get()
        batch = [first]
        deadline = time.monotonic() + self._batch_s
        # Gateways send up to 500 readings a message: a byte count of one key per reading is a
        # cheap estimate ("kind" would count twice: the device has one too).
        readings_guess = max(1, first.payload.count(b'"measured_at"'))
        while readings_guess < self._batch_size:
            if queue.empty():
                timeout = deadline - time.monotonic()
                if timeout <= 0:
                    break
                try:
                    message = await asyncio.wait_for(queue.get(), timeout)
                except TimeoutError:
                    break
            else:
                message = queue.get_nowait()
            batch.append(message)
            readings_guess += max(1, message.payload.count(b'"measured_at"'))
        return batch

    async def _commit(
        self,
        conn: psycopg.AsyncConnection,
        batch: list[Message],
        parts: list[Parts],
        now: datetime,
        *,
        previous: asyncio.Task[None] | None,
    ) -> None:
        """Write one batch in its own transaction, then (after the previous batch) ack and report it."""
        rows = [row for part in parts for row in part.rows]
        rejects = [reject for part in parts for reject in part.rejects]
        refused = 0
        window = TimeWindow.around(now, self._horizon_days)
        try:
            async with conn.transaction():
                stored, held = await reading_store.write_readings_held(conn, rows, window)
                if len(stored) + len(held) < len(rows):  # duplicates: do any of them say something else?
                    conflicts = drop_stored_conflicts(parts, await reading_store.conflicting_duplicates(conn))
                    rejects = rejects + conflicts
                    refused = len(conflicts)
                await reading_store.record_dead_letters(conn, rejects)
                await _register_claims(conn, parts)
                await _record_statuses(conn, parts, now)
        except (psycopg.DataError, psycopg.IntegrityError) as exc:
            # Valid by the contract yet refused by PostgreSQL (e.g. a NUL character in a text
            # field): isolate the culprits row by row instead of blocking the stream forever.
            log.warning("ingest.batch_refused_isolating", error=str(exc)[:200], messages=len(batch))
            stored, rejects, refused, held = await self._commit_row_by_row(conn, parts, window)
        if previous is not None:
            await previous  # acks leave in the order the messages came (and a failure stops the chain)
        # Only now, with the rows durable, may the broker forget the messages.
        for message in batch:
            self._mqtt.ack(message)
        if self.receipts is not None:  # every id of these messages is now stored, held or dead-lettered
            self.receipts.submit(receipts_by_gateway(parts), now)
        duplicates = len(rows) - refused - len(stored) - len(held)
        self.stats.messages += len(batch)
        self.stats.held += len(held)
        self.stats.batches += 1
        self.stats.readings_stored += len(stored)
        self.stats.duplicates += duplicates
        self.stats.dead_letters += len(rejects)
        self.stats.last_commit_at = now
        log.info(
            "ingest.batch_committed",
            messages=len(batch),
            stored=len(stored),
            duplicates=duplicates,
            dead_letters=len(rejects),
            held_for_review=len(held),
        )
        for topic, _, reason in rejects:
            log.warning("ingest.dead_letter", topic=topic, reason=reason[:200])
        if stored and self._after is not None:
            await self._after.submit(stored, now)

    async def _commit_row_by_row(
        self, conn: psycopg.AsyncConnection, parts: list[Parts], window: TimeWindow
    ) -> tuple[list[reading_store.StoredReading], list[reading_store.DeadLetter], int, list[HeldReading]]:
        """Slow path after a refused batch: each row in its own savepoint; refused rows become dead letters."""
        stored: list[reading_store.StoredReading] = []
        rejects: list[reading_store.DeadLetter] = []
        held: list[HeldReading] = []
        refused = 0
        async with conn.transaction():
            for part in parts:
                rejects.extend(part.rejects)
                for row, reading in zip(part.rows, part.readings, strict=False):
                    try:
                        async with conn.transaction():
                            written, on_hold = await reading_store.write_readings_held(conn, [row], window)
                            stored.extend(written)
                            held.extend(on_hold)
                            if not written and not on_hold and await reading_store.conflicting_duplicates(conn):
                                refused += 1
                                rejects.extend(drop_stored_conflicts([part], {row[0]}))
                    except (psycopg.DataError, psycopg.IntegrityError) as exc:
                        refused += 1
                        reason = f"refused by the database: {str(exc).strip()[:500]}"
                        rejects.append((part.topic, reading.model_dump_json().encode(), reason))
            await reading_store.record_dead_letters(conn, rejects)
            await _register_claims(conn, parts)
            await _record_statuses(conn, parts, self._clock())
        return stored, rejects, refused, held


async def _record_statuses(conn: psycopg.AsyncConnection, parts: list[Parts], now: datetime) -> None:
    """Keep each hub's latest retained status (the worklist says why a patient's data stopped)."""
    for part in parts:
        if part.status is not None:
            await gateway_status.record_gateway_status(
                conn,
                part.status.gateway_id,
                online=part.status.online,
                backlog=part.status.backlog,
                last_publish_at=part.status.last_publish_at,
                seen_at=part.status.updated_at or now,
            )


async def _register_claims(conn: psycopg.AsyncConnection, parts: list[Parts]) -> None:
    """Store the hubs' pairing claims of this batch (a hub cannot claim a device another hub owns)."""
    for part in parts:
        for claim in part.claims:
            assert part.gateway_id is not None
            stored = await claim_store.register(
                conn,
                hub_id=part.gateway_id,
                serial=claim.device_serial,
                kind=claim.device_kind,
                code_hash=bytes.fromhex(claim.code_hash),
            )
            if not stored:
                log.warning("ingest.claim_refused_foreign_hub", gateway_id=part.gateway_id, serial=claim.device_serial)


def _release(
    in_flight: set[asyncio.Task[None]], free: asyncio.Queue[psycopg.AsyncConnection], conn: psycopg.AsyncConnection
) -> Callable[[asyncio.Task[None]], None]:
    """Done-callback: the batch left the writer, its connection takes the next one."""

    def done(task: asyncio.Task[None]) -> None:
        in_flight.discard(task)
        free.put_nowait(conn)

    return done
