"""The hci radio: a hub in this process drives virtual devices served by another process over HCI/TCP."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.support.gateway_harness import port_open, wait_for
from vitalgate.app.embedded import free_port
from vitalgate.gateway.config import HubConfig
from vitalgate.gateway.hub import run_hub
from vitalgate.gateway.outbox import HubStore
from vitalgate.gateway.pairing import pair_device, supports_passkey
from vitalgate.gateway.radio import open_radio
from vitalgate.gateway.radio.hci import HciRadio


@pytest.fixture
async def fleet_transport():
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "vitalgate.app.fleet_hci",
            "--port",
            str(port),
            "--meters",
            "2",
            "--cuffs",
            "1",
            "--records",
            "40",
        ],
        stdout=subprocess.DEVNULL,
    )
    try:
        await wait_for(lambda: port_open(port), 20, "fleet process")
        yield f"tcp-client:127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(10)


async def test_scan_pair_and_sync_over_hci(fleet_transport, tmp_path) -> None:
    config = HubConfig(radio="hci", hci_transport=fleet_transport, max_concurrent_syncs=3)
    store = HubStore(tmp_path / "hub.sqlite")
    async with open_radio(config) as radio:
        seen = await radio.scan(0.5)
        assert [(a.name, a.address) for a in seen] == [
            ("VG Meter 1", "C0:DE:00:00:00:01"),
            ("VG Meter 2", "C0:DE:00:00:00:02"),
            ("VG Cuff 1", "C0:DE:00:00:00:03"),
        ]
        for adv in seen:
            await pair_device(radio, store, adv.address)
        first = await run_hub(store, radio, config, publisher=None, once=True)
        again = await run_hub(store, radio, config, publisher=None, once=True)
    assert not first.failures and sorted(o.queued for o in first.outcomes) == [40, 40, 40]
    assert [o.queued for o in again.outcomes] == [0, 0, 0]
    assert store.backlog() == 120
    assert {d.serial for d in store.devices()} == {"VGM-DEMO-001", "VGM-DEMO-002", "VGC-DEMO-001"}


async def test_hci_radio_passes_the_passkey_to_its_bumble_client(tmp_path) -> None:
    radio = HciRadio(device=None)
    client = radio.client("C0:DE:00:00:00:01", passkey=123456)
    assert supports_passkey(radio)
    assert client.inner.passkey == 123456
    # The client is reused per address; a later call without a passkey keeps the one entered.
    assert radio.client("C0:DE:00:00:00:01") is client and client.inner.passkey == 123456
