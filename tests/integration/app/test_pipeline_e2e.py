"""Step 1 end to end: virtual meter -> gateway -> MQTT -> ingest -> PostgreSQL -> alert -> task."""

from __future__ import annotations

import asyncio
import io
from datetime import UTC, datetime, timedelta

import psycopg
from rich.console import Console

from vitalgate.app.demo import run_demo
from vitalgate.app.pipeline import AlertPipeline
from vitalgate.contract import DeviceRef, Quantity, Reading, ReadingBatch, reading_id, readings_topic
from vitalgate.core.mqtt import AsyncMqttClient
from vitalgate.core.settings import MqttConfig, Settings
from vitalgate.ingest.consumer import IngestConsumer, subscription_topic
from vitalgate.store import people
from vitalgate.store.db import connect


async def test_demo_once_turns_a_48_mg_dl_reading_into_an_urgent_task(database_url, mqtt_url, mqtt_protocol, tmp_path):
    settings = Settings(database_url=database_url, mqtt_url=mqtt_url, mqtt_protocol=mqtt_protocol, data_dir=tmp_path)
    out = io.StringIO()
    result = await run_demo(settings, once=True, data_dir=tmp_path, console=Console(file=out, width=200))

    # 3 patients: 8 glucose records on their meters and 5 BP readings on their cuffs.
    assert result.readings_stored == 13, out.getvalue()
    # The touchpoints went through the delivery ledger to the demo's own receivers: the urgent
    # low's message reached Demo Patient C by SMS (webhook gateway) and her daughter by e-mail, in
    # Chinese, each with a link to open.
    printed = out.getvalue()
    assert "What each demo patient, caregiver and staff member received" in printed
    patient_line = next(line for line in printed.splitlines() if "Demo Patient C (patient)" in line)
    assert "+8613800000003" in patient_line and "sent" in patient_line and "/l/" in patient_line
    daughter_line = next(line for line in printed.splitlines() if "Demo Daughter (caregiver)" in line)
    assert "daughter.a@example.org" in daughter_line and "/l/" in daughter_line and "请" in printed
    low_patient = result.patient_ids[2]
    assert "dashboard at /ui/programs/glucose-22w" in printed
    with psycopg.connect(database_url) as conn:
        # every demo patient enrolled in the randomised program, each with one arm drawn once
        arms = conn.execute(
            "SELECT patient_id, arm FROM program_allocations WHERE program_id = 'glucose-22w' AND patient_id = ANY(%s)",
            (result.patient_ids,),
        ).fetchall()
        assert sorted(pid for pid, _ in arms) == sorted(result.patient_ids)
        assert {arm for _, arm in arms} <= {"experiment", "control"}
        rows = conn.execute(
            "SELECT kind, glucose_mg_dl, systolic_mmhg, diastolic_mmhg FROM readings WHERE patient_id = %s"
            " ORDER BY kind DESC, measured_at",
            (low_patient,),
        ).fetchall()
        assert rows == [
            ("glucose", 95.0, None, None),
            ("glucose", 48.0, None, None),
            ("blood_pressure", None, 118.0, 76.0),
        ]
        alerts = conn.execute(
            "SELECT rule_id, severity, status FROM alerts WHERE patient_id = %s", (low_patient,)
        ).fetchall()
        assert alerts == [("glucose-level2-hypo", "urgent", "open")]
        tasks = conn.execute(
            "SELECT severity, status, due_at - created_at, assignee_id IS NOT NULL FROM tasks WHERE patient_id = %s",
            (low_patient,),
        ).fetchall()
        assert tasks == [("urgent", "open", timedelta(minutes=15), True)]
        # The seeded history of the other demo patients trips a trend, a gap and a consecutive rule.
        rules = {
            r
            for (r,) in conn.execute(
                "SELECT a.rule_id FROM alerts a JOIN tasks t ON t.alert_id = a.id WHERE a.patient_id = ANY(%s)",
                (result.patient_ids,),
            )
        }
        assert {"glucose-level2-hypo", "bp-systolic-rising", "no-reading-3-days", "glucose-fasting-high-3"} <= rules
    text = out.getvalue()
    assert text.index("reading stored") < text.index("ALERT") < text.index("task opened")
    # Inbound messages are triaged and routed; the urgent one alerts the on-call nurse with a link.
    assert text.count("message triaged") == 4 and "urgent_clinical (0.95) -> nurse" in text
    assert "staff alert" in text and "/l/" in text


