"""In-process BLE radio: virtual peripherals and gateway centrals on one bumble LocalLink."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from types import TracebackType
from typing import Protocol, Self

from bumble import core, hci
from bumble.controller import Controller
from bumble.device import Advertisement as BumbleAdvertisement
from bumble.device import Device
from bumble.host import Host
from bumble.link import LocalLink
from bumble.transport.common import AsyncPipeSink, TransportSink

from vitalgate.devices.adapters.bumble_client import BumbleGattClient, PasskeySource
from vitalgate.devices.advertising import SUPPORTED_SERVICES, build_advertising_data, parse_advertising_data
from vitalgate.devices.gatt import Advertisement

__all__ = ["Advertisement", "VirtualPeripheral", "VirtualRadio"]

log = logging.getLogger(__name__)

_ADV_INTERVAL_MS = 20.0  # fast advertising keeps virtual connects in the millisecond range
_OP_TIMEOUT = 5.0

# Factory for the host->controller packet path of a central (default: bumble's AsyncPipeSink).
HostPipe = Callable[[Controller], TransportSink]


class VirtualPeripheral(Protocol):
    """What VirtualRadio needs from a simulated device."""

    name: str
    advertised_service_uuids: tuple[int, ...]

    def attach(self, device: Device) -> None:
        """Install GATT services/handlers on the peripheral's bumble Device."""
        ...


class VirtualRadio:
    """One LocalLink hosting any number of virtual peripherals and gateway centrals."""

    def __init__(self) -> None:
        self.link = LocalLink()
        self._devices: list[Device] = []
        self._controllers: list[Controller] = []
        self._peripherals: dict[str, VirtualPeripheral] = {}
        self._next_peripheral = 1
        self._next_central = 1
        self._started = False

    async def start(self) -> None:
        """Mark the radio usable (controllers are created lazily inside the loop)."""
        self._started = True

    async def stop(self) -> None:
        """Power everything off and detach all controllers from the link."""
        for device in reversed(self._devices):
            if device.powered_on:
                try:
                    await asyncio.wait_for(device.power_off(), _OP_TIMEOUT)
                except (TimeoutError, core.BaseBumbleError, hci.HCI_Error) as exc:
                    log.debug("power_off failed during stop: %s", exc)
        for controller in self._controllers:
            if controller in self.link.controllers:
                self.link.remove_controller(controller)
        self._devices.clear()
        self._controllers.clear()
        self._peripherals.clear()
        self._started = False

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    def _new_device(self, label: str, address: str, name: str, pipe: HostPipe | None = None) -> Device:
        controller = Controller(label, link=self.link)
        host = Host(controller, (pipe or AsyncPipeSink)(controller))
        device = Device(name=name, address=hci.Address(address), host=host)
        self._controllers.append(controller)
        self._devices.append(device)
        return device

    async def add(self, peripheral: VirtualPeripheral) -> str:
        """Attach a peripheral, start advertising, and return its address string."""
        n = self._next_peripheral
        self._next_peripheral += 1
        # Deterministic random static address (two MSBs set) so tests/logs are stable.
        address = f"C0:DE:00:00:{n >> 8:02X}:{n & 0xFF:02X}"
        device = self._new_device(f"periph-{n}", address, peripheral.name)
        peripheral.attach(device)
        await asyncio.wait_for(device.power_on(), _OP_TIMEOUT)
        await asyncio.wait_for(
            device.start_advertising(
                auto_restart=True,  # re-advertise after each gateway disconnect, like a real meter
                advertising_data=build_advertising_data(peripheral.name, tuple(peripheral.advertised_service_uuids)),
                advertising_interval_min=_ADV_INTERVAL_MS,
                advertising_interval_max=_ADV_INTERVAL_MS,
            ),
            _OP_TIMEOUT,
        )
        self._peripherals[address] = peripheral
        return address

    def _new_central(self, pipe: HostPipe | None = None) -> Device:
        n = self._next_central
        self._next_central += 1
        return self._new_device(f"central-{n}", f"D0:9A:7E:00:{n >> 8:02X}:{n & 0xFF:02X}", f"gateway-{n}", pipe)

    def client(
        self,
        address: str,
        *,
        timeout: float = 10.0,
        passkey: PasskeySource | None = None,
        pipe: HostPipe | None = None,
    ) -> BumbleGattClient:
        """A fresh gateway central (own controller) that will connect to `address`.

        `passkey`: what the user types when the device displays one (see BumbleGattClient).
        `pipe`: wraps the central's host->controller path (tests use it to batch packets
        the way one UART/TCP read does).
        """
        return BumbleGattClient(self._new_central(pipe), address, timeout=timeout, passkey=passkey)

    async def scan(
        self,
        timeout: float = 1.0,
        service_uuids: tuple[int, ...] = SUPPORTED_SERVICES,
    ) -> list[Advertisement]:
        """Scan for `timeout` seconds; keep advertisers announcing any of `service_uuids` (empty = all)."""
        device = self._new_central()
        seen: dict[str, Advertisement] = {}
        wanted = frozenset(service_uuids)

        def on_advertisement(adv: BumbleAdvertisement) -> None:
            name, uuids = parse_advertising_data(adv.data_bytes)
            if wanted and not wanted.intersection(uuids):
                return
            address = str(adv.address).removesuffix("/P")
            rssi = None if adv.rssi == BumbleAdvertisement.RSSI_NOT_AVAILABLE else adv.rssi
            seen[address] = Advertisement(name=name, address=address, rssi=rssi, service_uuids=uuids)

        device.on(device.EVENT_ADVERTISEMENT, on_advertisement)
        await asyncio.wait_for(device.power_on(), _OP_TIMEOUT)
        await asyncio.wait_for(device.start_scanning(filter_duplicates=True), _OP_TIMEOUT)
        try:
            await asyncio.sleep(timeout)
        finally:
            await asyncio.wait_for(device.stop_scanning(), _OP_TIMEOUT)
            await asyncio.wait_for(device.power_off(), _OP_TIMEOUT)
            device.remove_listener(device.EVENT_ADVERTISEMENT, on_advertisement)
        return sorted(seen.values(), key=lambda a: a.address)
