"""Device Information strings the wire contract cannot carry are refused at pairing (issue 13 item 8).

Before: a meter whose model was over 64 characters or held a NUL paired fine, and then every batch
of its readings became a dead letter at ingest.
"""

from __future__ import annotations

import re

import pytest

from vitalgate.app.fleet import VirtualHubRadio
from vitalgate.devices.errors_gatt import PairingError
from vitalgate.devices.virtual import VirtualGlucoseMeter, VirtualRadio
from vitalgate.gateway.outbox import HubStore
from vitalgate.gateway.pairing import check_device_information, pair_device


@pytest.mark.parametrize(
    ("model", "problem"),
    [("M" * 65, "is 65 characters long (at most 64)"), ("Meter\x00X", "contains the control character U+0000")],
)
async def test_pairing_refuses_device_strings_the_contract_cannot_carry(tmp_path, model: str, problem: str) -> None:
    store = HubStore(tmp_path / "hub.sqlite")
    async with VirtualRadio() as vr:
        address = await vr.add(VirtualGlucoseMeter(serial="VGM-DIS1", model=model))
        with pytest.raises(PairingError, match=re.escape(f"Device Information model {problem}")) as caught:
            await pair_device(VirtualHubRadio(vr), store, address)
    assert "cannot be paired" in caught.value.advice
    assert store.device(address) is None  # nothing registered, nothing will be synced


def test_fine_strings_pass() -> None:
    check_device_information("AA:BB", serial="SN-1", model="Contour Next One", manufacturer="Ascensia", firmware=None)
