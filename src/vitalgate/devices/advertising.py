"""BLE advertising: the AD structures a meter or cuff broadcasts, and the profiles the hub can sync.

Pure (no radio): the production HCI radio parses what it hears with `parse_advertising_data`, the
virtual devices build their advertisements with `build_advertising_data`. AD types from the
Bluetooth Assigned Numbers, section 2.3 (Common Data Types); the 31-byte limit is the legacy
advertising PDU payload (Core Specification v5.4, Vol 6, Part B, 2.3.1).
"""

from __future__ import annotations

import struct

from vitalgate.devices.gatt import BLOOD_PRESSURE_SERVICE, GLUCOSE_SERVICE
from vitalgate.domain import DeviceKind

_AD_FLAGS = 0x01
_AD_INCOMPLETE_UUID16 = 0x02
_AD_COMPLETE_UUID16 = 0x03
_AD_SHORT_NAME = 0x08
_AD_COMPLETE_NAME = 0x09
_LEGACY_ADV_MAX_BYTES = 31

# Profiles the hub can sync: advertising any of these makes a device a pairing candidate.
SUPPORTED_SERVICES = (GLUCOSE_SERVICE, BLOOD_PRESSURE_SERVICE)
KIND_BY_SERVICE = {GLUCOSE_SERVICE: DeviceKind.GLUCOSE_METER, BLOOD_PRESSURE_SERVICE: DeviceKind.BP_CUFF}
SERVICE_NAMES = {GLUCOSE_SERVICE: "glucose (0x1808)", BLOOD_PRESSURE_SERVICE: "blood pressure (0x1810)"}


def device_kind(service_uuids: frozenset[int] | tuple[int, ...]) -> DeviceKind | None:
    """glucose_meter / bp_cuff from the services a device offers (glucose wins if both)."""
    for service in SUPPORTED_SERVICES:
        if service in service_uuids:
            return KIND_BY_SERVICE[service]
    return None


def build_advertising_data(name: str, service_uuids: tuple[int, ...]) -> bytes:
    """Flags + 16-bit service UUIDs + local name, truncated to the 31-byte legacy limit."""
    flags = bytes([2, _AD_FLAGS, 0x06])  # LE General Discoverable, BR/EDR not supported
    uuids = b"".join(struct.pack("<H", u) for u in service_uuids)
    uuid_ad = bytes([len(uuids) + 1, _AD_COMPLETE_UUID16]) + uuids if uuids else b""
    room = _LEGACY_ADV_MAX_BYTES - len(flags) - len(uuid_ad) - 2
    raw_name = name.encode()
    name_type = _AD_COMPLETE_NAME if len(raw_name) <= room else _AD_SHORT_NAME
    raw_name = raw_name[: max(room, 0)]
    name_ad = bytes([len(raw_name) + 1, name_type]) + raw_name if raw_name else b""
    return flags + uuid_ad + name_ad


def parse_advertising_data(data: bytes) -> tuple[str | None, tuple[int, ...]]:
    """Extract (local name, 16-bit service UUIDs) from raw AD structures."""
    name: str | None = None
    uuids: list[int] = []
    offset = 0
    while offset < len(data):
        length = data[offset]
        if length == 0 or offset + 1 + length > len(data):
            break  # padding or a truncated structure: stop rather than misparse
        ad_type, body = data[offset + 1], data[offset + 2 : offset + 1 + length]
        if ad_type in (_AD_COMPLETE_UUID16, _AD_INCOMPLETE_UUID16):
            uuids.extend(struct.unpack_from("<H", body, i)[0] for i in range(0, len(body) - 1, 2))
        elif ad_type in (_AD_COMPLETE_NAME, _AD_SHORT_NAME):
            name = body.decode("utf-8", errors="replace")
        offset += 1 + length
    return name, tuple(uuids)
