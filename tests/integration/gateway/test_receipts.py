"""Commit receipts: which ids a message settles, what the hub does with a receipt, and ingest sending them."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime

from vitalgate.contract import CommitReceipt, receipts_topic
from vitalgate.core.mqtt import AsyncMqttClient
from vitalgate.gateway.outbox import HubStore
from vitalgate.gateway.publisher import apply_receipt
from vitalgate.ingest import loadgen
from vitalgate.ingest.consumer import IngestConsumer, subscription_topic
from vitalgate.ingest.receipts import rejected_ids

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
A, B = uuid.uuid4(), uuid.uuid4()


def test_rejected_ids_finds_reading_ids_in_whole_batches_and_single_readings() -> None:
    batch = json.dumps({"readings": [{"id": str(A)}, {"id": "not-a-uuid"}, 5, {"id": str(B)}]}).encode()
    assert rejected_ids(batch) == [A, B]
    assert rejected_ids(json.dumps({"id": str(A), "kind": "glucose"}).encode()) == [A]
    for garbage in (b"\xff\xfe", b"[1,2]", b'{"readings": 3}', b"[" * 100_000 + b"]" * 100_000):
        assert rejected_ids(garbage) == []


def _outbox(tmp_path) -> HubStore:
    store = HubStore(tmp_path / "hub.sqlite")
    store.commit_sync("AA", [(str(A), "{}"), (str(B), "{}")], cursor_seq=None, cursor_time=None, now=NOW)
    store.mark_published(store.next_batch(10), now=NOW)
    return store


def test_receipt_deletes_only_named_rows_of_its_own_gateway(tmp_path) -> None:
    store = _outbox(tmp_path)
    foreign = CommitReceipt(gateway_id="gw-other", reading_ids=[A, B], committed_at=NOW)
    assert apply_receipt(store, "gw-1", foreign.model_dump_json().encode()) == 0
    assert apply_receipt(store, "gw-1", b'{"not": "a receipt"}') == 0
    assert store.backlog() == 2
    own = CommitReceipt(gateway_id="gw-1", reading_ids=[A], committed_at=NOW)
    assert apply_receipt(store, "gw-1", own.model_dump_json().encode()) == 1
    assert store.backlog() == 1 and store.unconfirmed() == 1 and store.confirmed() == 1
    assert apply_receipt(store, "gw-1", own.model_dump_json().encode()) == 0  # a repeated receipt: nothing


def test_unconfirmed_rows_are_due_again_after_the_timeout(tmp_path) -> None:
    store = _outbox(tmp_path)
    assert store.next_batch(10, resend_before=NOW) == []  # published at NOW: not overdue yet
    due = store.next_batch(10, resend_before=NOW.replace(minute=1))
    assert [i.reading_id for i in due] == [str(A), str(B)]
    store.mark_published(due, now=NOW.replace(minute=1))
    assert store.published() == 2 and store.republished() == 2


async def test_ingest_receipts_stored_duplicate_and_dead_lettered_ids(mqtt_config, database_url, unique) -> None:
    gateway = f"gw-rcpt-{unique}"
    good = loadgen.payloads(gateway, loadgen.devices(f"RC-{unique}", 2), 4, per_message=4)[0]
    doc = json.loads(good)
    poison = json.loads(json.dumps(doc["readings"][0]))
    poison["id"] = str(uuid.uuid4())
    poison["values"] = {"glucose": {"value": -5, "unit": "mg/dL"}}  # implausible: dead-lettered alone
    doc["readings"].append(poison)
    payload = json.dumps(doc).encode()
    expected = {r["id"] for r in doc["readings"]}

    hub = AsyncMqttClient(mqtt_config, f"hub-{unique}", clean_start=True)
    sub = AsyncMqttClient(mqtt_config, f"ingest-{unique}", clean_start=True, manual_ack=True)
    for client in (hub, sub):
        await client.connect()
    await hub.subscribe(receipts_topic(gateway), qos=1)
    await sub.subscribe(subscription_topic(mqtt_config.protocol == "5", group=f"r-{unique}", gateway_id=gateway))
    consumer = IngestConsumer(sub, database_url, batch_size=5000, batch_ms=50)
    task = asyncio.create_task(consumer.run())
    receipts = []
    try:
        for _ in range(2):  # the second time every reading is a duplicate (or a dead letter again)
            await hub.publish(f"vitalgate/v1/{gateway}/readings", payload, qos=1)
            async with asyncio.timeout(15):
                message = await hub.messages.get()
            receipts.append(CommitReceipt.model_validate_json(message.payload))
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        for client in (hub, sub):
            await client.disconnect()
    assert [r.gateway_id for r in receipts] == [gateway, gateway]
    assert [{str(i) for i in r.reading_ids} for r in receipts] == [expected, expected]
    assert consumer.stats.readings_stored == 4 and consumer.stats.duplicates == 4 and consumer.stats.dead_letters == 2
