"""The hub's radio port: scan for devices and make GATT clients. Two implementations:
bleak (the OS Bluetooth stack, real devices) and virtual (a bumble VirtualRadio with demo devices).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Protocol

from vitalgate.devices.errors_gatt import DeviceConnectionError
from vitalgate.devices.gatt import BLOOD_PRESSURE_SERVICE, GLUCOSE_SERVICE, Advertisement, GattClient
from vitalgate.gateway.config import HubConfig

# Profiles the hub can sync: advertising any of these makes a device a pairing candidate.
SUPPORTED_SERVICES = (GLUCOSE_SERVICE, BLOOD_PRESSURE_SERVICE)
KIND_BY_SERVICE = {GLUCOSE_SERVICE: "glucose_meter", BLOOD_PRESSURE_SERVICE: "bp_cuff"}
SERVICE_NAMES = {GLUCOSE_SERVICE: "glucose (0x1808)", BLOOD_PRESSURE_SERVICE: "blood pressure (0x1810)"}

# What the user types when a device displays a passkey: the digits, or an async prompt for them.
Passkey = Callable[[], Awaitable[int]] | int


_NO_STACK_ADVICE = (
    "The Bluetooth stack is not reachable (no D-Bus system bus or bluetoothd): start bluetoothd, "
    "check `bluetoothctl show`, or use --virtual for the demo devices."
)


def radio_unavailable(address: str, exc: OSError) -> DeviceConnectionError:
    """An OS-level failure reaching the Bluetooth stack, as a DeviceError with advice."""
    return DeviceConnectionError(
        f"{address}: Bluetooth stack unavailable: {exc}", advice=_NO_STACK_ADVICE, address=address
    )


class HubRadio(Protocol):
    """What pairing and the sync loop need from a radio."""

    name: str

    async def scan(self, timeout: float) -> list[Advertisement]:
        """Advertisers offering a supported service."""
        ...

    def client(self, address: str) -> GattClient:
        """A (not yet connected) GATT client for `address`; may be reused across syncs.

        Radios that can pair with passkey entry also accept `passkey: Passkey | None = None`.
        """
        ...


class BleakRadio:
    """Real hardware through bleak + bleak-retry-connector (devices.adapters.bleak_client)."""

    name = "bleak"

    def __init__(self, *, connect_attempts: int = 3, connect_timeout_s: float = 20.0) -> None:
        self._attempts, self._timeout = connect_attempts, connect_timeout_s

    async def scan(self, timeout: float) -> list[Advertisement]:
        from vitalgate.devices.adapters.bleak_client import bleak_scan  # bleak only when real hardware is used

        try:
            return await bleak_scan(timeout, SUPPORTED_SERVICES)
        except OSError as exc:  # e.g. no /run/dbus/system_bus_socket
            raise radio_unavailable("scanner", exc) from exc

    def client(self, address: str, *, passkey: Passkey | None = None) -> GattClient:
        from vitalgate.devices.adapters.bleak_client import BleakGattClient

        # BlueZ asks its own agent for passkeys; the client explains that when pairing fails.
        return BleakGattClient(address, max_attempts=self._attempts, timeout=self._timeout, passkey=passkey)


class VirtualHubRadio:
    """A VirtualRadio; one central per device address, reused so long runs do not grow the link."""

    name = "virtual"

    def __init__(self, radio: object, *, connect_timeout_s: float = 10.0) -> None:
        self.radio = radio
        self._timeout = connect_timeout_s
        self._clients: dict[str, GattClient] = {}

    async def scan(self, timeout: float) -> list[Advertisement]:
        return await self.radio.scan(timeout, SUPPORTED_SERVICES)  # type: ignore[attr-defined]

    def client(self, address: str, *, passkey: Passkey | None = None) -> GattClient:
        if address not in self._clients:
            self._clients[address] = self.radio.client(address, timeout=self._timeout)  # type: ignore[attr-defined]
        client = self._clients[address]
        if passkey is not None:
            client.passkey = passkey  # type: ignore[attr-defined]  # a BumbleGattClient
        return client


@contextlib.asynccontextmanager
async def open_radio(config: HubConfig) -> AsyncIterator[HubRadio]:
    """The configured radio; `virtual` also powers up the demo fleet (gateway.fleet)."""
    if config.radio == "bleak":
        yield BleakRadio(connect_attempts=config.connect_attempts, connect_timeout_s=config.connect_timeout_s)
        return
    if config.radio == "hci":
        from vitalgate.gateway.radio_hci import open_hci_radio

        async with open_hci_radio(config.hci_transport, connect_timeout_s=config.connect_timeout_s) as radio:
            yield radio
        return
    from vitalgate.devices.virtual import VirtualRadio
    from vitalgate.gateway.fleet import add_demo_fleet

    async with VirtualRadio() as radio:
        await add_demo_fleet(
            radio, meters=config.virtual_meters, cuffs=config.virtual_cuffs, records=config.virtual_records
        )
        yield VirtualHubRadio(radio, connect_timeout_s=config.connect_timeout_s)


def device_kind(service_uuids: frozenset[int] | tuple[int, ...]) -> str | None:
    """glucose_meter / bp_cuff from the services a device offers (glucose wins if both)."""
    for service in SUPPORTED_SERVICES:
        if service in service_uuids:
            return KIND_BY_SERVICE[service]
    return None
