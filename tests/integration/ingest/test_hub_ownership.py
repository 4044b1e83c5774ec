"""Device -> hub ownership (issue 13 item 2): the spoofing scenario, metadata that ingest never overwrites, the staff move."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta

from tests.support.clinic import add_patient, fetch, seed_team
from vitalgate.app.pipeline import AlertPipeline
from vitalgate.core.mqtt import AsyncMqttClient
from vitalgate.ingest import loadgen
from vitalgate.ingest.consumer import IngestConsumer, subscription_topic
from vitalgate.store.db import connect
from vitalgate.store.hub_ownership import device_hub, move_device


class TwoHubs:
    """One consumer (with the alert pipeline) on two gateways' topics, and a publisher."""

    def __init__(self, mqtt_config, database_url: str, unique: str, *gateways: str) -> None:
        self.config, self.url, self.unique, self.gateways = mqtt_config, database_url, unique, gateways

    async def __aenter__(self) -> TwoHubs:
        shared = self.config.protocol == "5"
        self.sub = AsyncMqttClient(self.config, f"ingest-own-{self.unique}", clean_start=True, manual_ack=True)
        await self.sub.connect()
        for gateway in self.gateways:
            await self.sub.subscribe(subscription_topic(shared, group=f"own-{self.unique}", gateway_id=gateway))
        self.consumer = IngestConsumer(self.sub, self.url, batch_ms=50, on_committed=AlertPipeline(self.url))
        self.task = asyncio.create_task(self.consumer.run())
        self.pub = AsyncMqttClient(self.config, f"pub-own-{self.unique}", clean_start=True)
        await self.pub.connect()
        return self

    async def send(self, gateway: str, reading: dict) -> None:
        expect = self.consumer.stats.messages + 1
        now = datetime.now(UTC)
        await self.pub.publish(f"vitalgate/v1/{gateway}/readings", loadgen.batch_payload(gateway, [reading], now))
        for _ in range(400):
            if self.consumer.stats.messages >= expect and self.consumer._after.pending == 0:
                await asyncio.sleep(0.3)  # the alert pipeline of this batch
                return
            assert not self.task.done(), self.task.exception()
            await asyncio.sleep(0.05)
        raise AssertionError("the consumer did not handle the message")

    async def __aexit__(self, *exc: object) -> None:
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)
        await self.pub.disconnect()
        await self.sub.disconnect()


def glucose_reading(serial: str, seq: int, mg_dl: float, *, model: str, minutes_ago: int) -> dict:
    now = datetime.now(UTC).replace(microsecond=0)
    reading = loadgen.reading_json(
        loadgen.Device(serial, "glucose_meter"), seq, now - timedelta(minutes=minutes_ago), now, random.Random(seq)
    )
    reading["values"] = {"glucose": {"value": mg_dl, "unit": "mg/dL"}}
    reading["device"]["model"], reading["device"]["manufacturer"] = model, f"{model} Inc."
    return reading


async def test_foreign_hub_reading_for_a_patients_meter_is_held_not_filed(mqtt_config, database_url, unique) -> None:
    """The finding: a made-up hub published 41 mg/dL for a real patient's meter serial; it was filed and opened
    an urgent task, and overwrote the meter's model. Now it is held (foreign_hub), nothing else changes."""
    conn = await connect(database_url)
    async with conn.transaction():
        team = await seed_team(conn, unique)
        start = datetime.now(UTC) - timedelta(days=30)
        patient, serial = await add_patient(conn, team["team"], f"own-{unique}", device="glucose_meter", start=start)
    await conn.close()
    home, evil = f"gw-home-{unique}", f"gw-evil-{unique}"
    async with TwoHubs(mqtt_config, database_url, unique, home, evil) as hubs:
        await hubs.send(home, glucose_reading(serial, 1, 120, model="Contour", minutes_ago=60))
        spoofed = glucose_reading(serial, 2, 41, model="EVIL", minutes_ago=5)
        await hubs.send(evil, spoofed)
        assert hubs.consumer.stats.held == 1

        filed = await fetch(database_url, "SELECT id, patient_id FROM readings WHERE device_serial = %s", serial)
        assert [r["patient_id"] for r in filed] == [patient]  # the home hub's reading only
        held = await fetch(
            database_url, "SELECT reason, patient_id, detail FROM review_queue WHERE reading_id = %s", spoofed["id"]
        )
        assert held[0]["reason"] == "foreign_hub" and held[0]["patient_id"] == patient
        assert home in held[0]["detail"] and evil in held[0]["detail"]
        assert await fetch(database_url, "SELECT id FROM tasks WHERE patient_id = %s", patient) == []
        assert await fetch(database_url, "SELECT id FROM alerts WHERE patient_id = %s", patient) == []
        device = (
            await fetch(database_url, "SELECT model, manufacturer, hub_id FROM devices WHERE serial = %s", serial)
        )[0]
        assert device == {"model": "Contour", "manufacturer": "Contour Inc.", "hub_id": home}

        # Staff give the meter to a new hub (the patient's hub was replaced): audited, then its readings file.
        conn = await connect(database_url)
        async with conn.transaction():
            moved = await move_device(
                conn, serial, evil, reason="hub replaced", actor="nurse-x", actor_id=None, role="nurse", source="test"
            )
            assert (moved.from_hub, moved.to_hub, moved.patient_id) == (home, evil, patient)
            assert await device_hub(conn, serial) == evil
        await conn.close()
        audit = await fetch(
            database_url,
            "SELECT actor, detail FROM audit_log WHERE action = 'change:device_hub' AND patient_id = %s",
            patient,
        )
        assert audit[0]["detail"]["from_hub"] == home and audit[0]["detail"]["to_hub"] == evil
        later = glucose_reading(serial, 3, 110, model="Contour", minutes_ago=1)
        await hubs.send(evil, later)
        assert [
            r["patient_id"]
            for r in await fetch(database_url, "SELECT patient_id FROM readings WHERE id = %s", later["id"])
        ] == [patient]


async def test_ingest_fills_missing_metadata_but_never_overwrites_it(mqtt_config, database_url, unique) -> None:
    gateway = f"gw-meta-{unique}"
    serial = f"SER-META-{unique}"
    async with TwoHubs(mqtt_config, database_url, unique, gateway) as hubs:
        first = glucose_reading(serial, 1, 100, model="Contour", minutes_ago=30)
        first["device"]["model"] = first["device"]["manufacturer"] = None
        await hubs.send(gateway, first)
        await hubs.send(gateway, glucose_reading(serial, 2, 100, model="Contour", minutes_ago=20))
        # Past the once-a-minute refresh window, so the upsert really runs for the third reading.
        conn = await connect(database_url)
        await conn.execute("UPDATE devices SET last_seen_at = now() - interval '1 hour' WHERE serial = %s", (serial,))
        await conn.commit()
        await conn.close()
        await hubs.send(gateway, glucose_reading(serial, 3, 100, model="Other", minutes_ago=10))
    device = (await fetch(database_url, "SELECT model, manufacturer, hub_id FROM devices WHERE serial = %s", serial))[0]
    assert device == {"model": "Contour", "manufacturer": "Contour Inc.", "hub_id": gateway}
