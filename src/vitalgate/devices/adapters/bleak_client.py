"""GattClient over bleak (real radios), connecting through bleak-retry-connector."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from types import TracebackType
from typing import Any, Self, TypeVar

from bleak import BleakClient, BleakScanner
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.device import BLEDevice
from bleak.exc import (
    BleakBluetoothNotAvailableError,
    BleakCharacteristicNotFoundError,
    BleakDBusError,
    BleakDeviceNotFoundError,
    BleakError,
    BleakGATTProtocolError,
)
from bleak_retry_connector import (
    BleakClientWithServiceCache,
    BleakNotFoundError,
    BleakOutOfConnectionSlotsError,
    establish_connection,
)

from vitalgate.devices.errors_gatt import (
    DeviceConnectionError,
    DeviceError,
    DeviceNotFound,
    DeviceTimeout,
    PairingError,
    missing_characteristic,
)
from vitalgate.devices.gatt import (
    BLOOD_PRESSURE_SERVICE,
    GLUCOSE_SERVICE,
    Advertisement,
    NotifyCallback,
    uuid16_from_string,
)

__all__ = ["BleakGattClient", "bleak_scan", "classify_bleak_error"]

log = logging.getLogger(__name__)
_T = TypeVar("_T")

_SECURITY_ATT = {0x05, 0x08, 0x0C, 0x0F}  # insufficient authentication/authorization/key size/encryption
_SECURITY_DBUS = (
    "org.bluez.Error.AuthenticationFailed",
    "org.bluez.Error.AuthenticationCanceled",
    "org.bluez.Error.AuthenticationRejected",
    "org.bluez.Error.AuthenticationTimeout",
    "org.bluez.Error.NotPermitted",
)
# bleak registers no BlueZ agent: the gateway's bleak radio owns one (gateway/radio/bluez_agent.py)
# and replaces this advice with one that fits what BlueZ asked it.
_BLUEZ_PAIRING_ADVICE = (
    "Pairing through BlueZ failed. BlueZ pairs only with a registered pairing agent (the gateway's bleak "
    "radio registers one; a device showing a 6-digit passkey needs `vitalgate gateway pair ADDRESS --passkey "
    "NNNNNN`). Put the device in pairing mode and retry (remove an old bond with `bluetoothctl remove ADDRESS` first)."
)
_NO_ADAPTER_ADVICE = (
    "The gateway's Bluetooth adapter is off or missing: check `bluetoothctl show` / rfkill and restart bluetoothd."
)
_SLOTS_ADVICE = "The gateway adapter has no free connection slots: disconnect other devices or add a Bluetooth proxy."


def _full_uuid(uuid: int) -> str:
    return f"0000{uuid:04x}-0000-1000-8000-00805f9b34fb"


def classify_bleak_error(exc: BaseException, address: str, what: str, *, connected: bool) -> DeviceError:
    """Map a bleak / bleak-retry-connector / asyncio failure to a typed DeviceError."""
    msg = f"{address}: {what} failed: {exc or type(exc).__name__}"
    match exc:
        case TimeoutError():
            return DeviceTimeout(f"{address}: {what} timed out", address=address)
        case BleakDeviceNotFoundError() | BleakNotFoundError():
            return DeviceNotFound(msg, address=address)
        case BleakBluetoothNotAvailableError():
            return DeviceConnectionError(msg, advice=_NO_ADAPTER_ADVICE, address=address)
        case BleakOutOfConnectionSlotsError():
            return DeviceConnectionError(msg, advice=_SLOTS_ADVICE, address=address)
        case BleakGATTProtocolError() if int(exc.code) in _SECURITY_ATT:
            return PairingError(msg, address=address)
        case BleakDBusError() if exc.dbus_error in _SECURITY_DBUS or "ATT error: 0x05" in str(exc):
            return PairingError(msg, address=address)
        case BleakCharacteristicNotFoundError():
            return DeviceError(msg, advice="This device model does not support the requested feature.", address=address)
        case BleakError() if not connected:
            # bleak-retry-connector's BleakConnectionError/BleakAbortedError land here too.
            return DeviceConnectionError(msg, address=address)
        case _:
            return DeviceError(msg, address=address)


class BleakGattClient:
    """Thin GattClient over bleak.BleakClient; all failures surface as DeviceError subclasses."""

    def __init__(
        self,
        device: BLEDevice | str,
        *,
        timeout: float = 20.0,
        scan_timeout: float = 10.0,
        max_attempts: int = 3,
        passkey: object | None = None,
    ) -> None:
        # Accepted for interface parity with BumbleGattClient; BlueZ asks its own agent (see pair()).
        self.passkey = passkey
        self._ble_device = device if isinstance(device, BLEDevice) else None
        self.address = device.address if isinstance(device, BLEDevice) else device
        self._timeout = timeout
        self._scan_timeout = scan_timeout
        self._max_attempts = max_attempts
        self._client: BleakClient | None = None
        self._chars: dict[int, BleakGATTCharacteristic] = {}

    @property
    def is_connected(self) -> bool:
        """True while the link is up."""
        return self._client is not None and self._client.is_connected

    async def connect(self) -> None:
        """Find the device if only an address is known, then connect with retries."""
        if self.is_connected:
            return
        if self._ble_device is None:
            found = await self._guard(
                BleakScanner.find_device_by_address(self.address, timeout=self._scan_timeout),
                "scan for device",
                self._scan_timeout + 5,
            )
            if found is None:
                raise DeviceNotFound(
                    f"{self.address}: not advertising within {self._scan_timeout:.0f}s", address=self.address
                )
            self._ble_device = found
        # bleak-retry-connector applies its own per-attempt timeouts; this outer bound
        # only guarantees we never hang forever on a wedged BlueZ.
        self._client = await self._guard(
            establish_connection(
                BleakClientWithServiceCache,
                self._ble_device,
                self._ble_device.name or self.address,
                max_attempts=self._max_attempts,
            ),
            "connect",
            self._timeout * self._max_attempts,
        )
        self._chars = {}

    async def disconnect(self) -> None:
        """Disconnect (idempotent)."""
        client, self._client = self._client, None
        if client is not None and client.is_connected:
            try:
                await asyncio.wait_for(client.disconnect(), self._timeout)
            except (BleakError, TimeoutError) as exc:
                log.debug("%s: disconnect error ignored: %s", self.address, exc)

    async def __aenter__(self) -> Self:
        await self.connect()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.disconnect()

    async def pair(self) -> None:
        """Pair/bond through the OS stack (a bond made earlier, e.g. by bluetoothctl, is reused).

        BlueZ asks its registered agent to confirm Just Works or for a passkey; bleak registers none,
        the gateway's bleak radio does (gateway/radio/bluez_agent.py) and refines this PairingError's advice.
        """
        client = self._require()
        try:
            await asyncio.wait_for(client.pair(), self._timeout)
        except NotImplementedError:
            # macOS pairs on demand when a protected characteristic is first touched.
            log.info("%s: explicit pairing not supported by this backend", self.address)
        except (BleakError, TimeoutError) as exc:
            error = classify_bleak_error(exc, self.address, "pair", connected=self.is_connected)
            if isinstance(error, (DeviceConnectionError, DeviceNotFound)):
                raise error from exc
            raise PairingError(
                f"{self.address}: pairing failed: {exc or type(exc).__name__}",
                advice=_BLUEZ_PAIRING_ADVICE,
                address=self.address,
            ) from exc

    async def discover(self) -> frozenset[int]:
        """16-bit UUIDs of services+characteristics (bleak discovers on connect)."""
        client = self._require()
        uuids: set[int] = set()
        chars: dict[int, BleakGATTCharacteristic] = {}
        for service in client.services:
            if (u := uuid16_from_string(service.uuid)) is not None:
                uuids.add(u)
            for char in service.characteristics:
                if (u := uuid16_from_string(char.uuid)) is not None:
                    uuids.add(u)
                    chars.setdefault(u, char)  # first instance wins; duplicates are vendor oddities
        self._chars = chars
        return frozenset(uuids)

    async def read(self, uuid: int) -> bytes:
        """Read a characteristic value."""
        char = await self._char(uuid)
        return bytes(await self._guard(self._require().read_gatt_char(char), f"read 0x{uuid:04X}"))

    async def write(self, uuid: int, data: bytes) -> None:
        """Write with response."""
        char = await self._char(uuid)
        await self._guard(self._require().write_gatt_char(char, data, response=True), f"write 0x{uuid:04X}")

    async def subscribe(self, uuid: int, callback: NotifyCallback) -> None:
        """start_notify: bleak picks notify or indicate from the characteristic's properties."""
        char = await self._char(uuid)

        def forward(_sender: Any, data: bytearray) -> None:
            callback(bytes(data))

        await self._guard(self._require().start_notify(char, forward), f"subscribe 0x{uuid:04X}")

    def _require(self) -> BleakClient:
        if self._client is None or not self._client.is_connected:
            raise DeviceConnectionError(f"{self.address}: not connected", address=self.address)
        return self._client

    async def _char(self, uuid: int) -> BleakGATTCharacteristic:
        if not self._chars:
            await self.discover()
        try:
            return self._chars[uuid]
        except KeyError:
            raise missing_characteristic(self.address, uuid) from None

    async def _guard(self, aw: Awaitable[_T], what: str, timeout: float | None = None) -> _T:
        try:
            return await asyncio.wait_for(aw, timeout or self._timeout)
        except (BleakError, TimeoutError) as exc:
            raise classify_bleak_error(exc, self.address, what, connected=self.is_connected) from exc


