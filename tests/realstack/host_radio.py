"""The host side of the real-stack harness, on an event loop thread of its own: the bumble
controller the guest's kernel drives (tcp-server, fixed per bumble_fixes.py), the virtual
peripherals on the same LocalLink, and a private mosquitto with a receipt-sending subscriber
standing in for ingest (tests.support.gateway_harness.Counter).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

from bumble import hci
from bumble.device import Device
from bumble.host import Host
from bumble.transport import open_transport
from bumble.transport.common import AsyncPipeSink

from tests.realstack.bumble_fixes import ConnectionAddressedLink, LinuxHostController
from tests.support.gateway_harness import BrokerProcess, Counter
from vitalgate.app.embedded import free_port
from vitalgate.devices.advertising import build_advertising_data
from vitalgate.devices.virtual.radio import VirtualPeripheral

T = TypeVar("T")
# Fix 3's other half: Linux's scanner copes with 100 ms advertisers, not with bumble's 20 ms flood.
ADV_INTERVAL_MS = 100.0
GUEST_CONTROLLER_ADDRESS = "F0:F1:F2:F3:F4:F5"  # the guest's hci0 (public)


class HostRadio:
    """Runs on its own thread; `call` runs a coroutine there from the (synchronous) tests."""

    def __init__(self, workdir: Path, gateway_id: str) -> None:
        self.workdir, self.gateway_id = workdir, gateway_id
        self.hci_port = free_port()
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="realstack-host", daemon=True)
        self.devices: dict[str, Device] = {}
        self.peripherals: dict[str, VirtualPeripheral] = {}
        self.broker = BrokerProcess("mosquitto", workdir)
        self.counter: Counter | None = None
        self._transport: Any = None

    def call(self, coro: Coroutine[Any, Any, T], timeout: float = 60.0) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def start(self) -> None:
        self._thread.start()
        self.call(self._start())

    async def _start(self) -> None:
        self.link = ConnectionAddressedLink()
        self._transport = await open_transport(f"tcp-server:127.0.0.1:{self.hci_port}")
        self.controller = LinuxHostController(
            "guest-hci0",
            host_source=self._transport.source,
            host_sink=self._transport.sink,
            link=self.link,
            public_address=GUEST_CONTROLLER_ADDRESS,
        )
        await self.broker.start()
        self.counter = Counter(self.broker.config(), self.gateway_id, "realstack-ingest")
        await self.counter.connect()

    def add(self, peripheral: VirtualPeripheral, address: str) -> str:
        """Power up `peripheral` at `address` (random static) and start advertising."""
        return self.call(self._add(peripheral, address))

    async def _add(self, peripheral: VirtualPeripheral, address: str) -> str:
        controller = LinuxHostController(f"periph-{address}", link=self.link)
        host = Host(controller, AsyncPipeSink(controller))
        device = Device(name=peripheral.name, address=hci.Address(address), host=host)
        peripheral.attach(device)
        await device.power_on()
        self.devices[address], self.peripherals[address] = device, peripheral
        await self.advertise(address)
        return address

    async def advertise(self, address: str) -> None:
        peripheral, device = self.peripherals[address], self.devices[address]
        await device.start_advertising(
            auto_restart=True,  # re-advertise after each disconnect, like a real meter
            advertising_data=build_advertising_data(peripheral.name, tuple(peripheral.advertised_service_uuids)),
            advertising_interval_min=ADV_INTERVAL_MS,
            advertising_interval_max=ADV_INTERVAL_MS,
        )

    async def vanish(self, address: str, *, for_s: float) -> None:
        """The device walks away: drop its links, stay silent for `for_s`, then advertise again."""
        device = self.devices[address]
        await device.stop_advertising()  # also ends the re-advertising after a disconnect
        for connection in list(device.connections.values()):
            with contextlib.suppress(Exception):
                await connection.disconnect()
        await asyncio.sleep(for_s)
        await self.advertise(address)

    def readings(self) -> set[str]:
        assert self.counter is not None
        return set(self.counter.ids)

    def stop(self) -> None:
        async def _stop() -> None:
            if self.counter is not None:
                await self.counter.close()
            await self.broker.stop()
            if self._transport is not None:
                with contextlib.suppress(Exception):
                    await self._transport.close()

        with contextlib.suppress(Exception):
            self.call(_stop(), timeout=30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
