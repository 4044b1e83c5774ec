"""Store-and-forward under faults, counting every reading at a subscriber.

(a) the broker is stopped in the middle of a 5,000-reading sync and restarted (mosquitto, amqtt);
(b) the hub process is SIGKILLed between the outbox write and the publish, then restarted;
(c) a re-sync of the same device, even by a fresh hub, produces no new reading ids.
Every broker here is our own child process on a free port; the system Mosquitto is not touched.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import sys

import pytest

from tests.support.gateway_harness import BrokerProcess, Counter, CuttablePath, wait_for
from vitalgate.app.fleet import VirtualHubRadio, demo_meter, fleet_epoch
from vitalgate.contract import reading_id, status_topic
from vitalgate.core.mqtt import AsyncMqttClient
from vitalgate.devices.virtual import VirtualRadio
from vitalgate.gateway.config import HubConfig
from vitalgate.gateway.hub import run_hub
from vitalgate.gateway.outbox import HubStore
from vitalgate.gateway.pairing import pair_device
from vitalgate.gateway.publisher import Publisher

VENV_BIN = os.path.dirname(sys.executable)


def expected_ids(meters: int, records: int) -> set[str]:
    """Reading ids the demo fleet's meters must produce (derived independently of the hub)."""
    epoch = fleet_epoch()
    return {
        str(reading_id(m.serial, r.sequence_number, r.base_time))
        for m in (demo_meter(i, records, epoch) for i in range(1, meters + 1))
        for r in m.records
    }


@pytest.mark.parametrize("broker_kind", ["mosquitto", "amqtt"])
async def test_broker_outage_mid_sync_loses_nothing(broker_kind, tmp_path, unique) -> None:
    meters, records = 5, 1000
    broker = BrokerProcess(broker_kind, tmp_path)
    await broker.start()
    path = CuttablePath(broker.port)
    await path.start()
    gateway_id = f"gw-fault-{unique}"
    counter = Counter(broker.config(), gateway_id, f"counter-{unique}")
    await counter.connect()
    config = HubConfig(
        radio="virtual", max_concurrent_syncs=1, sync_interval_s=3600, reconnect_min_s=0.2, reconnect_max_s=1.0
    )
    store = HubStore(tmp_path / "hub.sqlite", max_rows=config.outbox_max_rows)
    stop = asyncio.Event()
    try:
        async with VirtualRadio() as vr:
            radio = VirtualHubRadio(vr)
            epoch = fleet_epoch()
            fleet = []
            for i in range(1, meters + 1):
                meter = demo_meter(i, records, epoch)
                # A meter streams records over seconds, not instantly. The later meters stream 100x
                # slower until the outage starts (>= 50 s per meter), so "in the middle of the sync"
                # does not depend on how fast a loaded machine publishes the first meter's readings
                # (at 0.0005 s each all five could finish syncing first: the test failed that way).
                meter.record_delay = 0.0005 if i == 1 else 0.05
                fleet.append(meter)
                await pair_device(radio, store, await vr.add(meter))
            publisher = Publisher(store, broker.config(path.port), gateway_id, config)
            hub = asyncio.create_task(run_hub(store, radio, config, publisher=publisher, stop=stop))
            # Stop the broker once the first meter's readings are through and the rest still syncing.
            await wait_for(lambda: len(counter.ids) >= records and store.backlog() == 0, 60, "first meter published")
            synced_before = sum(1 for d in store.devices() if d.last_sync_at)
            assert synced_before < meters, "the outage must start in the middle of the sync"
            for meter in fleet:
                meter.record_delay = 0.0005
            path.open = False
            await broker.stop()
            path.cut()
            backlog_at_outage = store.backlog()
            await wait_for(
                lambda: store.backlog() >= backlog_at_outage + records, 60, "syncing to continue into the outbox"
            )
            await counter.close()
            await broker.start()
            await counter.connect()
            path.open = True
            await wait_for(lambda: len(counter.ids) >= meters * records, 90, f"all readings (have {len(counter.ids)})")
            await wait_for(lambda: store.backlog() == 0, 10, "outbox drained")
            stop.set()
            await hub
    finally:
        stop.set()
        await counter.close()
        await path.close()
        await broker.stop()
    assert counter.ids == expected_ids(meters, records)
    assert store.dropped() == 0
    assert max(counter.batch_sizes) <= 500
    for serial in {s for s, _ in counter.first_seen}:  # each meter's records arrive in order
        seqs = [q for s, q in counter.first_seen if s == serial]
        assert seqs == sorted(seqs) and len(seqs) == records


async def _hub_cmd(*args: str, env: dict[str, str]) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        os.path.join(VENV_BIN, "vitalgate"),
        "gateway",
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def _status_json(env: dict[str, str]) -> dict:
    proc = await _hub_cmd("status", "--json", env=env)
    out, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()[-2000:]
    return json.loads(out)