async def bleak_scan(
    timeout: float = 5.0, service_uuids: tuple[int, ...] = (GLUCOSE_SERVICE, BLOOD_PRESSURE_SERVICE)
) -> list[Advertisement]:
    """Scan with BleakScanner; keep advertisers announcing any of `service_uuids` (empty = all)."""
    wanted = frozenset(service_uuids)
    try:
        # The OS filter is a hint (BlueZ merges filters across apps), so filter again below.
        filters = [_full_uuid(u) for u in service_uuids]
        scan = (
            BleakScanner.discover(timeout=timeout, return_adv=True, service_uuids=filters)
            if filters
            else BleakScanner.discover(timeout=timeout, return_adv=True)
        )
        found = await asyncio.wait_for(scan, timeout + 10)
    except (BleakError, TimeoutError) as exc:
        raise classify_bleak_error(exc, "scanner", "scan", connected=False) from exc
    result = []
    for device, adv in found.values():
        uuids = tuple(u for s in adv.service_uuids if (u := uuid16_from_string(s)) is not None)
        if wanted and not wanted.intersection(uuids):
            continue
        result.append(
            Advertisement(
                name=adv.local_name or device.name, address=device.address, rssi=adv.rssi, service_uuids=uuids
            )
        )
    return sorted(result, key=lambda a: a.address)
