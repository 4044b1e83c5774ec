"""A bumble-driven HCI radio: one central on a raw HCI transport (a USB dongle `usb:0`, a serial
controller, or `tcp-client:host:port`), shared by every device client, without BlueZ.

Links are opened one at a time (an LE controller creates one connection at once); once up, the
links to several devices run concurrently on the same central.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from vitalgate.devices.advertising import SUPPORTED_SERVICES, parse_advertising_data
from vitalgate.devices.gatt import Advertisement, GattClient
from vitalgate.gateway.client_proxy import GattClientProxy
from vitalgate.gateway.radio.port import Passkey

if TYPE_CHECKING:
    from vitalgate.devices.adapters.bumble_client import BumbleGattClient

# The hub's own address on controllers that have no public one (random static: two MSBs set).
HUB_ADDRESS = "D0:9A:7E:00:0F:01"


class _SerialConnect(GattClientProxy):
    """Delegating GattClient whose connect() waits its turn on the shared central."""

    def __init__(self, client: BumbleGattClient, lock: asyncio.Lock) -> None:
        super().__init__(client)
        self._lock = lock
        self.inner = client

    async def connect(self) -> None:
        async with self._lock:
            await self._client.connect()


class HciRadio:
    """HubRadio over one bumble Device on an HCI transport."""

    name = "hci"

    def __init__(self, device: Any, *, connect_timeout_s: float = 10.0) -> None:
        self._device = device
        self._timeout = connect_timeout_s
        self._lock = asyncio.Lock()
        self._clients: dict[str, _SerialConnect] = {}

    async def scan(self, timeout: float) -> list[Advertisement]:
        seen: dict[str, Advertisement] = {}

        def on_advertisement(adv: Any) -> None:
            name, uuids = parse_advertising_data(adv.data_bytes)
            if set(uuids) & set(SUPPORTED_SERVICES):
                address = str(adv.address).removesuffix("/P")
                seen[address] = Advertisement(name=name, address=address, rssi=adv.rssi, service_uuids=uuids)

        self._device.on(self._device.EVENT_ADVERTISEMENT, on_advertisement)
        try:
            async with self._lock:
                await self._device.start_scanning(filter_duplicates=True)
                try:
                    await asyncio.sleep(timeout)
                finally:
                    await self._device.stop_scanning()
        finally:
            self._device.remove_listener(self._device.EVENT_ADVERTISEMENT, on_advertisement)
        return sorted(seen.values(), key=lambda a: a.address)

    def client(self, address: str, *, passkey: Passkey | None = None) -> GattClient:
        from vitalgate.devices.adapters.bumble_client import BumbleGattClient

        if address not in self._clients:
            self._clients[address] = _SerialConnect(
                BumbleGattClient(self._device, address, timeout=self._timeout), self._lock
            )
        client = self._clients[address]
        if passkey is not None:
            client.inner.passkey = passkey
        return client


@contextlib.asynccontextmanager
async def open_hci_radio(transport: str, *, connect_timeout_s: float = 10.0) -> AsyncIterator[HciRadio]:
    """Power up a central on `transport` (bumble transport name) for the life of the context."""
    from bumble import core, hci
    from bumble.device import Device
    from bumble.transport import open_transport

    async with await open_transport(transport) as hci_transport:
        device = Device.with_hci("vitalgate-hub", hci.Address(HUB_ADDRESS), hci_transport.source, hci_transport.sink)
        await device.power_on()
        try:
            yield HciRadio(device, connect_timeout_s=connect_timeout_s)
        finally:
            with contextlib.suppress(TimeoutError, OSError, core.BaseBumbleError, hci.HCI_Error):
                await asyncio.wait_for(device.power_off(), 5)  # best effort: the transport may be gone
