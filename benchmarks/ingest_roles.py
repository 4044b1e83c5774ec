"""Child processes of benchmarks/ingest_bench.py: a count-only subscriber and the naive row-by-row consumers.

python -m benchmarks.ingest_roles count TOPIC EXPECTED
python -m benchmarks.ingest_roles naive-row|naive-message TOPIC DATABASE_URL
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import sys

import psycopg

from vitalgate.core.mqtt import AsyncMqttClient
from vitalgate.core.settings import MqttConfig, Settings


async def count_subscriber(config: MqttConfig, topic: str, expect: int) -> None:
    """Count readings (one "measured_at" key each) without parsing; exit when all arrived."""
    sub = AsyncMqttClient(config, f"bench-count-{secrets.token_hex(3)}", clean_start=True)
    await sub.connect()
    await sub.subscribe(topic, qos=1)
    print("ready", flush=True)
    seen = 0
    while seen < expect:
        message = await sub.messages.get()
        seen += message.payload.count(b'"measured_at"')
    print("done", seen, flush=True)
    await sub.disconnect()


# One statement per reading: what a first ingest usually looks like (validated, idempotent).
_NAIVE_INSERT = """
WITH k AS (INSERT INTO reading_keys (id, measured_at) VALUES (%(id)s, %(measured_at)s) ON CONFLICT DO NOTHING RETURNING id)
INSERT INTO readings (id, patient_id, device_serial, gateway_id, kind, measured_at, device_time, received_at,
                      sequence_number, glucose_mg_dl, systolic_mmhg, diastolic_mmhg, pulse_bpm)
SELECT k.id, (SELECT b.patient_id FROM device_bindings b WHERE b.device_serial = %(serial)s
               AND b.valid_from <= %(measured_at)s AND (b.valid_to IS NULL OR %(measured_at)s < b.valid_to) LIMIT 1),
       %(serial)s, %(gateway)s, %(kind)s, %(measured_at)s, %(device_time)s, %(received_at)s, %(seq)s,
       %(glucose)s, %(systolic)s, %(diastolic)s, %(pulse)s
FROM k
"""


async def naive_consumer(config: MqttConfig, topic: str, url: str, *, commit_each_row: bool) -> None:
    """Validate each message, INSERT each reading on its own (committing each, or once per message), then ack."""
    from vitalgate.contract import ReadingBatch

    sub = AsyncMqttClient(config, f"bench-naive-{secrets.token_hex(3)}", clean_start=True, manual_ack=True)
    await sub.connect()
    await sub.subscribe(topic, qos=1)
    conn = await psycopg.AsyncConnection.connect(url, autocommit=commit_each_row)
    print("ready", flush=True)
    while True:
        message = await sub.messages.get()
        batch = ReadingBatch.model_validate_json(message.payload)
        async with contextlib.nullcontext() if commit_each_row else conn.transaction():
            for r in batch.readings:
                v = {k: q.value for k, q in r.values.items()}
                await conn.execute(
                    _NAIVE_INSERT,
                    {
                        "id": r.id,
                        "measured_at": r.measured_at,
                        "serial": r.device.serial,
                        "gateway": batch.gateway_id,
                        "kind": r.kind,
                        "device_time": r.device_time,
                        "received_at": r.received_at,
                        "seq": r.sequence_number,
                        "glucose": v.get("glucose"),
                        "systolic": v.get("systolic"),
                        "diastolic": v.get("diastolic"),
                        "pulse": v.get("pulse"),
                    },
                )
        sub.ack(message)


def main() -> None:
    role, topic, arg = sys.argv[1:4]
    settings = Settings()
    assert settings.mqtt_url, "VITALGATE_MQTT_URL is not set"
    config = settings.mqtt_config(settings.mqtt_url)
    with contextlib.suppress(KeyboardInterrupt):
        if role == "count":
            asyncio.run(count_subscriber(config, topic, int(arg)))
        else:
            asyncio.run(naive_consumer(config, topic, arg, commit_each_row=role == "naive-row"))


if __name__ == "__main__":
    main()
