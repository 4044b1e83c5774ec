"""Pair a device: connect, bond, read Device Information, store it in the hub registry."""

from __future__ import annotations

import inspect
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime

import structlog

from vitalgate.contract import claim_hash, new_claim_code
from vitalgate.devices.advertising import device_kind
from vitalgate.devices.errors_gatt import PairingError
from vitalgate.devices.gatt import GattClient
from vitalgate.devices.profiles.dis import read_device_information
from vitalgate.gateway.claims import HubClaims
from vitalgate.gateway.outbox import HubStore, RegisteredDevice
from vitalgate.gateway.radio import HubRadio, Passkey, radio_unavailable

log = structlog.get_logger(__name__)


class NotSupported(ValueError):
    """The device offers neither the Glucose nor the Blood Pressure service."""


@dataclass(frozen=True, slots=True)
class Paired:
    device: RegisteredDevice
    claim_code: str
    serial_from_address: bool


# The wire contract's limit for device strings (contract.readings.DeviceRef: serial, model,
# manufacturer). A longer string or one with control characters would pair fine and then make
# every batch of the device's readings a dead letter (issue 13 item 8): refuse it here instead.
MAX_DIS_CHARS = 64


def check_device_information(address: str, **fields: str | None) -> None:
    """Raise PairingError naming the first Device Information string the contract could not carry."""
    for name, value in fields.items():
        if value is None:
            continue
        problem = None
        if len(value) > MAX_DIS_CHARS:
            problem = f"is {len(value)} characters long (at most {MAX_DIS_CHARS})"
        elif bad := next((ch for ch in value if unicodedata.category(ch) in ("Cc", "Cs")), None):
            problem = f"contains the control character U+{ord(bad):04X}"
        if problem:
            raise PairingError(
                f"{address}: the device's Device Information {name} {problem}: {value[:MAX_DIS_CHARS]!r}",
                advice=(
                    "This device reports a malformed identity and its readings could not be delivered;"
                    " it cannot be paired. Update its firmware or use another device."
                ),
                address=address,
            )


def supports_passkey(radio: HubRadio) -> bool:
    """True if `radio.client()` takes a passkey (bumble radios enter it; bleak explains BlueZ's agent)."""
    return "passkey" in inspect.signature(radio.client).parameters


def _client(radio: HubRadio, address: str, passkey: Passkey | None) -> GattClient:
    if passkey is None:
        return radio.client(address)
    if not supports_passkey(radio):
        raise PairingError(
            f"{address}: the {radio.name} radio cannot enter a passkey",
            advice="Pair this device with the virtual or bleak radio, or without --passkey if it does not show one.",
            address=address,
        )
    return radio.client(address, passkey=passkey)


async def pair_device(
    radio: HubRadio, store: HubStore, address: str, *, name: str | None = None, passkey: Passkey | None = None
) -> Paired:
    """Bond with `address`, read DIS and register it; raises DeviceError subclasses or NotSupported.

    `passkey`: the digits the device displays, or an async prompt asked only if the device wants one.
    """
    client = _client(radio, address, passkey)
    try:
        async with client:
            await client.pair()
            services = await client.discover()
            kind = device_kind(services)
            if kind is None:
                raise NotSupported(
                    f"{address} offers neither the Glucose (0x1808) nor the Blood Pressure (0x1810) service"
                )
            info = await read_device_information(client)
    except OSError as exc:  # the OS Bluetooth stack itself is missing
        raise radio_unavailable(address, exc) from exc
    check_device_information(address, serial=info.serial, model=info.model, manufacturer=info.manufacturer,
                             firmware=info.firmware)  # fmt: skip
    serial = info.serial or address
    store.register(
        address=address,
        serial=serial,
        kind=kind,
        name=name,
        model=info.model,
        manufacturer=info.manufacturer,
        firmware=info.firmware,
        now=datetime.now(UTC),
    )
    device = store.device(address)
    assert device is not None
    log.info(
        "gateway.paired", device=address, kind=kind, model=info.model, serial_from_address=info.serial_from_address
    )
    # A fresh random claim code: printed once, only its hash kept, registered with the server by the
    # publisher over the hub's own MQTT identity (contract.claim).
    code = new_claim_code()
    claims = HubClaims(store.path)
    try:
        claims.add(serial, kind, claim_hash(code), now=datetime.now(UTC))
    finally:
        claims.close()
    return Paired(device, code, info.serial_from_address)
