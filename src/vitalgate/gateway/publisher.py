"""Drain the outbox to MQTT in order, in batches; delete a reading only on ingest's commit receipt.

A PUBACK only says the broker has the message: a broker restart without persistence, or one that
forgets shared subscriptions (Mosquitto 2.0), loses it. So a PUBACK marks the rows published, and
the commit receipt ingest sends after its database commit (contract.receipts) deletes them; rows
without a receipt after `receipt_timeout_s` are published again (ingest stores an id once).

`Publisher.run` is the long-running form: one persistent MQTT session (client id = gateway id,
clean_start=False) subscribed to its receipts, with a retained status and an "offline" last will;
on a broker outage it reconnects with backoff while the sync loop keeps filling the outbox.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable
from datetime import UTC, datetime, timedelta

import structlog
from pydantic import ValidationError

from vitalgate.contract import (
    CommitReceipt,
    DeviceClaim,
    ReadingBatch,
    claims_topic,
    offline_status,
    readings_topic,
    receipts_topic,
    status_topic,
)
from vitalgate.core.backoff import backoff_s
from vitalgate.core.mqtt import AsyncMqttClient, MqttError, Will
from vitalgate.core.settings import MqttConfig
from vitalgate.core.shutdown import sleep_until_stopped
from vitalgate.gateway.claims import HubClaims
from vitalgate.gateway.config import HubConfig
from vitalgate.gateway.outbox import HubStore
from vitalgate.gateway.status import build_status

log = structlog.get_logger(__name__)

# Readings per MQTT message: big enough to amortise broker and database round trips, small
# enough (~250 kB of JSON) to stay far below broker message-size limits.
DEFAULT_BATCH_SIZE = 500
# A retained status older than this tells the server the hub is wedged even if TCP is up.
STATUS_HEARTBEAT_S = 30.0
# Default wait for a commit receipt before publishing a reading again (HubConfig.receipt_timeout_s).
DEFAULT_RECEIPT_TIMEOUT_S = 60.0
# Status after receipts: at most this often (receipts for a large backlog come many per second).
STATUS_MIN_INTERVAL_S = 1.0


def batch_payload(gateway_id: str, payloads: list[str], now: datetime) -> bytes:
    """Wrap already-serialised readings in a ReadingBatch envelope without re-validating them."""
    envelope = ReadingBatch(gateway_id=gateway_id, sent_at=now, readings=[]).model_dump(mode="json")
    body = json.dumps(envelope, separators=(",", ":"))
    # Splice the stored reading JSON in as-is: it was validated when it entered the outbox.
    return body.replace('"readings":[]', '"readings":[' + ",".join(payloads) + "]").encode()


async def drain_outbox(
    mqtt: AsyncMqttClient,
    store: HubStore,
    gateway_id: str,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    receipt_timeout_s: float = DEFAULT_RECEIPT_TIMEOUT_S,
    stop: asyncio.Event | None = None,
) -> int:
    """Publish every row that is new or overdue for its receipt (until `stop`); returns readings published.

    Raises MqttError on a drop; the batch without PUBACK stays unpublished and goes again.
    """
    topic = readings_topic(gateway_id)
    sent = 0
    while stop is None or not stop.is_set():
        now = datetime.now(UTC)
        items = store.next_batch(batch_size, resend_before=now - timedelta(seconds=receipt_timeout_s))
        if not items:
            break
        await mqtt.publish(topic, batch_payload(gateway_id, [i.payload for i in items], now), qos=1)
        store.mark_published(items, now=now)
        sent += len(items)
        log.info("gateway.batch_published", readings=len(items), backlog=store.backlog())
    return sent


def apply_receipt(store: HubStore, gateway_id: str, payload: bytes, claims: HubClaims | None = None) -> int:
    """Delete the outbox rows a commit receipt names (and confirm its claims); returns rows deleted."""
    try:
        receipt = CommitReceipt.model_validate_json(payload)
    except ValidationError as exc:
        log.warning("gateway.bad_receipt", error=str(exc)[:200])
        return 0
    if receipt.gateway_id != gateway_id:
        log.warning("gateway.foreign_receipt", receipt_gateway=receipt.gateway_id)
        return 0
    if claims is not None and receipt.claims:
        claims.confirm(receipt.claims, now=datetime.now(UTC))
    return store.confirm(str(i) for i in receipt.reading_ids) if receipt.reading_ids else 0


async def send_claims(mqtt: AsyncMqttClient, claims: HubClaims, gateway_id: str, *, resend_after_s: float) -> int:
    """Register pending claim hashes with the server (QoS 1); re-sent until a receipt confirms them."""
    now = datetime.now(UTC)
    due = claims.due(now - timedelta(seconds=resend_after_s))
    for claim in due:
        message = DeviceClaim(
            gateway_id=gateway_id,
            device_serial=claim.serial,
            device_kind=claim.kind,
            code_hash=claim.code_hash,
            paired_at=claim.paired_at,
        )
        await mqtt.publish(claims_topic(gateway_id), message.model_dump_json().encode(), qos=1)
    claims.mark_sent([c.serial for c in due], now=now)
    return len(due)


class Publisher:
    """Owns the hub's MQTT session for the life of `gateway run`."""

    def __init__(self, store: HubStore, mqtt_config: MqttConfig, gateway_id: str, config: HubConfig) -> None:
        self._store, self._mqtt_config, self._gateway_id, self._config = store, mqtt_config, gateway_id, config
        self.wake = asyncio.Event()  # set by the sync loop after it queued readings
        self.connected = asyncio.Event()
        self.confirmed = asyncio.Event()  # set whenever a commit receipt removed rows
        self._claims = HubClaims(store.path)
        self._confirmed_since_status = False
        self._last_status = 0.0

    def _client(self) -> AsyncMqttClient:
        will = Will(status_topic(self._gateway_id), offline_status(self._gateway_id).model_dump_json().encode())
        return AsyncMqttClient(self._mqtt_config, self._gateway_id, clean_start=False, will=will)

    async def _publish_status(self, client: AsyncMqttClient, *, online: bool = True) -> None:
        status = build_status(self._store, self._gateway_id, online=online)
        self._confirmed_since_status = False
        self._last_status = asyncio.get_running_loop().time()
        await client.publish(status_topic(self._gateway_id), status.model_dump_json().encode(), qos=1, retain=True)
        assert status.updated_at is not None
        self._store.note_status(online=online, now=status.updated_at)

    async def run(self, stop: asyncio.Event) -> None:
        """Connect, drain, wait for more; reconnect with backoff after any broker failure, until `stop`."""
        self._claims = HubClaims(self._store.path)  # reopened per run, closed when it ends
        try:
            await self._run(stop)
        finally:
            self._claims.close()

    async def _run(self, stop: asyncio.Event) -> None:
        attempt = 0
        while not stop.is_set():
            client = self._client()
            try:
                await client.connect()
            except MqttError as exc:
                attempt += 1
                delay = backoff_s(
                    attempt, base_s=self._config.reconnect_min_s, cap_s=self._config.reconnect_max_s, jitter=0.2
                )
                # Log the failure state once, then quietly retry (and log the recovery).
                if attempt == 1:
                    log.warning(
                        "gateway.broker_unreachable",
                        broker=self._mqtt_config.describe(),
                        error=str(exc),
                        backlog=self._store.backlog(),
                    )
                await sleep_until_stopped(stop, delay)
                continue
            if attempt:
                log.info("gateway.broker_reconnected", after_attempts=attempt, backlog=self._store.backlog())
            attempt = 0
            self.connected.set()
            try:
                await self._serve(client, stop)
            except MqttError as exc:
                log.warning("gateway.broker_lost", error=str(exc), backlog=self._store.backlog())
                attempt = 1
            finally:
                self.connected.clear()
                await self._close(client, graceful=stop.is_set())

    async def _serve(self, client: AsyncMqttClient, stop: asyncio.Event) -> None:
        # Every connect: a broker restarted without persistence has forgotten the subscription.
        await client.subscribe(receipts_topic(self._gateway_id), qos=1)
        await self._publish_status(client)
        receipts = asyncio.create_task(self._receipts(client), name="gateway-receipts")
        try:
            while not stop.is_set():
                self.wake.clear()
                self.confirmed.clear()
                await send_claims(client, self._claims, self._gateway_id, resend_after_s=self._config.receipt_timeout_s)
                sent = await drain_outbox(
                    client,
                    self._store,
                    self._gateway_id,
                    batch_size=self._config.batch_size,
                    receipt_timeout_s=self._config.receipt_timeout_s,
                    stop=stop,
                )
                if sent:
                    await self._publish_status(client)
                woke = await _first(
                    stop.wait(),
                    self.wake.wait(),
                    self.confirmed.wait(),
                    client.wait_disconnected(),
                    asyncio.shield(receipts),  # shielded: _first cancels the losers
                    timeout=self._idle_s(),
                )
                if receipts.done():
                    receipts.result()  # a failure of the receipt pump ends this session
                if not client.is_connected or client.disconnected:
                    raise MqttError("connection lost")
                if self._status_due(heartbeat=not woke):
                    await self._publish_status(client)
        finally:
            receipts.cancel()
            await asyncio.gather(receipts, return_exceptions=True)

    async def _receipts(self, client: AsyncMqttClient) -> None:
        """Apply commit receipts as they come; a confirmed row leaves the outbox."""
        while True:
            message = await client.messages.get()
            if message.topic != receipts_topic(self._gateway_id):
                continue
            if apply_receipt(self._store, self._gateway_id, message.payload, self._claims):
                self._confirmed_since_status = True
                self.confirmed.set()

    def _idle_s(self) -> float:
        """Sleep until the next heartbeat or the next row due for re-publication, whichever is first."""
        due = self._store.next_resend_at(self._config.receipt_timeout_s)
        if due is None:
            return STATUS_HEARTBEAT_S
        return min(STATUS_HEARTBEAT_S, max(0.05, (due - datetime.now(UTC)).total_seconds() + 0.01))

    def _status_due(self, *, heartbeat: bool) -> bool:
        """A heartbeat, or receipts changed the backlog (rate-limited)."""
        since = asyncio.get_running_loop().time() - self._last_status
        if self._confirmed_since_status and since >= STATUS_MIN_INTERVAL_S:
            return True
        return heartbeat and since >= STATUS_HEARTBEAT_S / 2

    async def _close(self, client: AsyncMqttClient, *, graceful: bool) -> None:
        if graceful and client.is_connected:
            # A clean DISCONNECT suppresses the will, so say "offline" ourselves.
            with contextlib.suppress(MqttError):
                await self._publish_status(client, online=False)
        await client.disconnect()


async def _first(*aws: Awaitable[object], timeout: float) -> bool:
    """Wait for the first awaitable to finish; False on timeout. The others are cancelled."""
    tasks = [asyncio.ensure_future(a) for a in aws]
    try:
        done, _ = await asyncio.wait(tasks, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return bool(done)