def _backlog(path) -> int:
    if not path.exists():
        return 0
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5) as db:
        try:
            return int(db.execute("SELECT count(*) FROM outbox").fetchone()[0])
        except sqlite3.OperationalError:
            return 0


async def test_hub_killed_between_outbox_write_and_publish_loses_nothing(tmp_path, unique) -> None:
    meters, records = 2, 1500
    broker = BrokerProcess("mosquitto", tmp_path)  # not started yet: the hub cannot publish
    gateway_id = f"gw-kill-{unique}"
    env = {
        **os.environ,
        "VITALGATE_DATA_DIR": str(tmp_path),
        "VITALGATE_GATEWAY_ID": gateway_id,
        "VITALGATE_MQTT_URL": f"mqtt://127.0.0.1:{broker.port}",
        "VITALGATE_MQTT_PROTOCOL": "5",
        "VITALGATE_GATEWAY_VIRTUAL_METERS": str(meters),
        "VITALGATE_GATEWAY_VIRTUAL_CUFFS": "0",
        "VITALGATE_GATEWAY_VIRTUAL_RECORDS": str(records),
        "VITALGATE_GATEWAY_SYNC_INTERVAL_S": "3600",
        "VITALGATE_GATEWAY_RECONNECT_MIN_S": "0.2",
        "VITALGATE_GATEWAY_RECONNECT_MAX_S": "0.5",
        "VITALGATE_LOG_FORMAT": "json",
    }
    for address in ("C0:DE:00:00:00:01", "C0:DE:00:00:00:02"):
        proc = await _hub_cmd("pair", "--virtual", address, env=env)
        out, err = await proc.communicate()
        assert proc.returncode == 0, err.decode()[-2000:]
        assert "claim code" in out.decode()
    hub_db = tmp_path / "hub.sqlite"
    hub = await _hub_cmd("run", "--virtual", env=env)
    try:
        await wait_for(lambda: _backlog(hub_db) == meters * records, 60, "both meters synced into the outbox")
        hub.send_signal(signal.SIGKILL)
        assert await hub.wait() == -signal.SIGKILL
    finally:
        if hub.returncode is None:
            hub.kill()
            await hub.wait()
    assert _backlog(hub_db) == meters * records  # committed before the kill, never published

    await broker.start()
    counter = Counter(broker.config(), gateway_id, f"counter-{unique}")
    await counter.connect()
    hub = await _hub_cmd("run", "--virtual", env=env)
    try:
        await wait_for(
            lambda: len(counter.ids) >= meters * records, 60, f"all readings after restart (have {len(counter.ids)})"
        )
        await wait_for(lambda: _backlog(hub_db) == 0, 10, "outbox drained")
        await asyncio.sleep(0.5)  # the restarted hub also re-synced both meters: nothing new may follow
        running = await _status_json(env)
        assert running["online"] is True and running["backlog"] == 0
        hub.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(hub.communicate(), 20)
        assert hub.returncode == 0, err.decode()[-2000:]
        assert (await _status_json(env))["online"] is False
        retained = await _retained_status(broker, gateway_id, unique)
    finally:
        if hub.returncode is None:
            hub.kill()
            await hub.wait()
        await counter.close()
        await broker.stop()
    assert counter.ids == expected_ids(meters, records)
    assert counter.deliveries == meters * records  # the restart re-synced but published nothing twice
    assert retained["state"] == "offline" and retained["backlog"] == 0 and retained["dropped"] == 0
    assert {d["serial"] for d in retained["devices"]} == {"VGM-DEMO-001", "VGM-DEMO-002"}
    events = [json.loads(line) for line in err.decode().splitlines() if line.startswith("{")]
    assert any(e.get("event") == "gateway.stopped" for e in events)
    assert not any("Patient" in line for line in err.decode().splitlines())


async def _retained_status(broker: BrokerProcess, gateway_id: str, unique: str) -> dict:
    client = AsyncMqttClient(broker.config(), f"status-{unique}", clean_start=True)
    await client.connect()
    try:
        await client.subscribe(status_topic(gateway_id), qos=1)
        async with asyncio.timeout(2):
            while not (message := await client.messages.get()).retain:
                pass  # a live status published just now; the retained copy comes with the next subscribe
        return json.loads(message.payload)
    finally:
        await client.disconnect()


