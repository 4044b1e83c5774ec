"""deploy/mosquitto/dynsec on a private Mosquitto: the SUBSCRIBE itself is checked (issue 13).

With the acl_file set-up a hub may join `$share/ingest/...` and take its round-robin share
(test_broker_security.py); with the dynamic-security plugin the broker answers SUBACK 0x87.
"""

from __future__ import annotations

import asyncio
import json
import secrets

import pytest

from tests.support.dynsec_broker import DynsecBroker
from vitalgate.app.broker_dynsec import DynsecError, add_dynsec_hub
from vitalgate.app.broker_identity import IdentityError
from vitalgate.core.mqtt import AsyncMqttClient, MqttError

SHARE = "$share/ingest/vitalgate/v1/+/readings"
NOT_AUTHORIZED = r"\(0x87\)"


@pytest.fixture
async def broker(tmp_path):
    broker = DynsecBroker(tmp_path)
    await broker.start()
    for name in ("gw-a", "gw-b", "ingest"):
        broker.add(name)
    yield broker
    await broker.stop()


async def _client(broker: DynsecBroker, user: str | None, *, password: str | None = None) -> AsyncMqttClient:
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
        for topic in ("vitalgate/v1/gw-b/readings", "vitalgate/v1/gw-b/status", "vitalgate/v1/gw-a/receipts"):
            with pytest.raises(MqttError, match=r"rejected|authori"):
                await hub_a.publish(topic, b"spoofed", qos=1)
        assert await _received(ingest) == ["own"]
    finally:
        await hub_a.disconnect()
        await ingest.disconnect()


async def test_a_hub_cannot_join_the_ingest_share_group_and_ingest_gets_every_reading(broker) -> None:
    """The finding: a stranger in `$share/ingest` took half the stream. Now its SUBSCRIBE is refused."""
    ingest = await _client(broker, "ingest")
    rogue, hub_a = await _client(broker, "gw-b"), await _client(broker, "gw-a")
    try:
        await ingest.subscribe(SHARE, qos=1)
        for topic in (SHARE, "$share/other/vitalgate/v1/+/readings", "vitalgate/#", "#", "vitalgate/v1/gw-a/receipts"):
            with pytest.raises(MqttError, match=NOT_AUTHORIZED):
                await rogue.subscribe(topic, qos=1)
        await hub_a.subscribe("vitalgate/v1/gw-a/receipts", qos=1)  # its own topics stay open to it
        for i in range(6):
            await hub_a.publish("vitalgate/v1/gw-a/readings", json.dumps({"n": i}).encode(), qos=1)
        await ingest.publish("vitalgate/v1/gw-a/receipts", b"receipt", qos=1)
        # Unlike the acl_file set-up, no round-robin share is lost to the rogue: ingest gets all six.
        assert sorted(await _received(ingest)) == [json.dumps({"n": i}) for i in range(6)]
        assert await _received(hub_a, 0.1) == ["receipt"]
        assert await _received(rogue, 0.1) == []
        with pytest.raises(MqttError, match=r"rejected|authori"):
            await ingest.publish("vitalgate/v1/gw-a/status", b"forged", qos=1)
    finally:
        for client in (hub_a, rogue, ingest):
            await client.disconnect()


async def test_add_hub_dynsec_refuses_a_duplicate_and_rotates_on_request(broker) -> None:
    old = broker.passwords["gw-a"]
    with pytest.raises(IdentityError, match="already"):
        add_dynsec_hub(broker.admin_url, "gw-a", "whatever")
    broker.add("gw-a")  # replace=True: the old password stops working at once, no reload
    with pytest.raises(MqttError):
        await _client(broker, "gw-a", password=old)
    await (await _client(broker, "gw-a")).disconnect()
    with pytest.raises(DynsecError, match="createRole"):
        add_dynsec_hub(broker.admin_url.replace(broker.admin_password, "wrong"), "gw-c", "x")


async def test_add_hub_cli_with_dynsec_prints_a_working_password(broker) -> None:
    from typer.testing import CliRunner

    from vitalgate.app.cli import app

    args = ["admin", "add-hub", "gw-cli-2", "--dynsec", broker.admin_url]
    result = await asyncio.to_thread(CliRunner().invoke, app, args)
    assert result.exit_code == 0, result.output
    password = next(line.split(": ", 1)[1] for line in result.output.splitlines() if line.startswith("password: "))
    hub = await _client(broker, "gw-cli-2", password=password)
    try:
        await hub.publish("vitalgate/v1/gw-cli-2/readings", b"x", qos=1)
        with pytest.raises(MqttError, match=NOT_AUTHORIZED):
            await hub.subscribe(SHARE, qos=1)
    finally:
        await hub.disconnect()
    again = await asyncio.to_thread(CliRunner().invoke, app, args)
    assert again.exit_code == 2 and "already" in again.output
