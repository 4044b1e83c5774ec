"""Commit receipts to hubs: after a batch's database commit, tell each hub which of its readings are durable.

Every reading id of a committed message is receipted: stored now, already stored (a duplicate),
dead-lettered or held for review; the hub then drops it from its outbox. Sending is best effort
on purpose: a receipt lost with the connection only makes the hub publish those readings again
after its timeout, and ingest stores an id once.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterable
from datetime import datetime

import structlog
from pydantic import ValidationError

from vitalgate.contract import MAX_RECEIPT_IDS, CommitReceipt, Reading, receipts_topic
from vitalgate.core.mqtt import AsyncMqttClient, MqttError

log = structlog.get_logger(__name__)

# Receipts waiting to be published before the oldest are dropped (their hubs re-publish): ~100 s
# of a 1,000-reading/s stream, bounded memory if the broker stops acknowledging.
MAX_PENDING_IDS = 100_000
# Rejected payloads larger than this are not searched for reading ids (their hub re-publishes,
# they are dead-lettered again: bounded work per message).
MAX_SCAN_BYTES = 2 * 1024 * 1024


def rejected_ids(payload: bytes) -> list[uuid.UUID]:
    """Reading ids inside a dead-lettered payload (a whole batch or one reading), best effort."""
    if len(payload) > MAX_SCAN_BYTES:
        return []
    try:
        doc = json.loads(payload)
    except (ValueError, RecursionError):
        return []
    candidates = doc.get("readings") if isinstance(doc, dict) and "readings" in doc else [doc]
    if not isinstance(candidates, list):
        return []
    ids = []
    for item in candidates[:MAX_RECEIPT_IDS]:
        if isinstance(item, dict) and isinstance(item.get("id"), str):
            try:
                ids.append(uuid.UUID(item["id"]))
            except ValueError:
                continue
    return ids


def message_ids(readings: Iterable[Reading], rejected_payloads: Iterable[bytes]) -> list[uuid.UUID]:
    """Every reading id one message settles once its batch commits (valid, held or dead-lettered)."""
    ids = [reading.id for reading in readings]
    for payload in rejected_payloads:
        ids.extend(rejected_ids(payload))
    return list(dict.fromkeys(ids))


class ReceiptSender:
    """Queue of (gateway, ids) published as CommitReceipts by one task, in commit order."""

    def __init__(self, mqtt: AsyncMqttClient, *, max_pending: int = MAX_PENDING_IDS) -> None:
        self._mqtt = mqtt
        self._queue: asyncio.Queue[tuple[str, list[uuid.UUID], list[str], datetime]] = asyncio.Queue()
        self._pending = 0
        self._max_pending = max_pending
        self.sent = 0
        self.dropped = 0

    def submit(self, by_gateway: dict[str, tuple[list[uuid.UUID], list[str]]], committed_at: datetime) -> None:
        """Call only after the commit; never blocks ingest. Values: (reading ids, claimed device serials)."""
        for gateway_id, (ids, claims) in by_gateway.items():
            for start in range(0, max(len(ids), 1), MAX_RECEIPT_IDS):
                chunk = ids[start : start + MAX_RECEIPT_IDS]
                self._queue.put_nowait((gateway_id, chunk, claims if start == 0 else [], committed_at))
                self._pending += len(chunk)
        while self._pending > self._max_pending and not self._queue.empty():
            _, chunk, _, _ = self._queue.get_nowait()
            self._pending -= len(chunk)
            self.dropped += len(chunk)

    async def run(self) -> None:
        """Until cancelled: publish queued receipts (QoS 1); a failed publish is dropped, the hub resends."""
        while True:
            gateway_id, ids, claims, committed_at = await self._queue.get()
            self._pending -= len(ids)
            try:
                receipt = CommitReceipt(
                    gateway_id=gateway_id, reading_ids=ids, claims=claims[:256], committed_at=committed_at
                )
            except ValidationError:  # a topic level no hub can have (the ACL confines hubs to valid ids)
                self.dropped += len(ids)
                continue
            try:
                await self._mqtt.publish(receipts_topic(gateway_id), receipt.model_dump_json().encode(), qos=1)
                self.sent += len(ids)
            except MqttError as exc:
                self.dropped += len(ids)
                log.warning("ingest.receipt_not_sent", gateway_id=gateway_id, readings=len(ids), error=str(exc))
            # Python 3.11's wait_for (inside publish) swallows a cancel that races the PUBACK: honour it here.
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise asyncio.CancelledError
