"""Pair a device: connect, bond, read Device Information, store it in the hub registry."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

import structlog

from contract import claim_code
from devices.profiles.dis import read_device_information
from gateway.outbox import HubStore, RegisteredDevice
from gateway.radio import HubRadio, device_kind, radio_unavailable

log = structlog.get_logger(__name__)


class NotSupported(ValueError):
    """The device offers neither the Glucose nor the Blood Pressure service."""


@dataclass(frozen=True, slots=True)
class Paired:
    device: RegisteredDevice
    claim_code: str
    serial_from_address: bool


async def pair_device(radio: HubRadio, store: HubStore, address: str, *, name: str | None = None) -> Paired:
    """Bond with `address`, read DIS and register it; raises DeviceError subclasses or NotSupported."""
    client = radio.client(address)
    try:
        async with client:
            await client.pair()
            services = await client.discover()
            kind = device_kind(services)
            if kind is None:
                raise NotSupported(f"{address} offers neither the Glucose (0x1808) nor the Blood Pressure (0x1810) service")
            info = await read_device_information(client)
    except OSError as exc:  # the OS Bluetooth stack itself is missing
        raise radio_unavailable(address, exc) from exc
    serial = info.serial or address
    store.register(
        address=address, serial=serial, kind=kind, name=name, model=info.model,
        manufacturer=info.manufacturer, firmware=info.firmware, now=datetime.now(timezone.utc),
    )
    device = store.device(address)
    assert device is not None
    log.info("gateway.paired", device=address, kind=kind, model=info.model, serial_from_address=info.serial_from_address)
    return Paired(device, claim_code(serial), info.serial_from_address)