async def test_last_will_says_offline_when_the_hub_vanishes(tmp_path, unique) -> None:
    broker = BrokerProcess("mosquitto", tmp_path)
    await broker.start()
    gateway_id = f"gw-will-{unique}"
    env = {
        **os.environ,
        "VITALGATE_DATA_DIR": str(tmp_path),
        "VITALGATE_GATEWAY_ID": gateway_id,
        "VITALGATE_MQTT_URL": f"mqtt://127.0.0.1:{broker.port}",
        "VITALGATE_MQTT_PROTOCOL": "5",
        "VITALGATE_GATEWAY_VIRTUAL_METERS": "0",
        "VITALGATE_GATEWAY_VIRTUAL_CUFFS": "0",
    }
    hub = await _hub_cmd("run", "--virtual", env=env)
    try:

        async def status() -> dict:
            return await _retained_status(broker, gateway_id, unique)

        deadline = asyncio.get_running_loop().time() + 20
        while True:
            try:
                online = await status()
                break
            except TimeoutError:
                assert asyncio.get_running_loop().time() < deadline, "no retained status from the hub"
        assert online["state"] == "online" and online["online"] is True
        hub.send_signal(signal.SIGKILL)  # vanish without DISCONNECT: the broker publishes the will
        await hub.wait()
        await asyncio.sleep(0.3)
        offline = await status()
    finally:
        if hub.returncode is None:
            hub.kill()
            await hub.wait()
        await broker.stop()
    assert offline == {
        "schema_version": 1,
        "gateway_id": gateway_id,
        "state": "offline",
        "online": False,
        "backlog": None,
        "unconfirmed": None,
        "dropped": None,
        "last_publish_at": None,
        "devices": [],
        "updated_at": None,
    }


async def test_resync_by_a_fresh_hub_yields_no_new_ids(tmp_path, mqtt_config, unique) -> None:
    """The same meter synced by two hubs (the second has lost its SQLite): the same ids reach MQTT."""
    gateway_id = f"gw-resync-{unique}"
    counter = Counter(mqtt_config, gateway_id, f"counter-{unique}")
    await counter.connect()
    config = HubConfig(radio="virtual")
    try:
        async with VirtualRadio() as vr:
            radio = VirtualHubRadio(vr)
            address = await vr.add(demo_meter(1, 300, fleet_epoch()))
            seen = []
            for name in ("hub-a", "hub-b"):
                store = HubStore(tmp_path / f"{name}.sqlite")
                await pair_device(radio, store, address)
                publisher = Publisher(store, mqtt_config, gateway_id, config)
                run = await run_hub(store, radio, config, publisher=publisher, once=True)
                assert run.outcomes[0].queued == 300 and store.backlog() == 0
                await wait_for(lambda: counter.deliveries >= 300 * (len(seen) + 1), 20, "deliveries")
                seen.append(set(counter.ids))
    finally:
        await counter.close()
    assert seen[0] == seen[1] == expected_ids(1, 300)
    assert counter.deliveries == 600  # delivered twice, as the same 300 ids


async def test_hub_killed_while_publishing_republishes_the_rest(tmp_path, unique) -> None:
    """SIGKILL in the middle of draining (amqtt broker up): the unacknowledged rest goes after restart."""
    meters, records = 2, 1000
    broker = BrokerProcess("amqtt", tmp_path)
    await broker.start()
    gateway_id = f"gw-kill2-{unique}"
    env = {
        **os.environ,
        "VITALGATE_DATA_DIR": str(tmp_path),
        "VITALGATE_GATEWAY_ID": gateway_id,
        "VITALGATE_MQTT_URL": f"mqtt://127.0.0.1:{broker.port}",
        "VITALGATE_MQTT_PROTOCOL": "3.1.1",
        "VITALGATE_GATEWAY_VIRTUAL_METERS": str(meters),
        "VITALGATE_GATEWAY_VIRTUAL_CUFFS": "0",
        "VITALGATE_GATEWAY_VIRTUAL_RECORDS": str(records),
        "VITALGATE_GATEWAY_SYNC_INTERVAL_S": "3600",
        # Small batches stretch the drain so the kill lands in the middle of it.
        "VITALGATE_GATEWAY_BATCH_SIZE": "5",
        "VITALGATE_LOG_FORMAT": "json",
    }
    for address in ("C0:DE:00:00:00:01", "C0:DE:00:00:00:02"):
        proc = await _hub_cmd("pair", "--virtual", address, env=env)
        _, err = await proc.communicate()
        assert proc.returncode == 0, err.decode()[-2000:]
    counter = Counter(broker.config(), gateway_id, f"counter-{unique}")
    await counter.connect()
    hub_db = tmp_path / "hub.sqlite"
    try:
        hub = await _hub_cmd("run", "--virtual", env=env)
        await wait_for(lambda: len(counter.ids) >= 300, 60, "part of the outbox published")
        hub.send_signal(signal.SIGKILL)
        await hub.wait()
        left = _backlog(hub_db)
        assert 0 < left < meters * records, f"the kill should land mid-drain (backlog {left})"
        assert len(counter.ids) < meters * records
        hub = await _hub_cmd("run", "--virtual", env=env)
        await wait_for(lambda: len(counter.ids) >= meters * records, 60, f"all readings (have {len(counter.ids)})")
        hub.send_signal(signal.SIGTERM)
        await asyncio.wait_for(hub.communicate(), 20)
        assert hub.returncode == 0
    finally:
        if hub.returncode is None:
            hub.kill()
            await hub.wait()
        await counter.close()
        await broker.stop()
    assert counter.ids == expected_ids(meters, records)
    # At-least-once: at most the one batch in flight at the kill is delivered twice.
    assert meters * records <= counter.deliveries <= meters * records + 5
