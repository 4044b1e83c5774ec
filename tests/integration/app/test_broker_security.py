"""The shipped broker config and ACL on a private Mosquitto, and production's refusal of insecure MQTT."""

from __future__ import annotations

import asyncio
import json
import secrets

import pytest
from pydantic import SecretStr

from tests.support.secure_broker import SecureBroker
from vitalgate.app.broker_identity import IdentityError, add_identity, check_hub_id, hash_password, verify_password
from vitalgate.core.mqtt import AsyncMqttClient, MqttError
from vitalgate.core.settings import Settings

STRONG = secrets.token_urlsafe(48)


@pytest.fixture
async def broker(tmp_path):
    broker = SecureBroker(tmp_path)
    for name in ("gw-a", "gw-b", "ingest"):
        broker.add(name)
    await broker.start()
    yield broker
    await broker.stop()


async def _client(broker: SecureBroker, user: str | None, *, password: str | None = None) -> AsyncMqttClient:
    client = AsyncMqttClient(
        broker.config(user, password), f"{user or 'anon'}-{secrets.token_hex(3)}", clean_start=True
    )
    await client.connect(timeout=5)
    return client


async def _received(client: AsyncMqttClient, seconds: float = 0.5) -> list[str]:
    await asyncio.sleep(seconds)
    got = []
    while not client.messages.empty():
        got.append(client.messages.get_nowait().payload.decode())
    return got


async def test_anonymous_and_wrong_password_are_refused(broker) -> None:
    with pytest.raises(MqttError, match=r"refused|Not authorized|Bad user"):
        await _client(broker, None)
    with pytest.raises(MqttError, match=r"refused|Not authorized|Bad user"):
        await _client(broker, "gw-a", password="not-the-password")


async def test_hub_a_cannot_publish_to_hub_b_topic(broker) -> None:
    ingest = await _client(broker, "ingest")
    hub_a = await _client(broker, "gw-a")
    try:
        await ingest.subscribe("vitalgate/v1/+/readings", qos=1)
        await hub_a.publish("vitalgate/v1/gw-a/readings", b"own", qos=1)
        # MQTT 5: Mosquitto answers a forbidden QoS 1 publish with PUBACK "not authorized".
        with pytest.raises(MqttError, match=r"rejected|authori"):
            await hub_a.publish("vitalgate/v1/gw-b/readings", b"spoofed", qos=1)
        with pytest.raises(MqttError, match=r"rejected|authori"):
            await hub_a.publish("vitalgate/v1/gw-b/status", b"spoofed", qos=1)
        assert await _received(ingest) == ["own"]
    finally:
        await hub_a.disconnect()
        await ingest.disconnect()


async def test_nobody_but_ingest_reads_readings_or_receipts_of_others(broker) -> None:
    ingest = await _client(broker, "ingest")
    hub_a, hub_b = await _client(broker, "gw-a"), await _client(broker, "gw-b")
    try:
        await ingest.subscribe("$share/ingest/vitalgate/v1/+/readings", qos=1)
        # Mosquitto 2.0's acl_file grants the SUBSCRIBE and filters at delivery: hub B sees nothing.
        for topic in ("vitalgate/#", "#", "vitalgate/v1/gw-a/readings", "vitalgate/v1/gw-a/receipts"):
            await hub_b.subscribe(topic, qos=1)
        for i in range(4):
            await hub_a.publish("vitalgate/v1/gw-a/readings", f"r{i}".encode(), qos=1)
        await ingest.publish("vitalgate/v1/gw-a/receipts", b"receipt", qos=1)
        assert sorted(await _received(ingest)) == ["r0", "r1", "r2", "r3"]
        assert await _received(hub_b, 0.1) == []
        # Ingest writes receipts only: it cannot forge readings or a hub's status.
        with pytest.raises(MqttError, match=r"rejected|authori"):
            await ingest.publish("vitalgate/v1/gw-a/status", b"forged", qos=1)
    finally:
        for client in (hub_a, hub_b, ingest):
            await client.disconnect()


