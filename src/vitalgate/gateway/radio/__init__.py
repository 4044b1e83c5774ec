"""The hub's radios: the HubRadio port and the production implementations.

- `bleak_radio.BleakRadio`: the OS Bluetooth stack (BlueZ, CoreBluetooth, WinRT), real devices, with
  the hub's BlueZ pairing agent (`bluez_agent`) on Linux;
- `hci.HciRadio`: bumble on a raw HCI transport (USB dongle, serial controller, TCP), no BlueZ.

The virtual radio with demo devices (`--virtual`) is test and demo equipment: the composition root
(`vitalgate.app.fleet`) assembles it; nothing here imports virtual-device code.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from vitalgate.gateway.config import HubConfig
from vitalgate.gateway.radio.bleak_radio import BleakRadio
from vitalgate.gateway.radio.bluez_agent import open_bluez_agent
from vitalgate.gateway.radio.port import HubRadio, Passkey, radio_unavailable

__all__ = ["BleakRadio", "HubRadio", "Passkey", "open_radio", "radio_unavailable"]


@contextlib.asynccontextmanager
async def open_radio(config: HubConfig) -> AsyncIterator[HubRadio]:
    """The configured production radio (`bleak` or `hci`) for the life of the context."""
    if config.radio == "bleak":
        # The pairing agent lives as long as the radio: BlueZ asks it during every pairing.
        async with open_bluez_agent(enabled=config.bluez_agent) as agent:
            yield BleakRadio(
                connect_attempts=config.connect_attempts, connect_timeout_s=config.connect_timeout_s, agent=agent
            )
        return
    if config.radio == "hci":
        from vitalgate.gateway.radio.hci import open_hci_radio  # bumble only for raw HCI controllers

        async with open_hci_radio(config.hci_transport, connect_timeout_s=config.connect_timeout_s) as radio:
            yield radio
        return
    raise ValueError(
        f"radio {config.radio!r} is not a production radio: the virtual demo radio is opened by "
        "vitalgate.app.radios.open_hub_radio (`vitalgate gateway ... --virtual`)"
    )
