"""Ingest against the real broker and PostgreSQL with hostile input: it never dies, every message is accounted for.

Regressions (each failed before its fix): a 200 KB nested array stopped the consumer with
RecursionError; a second message with the same reading id and another value was dropped silently;
dead letters kept whole multi-megabyte payloads.
"""

from __future__ import annotations

import hashlib
import json
import random
from datetime import UTC, datetime

import psycopg

from tests.support.ingest_run import ConsumerRun
from vitalgate.core.mqtt import Message
from vitalgate.ingest import loadgen
from vitalgate.ingest.messages import DEFAULT_MAX_PAYLOAD_BYTES, drop_batch_conflicts, split_message
from vitalgate.store.readings import DEAD_LETTER_KEEP_BYTES


def _doc(gateway: str, prefix: str, n: int) -> dict:
    return json.loads(loadgen.payloads(gateway, loadgen.devices(prefix, 3), n, per_message=n)[0])


async def test_nested_oversized_and_conflicting_messages_never_stop_ingest(database_url, mqtt_config, unique):
    async with ConsumerRun(mqtt_config, unique, database_url) as run:
        nested = b"[" * 100_000 + b"]" * 100_000
        big = json.dumps(
            {**_doc(run.gateway, f"BIG{unique}", 1), "pad": "x" * (2 * DEFAULT_MAX_PAYLOAD_BYTES)}
        ).encode()
        good = _doc(run.gateway, f"OK{unique}", 5)
        await run.send([nested, big, json.dumps(good).encode()])
        assert run.consumer.stats.readings_stored == 5 and run.consumer.stats.dead_letters == 2

        # The same reading ids again, one with another value: stored once, the changed one a dead letter.
        changed = json.loads(json.dumps(good))
        first = changed["readings"][0]
        name = "glucose" if first["kind"] == "glucose" else "systolic"
        original = first["values"][name]["value"]
        first["values"][name]["value"] = original + 7
        await run.send([json.dumps(changed).encode()])  # a later batch: checked against reading_keys
        assert run.consumer.stats.readings_stored == 5

    with psycopg.connect(database_url) as conn:
        letters = conn.execute(
            "SELECT reason, payload, payload_bytes, payload_sha256 FROM dead_letters WHERE topic = %s ORDER BY id",
            (run.topic,),
        ).fetchall()
        column = {"glucose": "glucose_mg_dl", "systolic": "systolic_mmhg"}[name]
        stored_value = conn.execute(f"SELECT {column} FROM readings WHERE id = %s", (first["id"],)).fetchone()[0]
    reasons = [r[0] for r in letters]
    assert reasons[0] == "not JSON: nested too deeply"
    assert "bytes is over the 1048576-byte limit" in reasons[1]
    assert reasons[2].startswith(f"conflicting duplicate: reading {first['id']} differs from the stored one")
    assert len(letters) == 3 and stored_value == original
    for (_, payload, size, digest), raw in zip(letters[:2], (nested, big), strict=True):
        assert size == len(raw) and bytes(digest) == hashlib.sha256(raw).digest()
        assert bytes(payload) == raw[:DEAD_LETTER_KEEP_BYTES]  # a prefix, not megabytes


def _mutate(doc: dict, rng: random.Random) -> bytes:
    """A batch that is structurally valid JSON, with hostile parts."""
    hostile = [
        None,
        "",
        "\u0000",
        "x" * 300,
        10**40,
        -1,
        1e308,
        float("nan"),
        [[[[[]]]]],
        {"k" * 100: 1},
        "1970-01-01T00:00:00Z",
        "9999-12-31T23:59:59Z",
        {str(i): i for i in range(50)},
    ]
    doc = json.loads(json.dumps(doc))
    for _ in range(rng.randint(1, 3)):
        readings = doc.get("readings")
        if not isinstance(readings, list) or not readings or not isinstance(readings[0], dict):
            break
        reading = rng.choice(readings)
        parts = [reading, doc, *(reading.get(k) for k in ("device", "values", "context"))]
        target = rng.choice([p for p in parts if isinstance(p, dict)])
        key = rng.choice([*target.keys(), "extra"]) if isinstance(target, dict) else "extra"
        target[key] = rng.choice(hostile)
    return json.dumps(doc, allow_nan=True).encode()


async def test_every_hostile_message_is_stored_or_dead_lettered(database_url, mqtt_config, unique):
    rng = random.Random(13)
    async with ConsumerRun(mqtt_config, unique, database_url) as run:
        payloads = [_mutate(_doc(run.gateway, f"H{unique}{i}", 4), rng) for i in range(40)]
        payloads += [bytes(rng.randrange(256) for _ in range(rng.randint(0, 300))) for _ in range(10)]
        now = datetime.now(UTC)
        predicted = [split_message(Message(run.topic, p, 1, 0, False), now) for p in payloads]
        drop_batch_conflicts(predicted)
        assert all(p.rows or p.rejects for p in predicted)  # each message ends somewhere
        await run.send(payloads)
        stats = run.consumer.stats
        outcomes = sum(len(p.rows) + len(p.rejects) for p in predicted)
        assert stats.readings_stored + stats.duplicates + stats.dead_letters == outcomes
    with psycopg.connect(database_url) as conn:
        stored = conn.execute("SELECT count(*) FROM readings WHERE gateway_id = %s", (run.gateway,)).fetchone()[0]
        letters = conn.execute("SELECT count(*) FROM dead_letters WHERE topic = %s", (run.topic,)).fetchone()[0]
    assert (stored, letters) == (stats.readings_stored, stats.dead_letters)
    assert stored > 0 and letters >= 10
