"""GATT UUIDs and the transport-neutral GattClient protocol used by device profiles."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Protocol, Self, runtime_checkable

from vitalgate.devices.errors_gatt import (
    DeviceConnectionError,
    DeviceError,
    DeviceNotFound,
    DeviceTimeout,
    PairingError,
    ProcedureError,
)

__all__ = [
    "BLOOD_PRESSURE_FEATURE",
    "BLOOD_PRESSURE_MEASUREMENT",
    "BLOOD_PRESSURE_SERVICE",
    "CURRENT_TIME",
    "CURRENT_TIME_SERVICE",
    "DEVICE_INFORMATION",
    "FIRMWARE_REVISION",
    "GLUCOSE_FEATURE",
    "GLUCOSE_MEASUREMENT",
    "GLUCOSE_MEASUREMENT_CONTEXT",
    "GLUCOSE_SERVICE",
    "INTERMEDIATE_CUFF_PRESSURE",
    "MANUFACTURER_NAME",
    "MODEL_NUMBER",
    "RACP",
    "SERIAL_NUMBER",
    "Advertisement",
    "DeviceConnectionError",
    "DeviceError",
    "DeviceNotFound",
    "DeviceTimeout",
    "GattClient",
    "NotifyCallback",
    "PairingError",
    "ProcedureError",
    "uuid16_from_string",
]

# Glucose Service (GLS)
GLUCOSE_SERVICE = 0x1808
GLUCOSE_MEASUREMENT = 0x2A18
GLUCOSE_MEASUREMENT_CONTEXT = 0x2A34
GLUCOSE_FEATURE = 0x2A51
RACP = 0x2A52
# Blood Pressure Service (BLS)
BLOOD_PRESSURE_SERVICE = 0x1810
BLOOD_PRESSURE_MEASUREMENT = 0x2A35
INTERMEDIATE_CUFF_PRESSURE = 0x2A36
BLOOD_PRESSURE_FEATURE = 0x2A49
# Device Information Service (DIS)
DEVICE_INFORMATION = 0x180A
MANUFACTURER_NAME = 0x2A29
MODEL_NUMBER = 0x2A24
SERIAL_NUMBER = 0x2A25
FIRMWARE_REVISION = 0x2A26
# Current Time Service (CTS)
CURRENT_TIME_SERVICE = 0x1805
CURRENT_TIME = 0x2A2B

NotifyCallback = Callable[[bytes], None]

_BASE_UUID_SUFFIX = "-0000-1000-8000-00805f9b34fb"


def uuid16_from_string(uuid: str) -> int | None:
    """Return the 16-bit alias of a Bluetooth-base UUID string, or None for vendor UUIDs."""
    text = uuid.strip().lower()
    if len(text) <= 6:  # "2a18" / "0x2a18"
        return int(text, 16)
    if len(text) == 36 and text.endswith(_BASE_UUID_SUFFIX) and text.startswith("0000"):
        return int(text[4:8], 16)
    return None


@dataclass(frozen=True, slots=True)
class Advertisement:
    """One BLE advertiser seen during a scan (virtual radio or bleak)."""

    name: str | None
    address: str
    rssi: int | None
    service_uuids: tuple[int, ...]


@runtime_checkable
class GattClient(Protocol):
    """A connected-on-demand GATT central talking to one peripheral; all methods raise DeviceError."""

    address: str

    @property
    def is_connected(self) -> bool:
        """True while the link is up."""
        ...

    async def connect(self) -> None:
        """Open the link (DeviceNotFound / DeviceConnectionError / DeviceTimeout)."""
        ...

    async def disconnect(self) -> None:
        """Close the link; idempotent."""
        ...

    async def pair(self) -> None:
        """Pair/bond (Just Works) or re-encrypt with a stored bond (PairingError)."""
        ...

    async def discover(self) -> frozenset[int]:
        """Return 16-bit UUIDs of all services and characteristics found."""
        ...

    async def read(self, uuid: int) -> bytes:
        """Read a characteristic value."""
        ...

    async def write(self, uuid: int, data: bytes) -> None:
        """Write a characteristic value with response."""
        ...

    async def subscribe(self, uuid: int, callback: NotifyCallback) -> None:
        """Enable notifications or indications (per the characteristic's properties)."""
        ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...