async def _seed_patient(database_url: str, unique: str) -> tuple[int, str]:
    conn = await connect(database_url)
    async with conn.transaction():
        team = await people.create_care_team(conn, f"team-{unique}")
        await people.create_user(conn, f"nurse-{unique}", "Nurse", "nurse", care_team_id=team)
        patient = await people.create_patient(conn, "Test Patient", team, external_ref=f"p-{unique}")
        serial = f"SER-{unique}"
        await people.bind_device(
            conn, serial, "glucose_meter", patient, valid_from=datetime.now(UTC) - timedelta(days=30)
        )
    await conn.close()
    return patient, serial


def _batch(gateway: str, serial: str, values: list[float]) -> bytes:
    now = datetime.now(UTC).replace(microsecond=0)
    readings = []
    for seq, value in enumerate(values, start=1):
        device_time = (now - timedelta(minutes=10 * seq)).replace(tzinfo=None)
        readings.append(
            Reading(
                id=reading_id(serial, seq, device_time),
                device=DeviceRef(serial=serial, kind="glucose_meter"),
                kind="glucose",
                sequence_number=seq,
                values={"glucose": Quantity(value=value, unit="mg/dL")},
                measured_at=device_time.replace(tzinfo=UTC),
                device_time=device_time,
                received_at=now,
            )
        )
    return ReadingBatch(gateway_id=gateway, sent_at=now, readings=readings).model_dump_json().encode()


async def _ingest_until(consumer: IngestConsumer, task: asyncio.Task, messages: int) -> None:
    for _ in range(200):
        if consumer.stats.messages >= messages:
            await asyncio.sleep(0.2)  # the after-commit pipeline of the last batch
            return
        if task.done():
            task.result()
        await asyncio.sleep(0.05)
    raise AssertionError(f"ingest saw {consumer.stats.messages} of {messages} messages")


async def test_duplicate_publish_stores_one_reading_one_alert_one_task(database_url, mqtt_config: MqttConfig, unique):
    patient, serial = await _seed_patient(database_url, unique)
    gateway = f"gw-{unique}"
    sub = AsyncMqttClient(mqtt_config, f"ingest-{unique}", clean_start=True, manual_ack=True)
    await sub.connect()
    await sub.subscribe(subscription_topic(mqtt_config.protocol == "5", group=f"t-{unique}", gateway_id=f"gw-{unique}"))
    consumer = IngestConsumer(sub, database_url, batch_ms=50, on_committed=AlertPipeline(database_url))
    task = asyncio.create_task(consumer.run())
    pub = AsyncMqttClient(mqtt_config, gateway, clean_start=True)
    await pub.connect()
    payload = _batch(gateway, serial, [48.0])
    try:
        await pub.publish(readings_topic(gateway), payload)
        await _ingest_until(consumer, task, 1)
        await pub.publish(readings_topic(gateway), payload)  # the same batch again (e.g. lost PUBACK)
        await _ingest_until(consumer, task, 2)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await pub.disconnect()
        await sub.disconnect()

    assert consumer.stats.readings_stored == 1
    assert consumer.stats.duplicates == 1
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT count(*) FROM readings WHERE patient_id = %s", (patient,)).fetchone() == (1,)
        assert conn.execute("SELECT count(*) FROM alerts WHERE patient_id = %s", (patient,)).fetchone() == (1,)
        assert conn.execute("SELECT count(*) FROM tasks WHERE patient_id = %s", (patient,)).fetchone() == (1,)


async def test_bad_message_is_dead_lettered_and_good_neighbour_stored(database_url, mqtt_config: MqttConfig, unique):
    patient, serial = await _seed_patient(database_url, unique)
    gateway = f"gw-{unique}"
    good = _batch(gateway, serial, [120.0])
    sub = AsyncMqttClient(mqtt_config, f"ingest-{unique}", clean_start=True, manual_ack=True)
    await sub.connect()
    await sub.subscribe(subscription_topic(mqtt_config.protocol == "5", group=f"t-{unique}", gateway_id=f"gw-{unique}"))
    consumer = IngestConsumer(sub, database_url, batch_ms=300)
    task = asyncio.create_task(consumer.run())
    pub = AsyncMqttClient(mqtt_config, gateway, clean_start=True)
    await pub.connect()
    try:
        await pub.publish(readings_topic(gateway), b"{not json " + unique.encode())
        await pub.publish(readings_topic(gateway), good)
        await _ingest_until(consumer, task, 2)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await pub.disconnect()
        await sub.disconnect()
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT count(*) FROM readings WHERE patient_id = %s", (patient,)).fetchone() == (1,)
        reasons = conn.execute(
            "SELECT reason FROM dead_letters WHERE position(%s in convert_from(payload, 'UTF8')) > 0", (unique,)
        ).fetchall()
    assert len(reasons) == 1 and reasons[0][0].startswith("not JSON")
