"""Device Information Service (0x180A) reader."""

from __future__ import annotations

from dataclasses import dataclass

from vitalgate.devices.gatt import (
    FIRMWARE_REVISION,
    MANUFACTURER_NAME,
    MODEL_NUMBER,
    SERIAL_NUMBER,
    GattClient,
)

__all__ = ["DeviceInformation", "read_device_information"]


@dataclass(frozen=True, slots=True)
class DeviceInformation:
    """DIS strings; None where the device does not expose the characteristic."""

    manufacturer: str | None
    model: str | None
    serial: str | None
    firmware: str | None
    # True when the device has no Serial Number characteristic and `serial` holds
    # the BLE address instead: stable for a static address, NOT a regulatory serial.
    serial_from_address: bool = False


def _text(raw: bytes) -> str:
    # Some firmwares NUL-pad fixed-width strings; some are not valid UTF-8.
    return raw.rstrip(b"\x00").decode("utf-8", errors="replace").strip()


async def read_device_information(client: GattClient) -> DeviceInformation:
    """Read manufacturer/model/serial/firmware; serial falls back to the device address."""
    available = await client.discover()

    async def get(uuid: int) -> str | None:
        if uuid not in available:
            return None
        return _text(await client.read(uuid)) or None

    serial = await get(SERIAL_NUMBER)
    return DeviceInformation(
        manufacturer=await get(MANUFACTURER_NAME),
        model=await get(MODEL_NUMBER),
        serial=serial if serial is not None else client.address,
        firmware=await get(FIRMWARE_REVISION),
        serial_from_address=serial is None,
    )