async def test_a_hub_in_the_ingest_share_group_receives_no_readings(broker) -> None:
    """The finding: a stranger in `$share/ingest` took half the stream. With the ACL it gets none of it."""
    ingest = await _client(broker, "ingest")
    rogue = await _client(broker, "gw-b")
    hub_a = await _client(broker, "gw-a")
    try:
        await ingest.subscribe("$share/ingest/vitalgate/v1/+/readings", qos=1)
        await rogue.subscribe("$share/ingest/vitalgate/v1/+/readings", qos=1)
        for i in range(6):
            await hub_a.publish("vitalgate/v1/gw-a/readings", json.dumps({"n": i}).encode(), qos=1)
        assert await _received(rogue) == []
        # Mosquitto 2.0 still hands the rogue its round-robin share and drops it at the ACL: those
        # readings are not delivered to ingest either. Receipts make the hub re-publish them
        # (tests/test_receipts_faults.py); EMQX refuses the SUBSCRIBE itself (deploy/emqx).
        assert 1 <= len(await _received(ingest, 0.1)) <= 6
    finally:
        for client in (hub_a, rogue, ingest):
            await client.disconnect()


def test_add_identity_writes_mosquitto_hashes_and_refuses_duplicates(tmp_path) -> None:
    path = tmp_path / "passwd"
    password = add_identity(path, "gw-1")
    user, hashed = path.read_text().strip().split(":", 1)
    assert user == "gw-1" and hashed.startswith("$7$") and verify_password(password, hashed)
    assert password not in path.read_text()
    assert (path.stat().st_mode & 0o777) == 0o600
    with pytest.raises(IdentityError, match="already"):
        add_identity(path, "gw-1")
    rotated = add_identity(path, "gw-1", replace=True)
    assert rotated != password and len(path.read_text().splitlines()) == 1
    for bad in ("gw/1", "gw+", "#", "", "ingest", "x" * 65):
        with pytest.raises(IdentityError):
            check_hub_id(bad)
    assert verify_password("pw", hash_password("pw")) and not verify_password("pw2", hash_password("pw"))


def test_add_hub_cli_prints_the_password_once(tmp_path) -> None:
    from typer.testing import CliRunner

    from vitalgate.app.cli import app

    path = tmp_path / "passwd"
    result = CliRunner().invoke(app, ["admin", "add-hub", "gw-cli-1", "--password-file", str(path)])
    assert result.exit_code == 0, result.output
    password = next(line.split(": ", 1)[1] for line in result.output.splitlines() if line.startswith("password: "))
    assert verify_password(password, path.read_text().strip().split(":", 1)[1])
    assert f"mqtts://gw-cli-1:{password}@" in result.output
    again = CliRunner().invoke(app, ["admin", "add-hub", "gw-cli-1", "--password-file", str(path)])
    assert again.exit_code == 2 and "already" in again.output


def _production(mqtt_url: str) -> Settings:
    return Settings(
        environment="production", secret_key=SecretStr(STRONG), database_url="postgresql://db/vg", mqtt_url=mqtt_url
    )


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("mqtts://broker.example.org:8883", "credentials"),
        ("mqtts://gw-1@broker.example.org:8883", "credentials"),
        ("mqtt://gw-1:pw@broker.example.org:1883", "TLS"),
        ("mqtt://gw-1:pw@10.0.0.5:1883", "TLS"),
        ("mqtt://127.0.0.1:1883", "credentials"),
    ],
)
def test_production_refuses_insecure_mqtt(url: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        _production(url)


@pytest.mark.parametrize(
    "url", ["mqtts://gw-1:pw@broker.example.org:8883", "mqtt://ingest:pw@127.0.0.1:1883", "mqtt://ingest:pw@[::1]:1883"]
)
def test_production_accepts_tls_or_loopback_with_credentials(url: str) -> None:
    assert _production(url).environment == "production"
