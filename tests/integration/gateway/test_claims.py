"""Pairing by proof of possession (issue 13 item 6): the hub's random code, registered over its own MQTT identity."""

from __future__ import annotations

import asyncio
import secrets

import pytest

from tests.support.claims import register_claim
from tests.support.gateway_harness import wait_for
from tests.support.world import World, api_client, seed_world, token
from vitalgate.app.fleet import VirtualHubRadio, demo_meter, fleet_epoch
from vitalgate.contract import claim_hash
from vitalgate.core.mqtt import AsyncMqttClient
from vitalgate.devices.virtual import VirtualRadio
from vitalgate.gateway.claims import HubClaims
from vitalgate.gateway.config import HubConfig
from vitalgate.gateway.hub import run_hub
from vitalgate.gateway.outbox import HubStore
from vitalgate.gateway.pairing import pair_device
from vitalgate.gateway.publisher import Publisher
from vitalgate.ingest.consumer import IngestConsumer, subscription_topic
from vitalgate.store import claims as claim_store
from vitalgate.store.db import connect


@pytest.fixture(scope="module")
def world(database_url: str) -> World:
    return seed_world(database_url, "clm" + secrets.token_hex(3))


async def test_hub_registers_its_random_code_and_a_foreign_hub_cannot_claim(
    tmp_path, mqtt_config, database_url, unique
) -> None:
    gateway = f"gw-claim-{unique}"
    sub = AsyncMqttClient(mqtt_config, f"ingest-claim-{unique}", clean_start=True, manual_ack=True)
    await sub.connect()
    readings = subscription_topic(mqtt_config.protocol == "5", group=f"c-{unique}", gateway_id=gateway)
    await sub.subscribe(readings)
    await sub.subscribe(readings.removesuffix("/readings") + "/claims")
    consumer = IngestConsumer(sub, database_url, batch_ms=50)
    task = asyncio.create_task(consumer.run())
    store = HubStore(tmp_path / "hub.sqlite")
    config = HubConfig(radio="virtual")
    try:
        async with VirtualRadio() as vr:
            radio = VirtualHubRadio(vr)
            meter = demo_meter(1, 20, fleet_epoch())
            meter.serial = f"VGM-CLAIM-{unique}"
            paired = await pair_device(radio, store, await vr.add(meter))
            claims = HubClaims(store.path)
            assert claims.pending() == 1
            await run_hub(store, radio, config, publisher=Publisher(store, mqtt_config, gateway, config), once=True)
            await wait_for(lambda: claims.pending() == 0, 20, "the claim confirmed by a receipt")
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await sub.disconnect()
    conn = await connect(database_url)
    try:
        found = await claim_store.find(conn, bytes.fromhex(claim_hash(paired.claim_code)))
        assert found is not None and (found.serial, found.hub_id) == (meter.serial, gateway)
        # The code is random: not derivable from the serial, and never stored in clear.
        rows = await (
            await conn.execute("SELECT * FROM device_claims WHERE device_serial = %s", (meter.serial,))
        ).fetchall()
        assert paired.claim_code.encode() not in repr(rows).encode()
        async with conn.transaction():
            assert not await claim_store.register(
                conn, hub_id=f"gw-other-{unique}", serial=meter.serial, kind="glucose_meter", code_hash=b"x" * 32
            )
        assert (await claim_store.find(conn, bytes.fromhex(claim_hash(paired.claim_code)))) == found
    finally:
        await conn.close()


async def test_wrong_codes_are_throttled_and_audited(database_url: str, world: World) -> None:
    code = await register_claim(database_url, world.serials["unbound"])
    async with api_client(database_url) as client:
        p2 = await token(client, world.users["p2"])
        url = f"/patients/{world.patients['p2']}/devices"
        for _ in range(5):
            wrong = await client.post(url, headers=p2, json={"claim_code": "0000-0000-0000"})
            assert wrong.status_code == 404
        throttled = await client.post(url, headers=p2, json={"claim_code": code})
        assert throttled.status_code == 429 and "Retry-After" in throttled.headers
        # Staff are not the patient: their own attempts count separately, and they may pair by serial.
        staff = await token(client, world.users["coord_a"])
        by_serial = await client.post(url, headers=staff, json={"serial": world.serials["unbound"]})
        assert by_serial.status_code == 201, by_serial.text
    conn = await connect(database_url)
    try:
        refused = await (
            await conn.execute(
                "SELECT count(*) AS n FROM audit_log WHERE action = 'pair:claim_code_refused' AND actor = %s",
                (world.users["p2"],),
            )
        ).fetchone()
    finally:
        await conn.close()
    assert refused["n"] == 5
