"""Current Time Service (0x2A2B) codec plus read/write helpers for device clocks."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from datetime import datetime, timedelta

from vitalgate.devices.gatt import CURRENT_TIME, GattClient

__all__ = [
    "ADJUST_EXTERNAL_REFERENCE",
    "ADJUST_MANUAL",
    "ClockReading",
    "decode_current_time",
    "encode_current_time",
    "read_clock",
    "read_current_time",
    "write_current_time",
]

ADJUST_MANUAL = 0x01
ADJUST_EXTERNAL_REFERENCE = 0x02
_FMT = "<HBBBBBBBB"  # year, month, day, h, m, s, day_of_week, fractions256, adjust_reason


def encode_current_time(now: datetime, adjust_reason: int = ADJUST_EXTERNAL_REFERENCE) -> bytes:
    """Encode a naive (device-local) datetime as the 10-byte Current Time value."""
    return struct.pack(
        _FMT,
        now.year,
        now.month,
        now.day,
        now.hour,
        now.minute,
        now.second,
        now.isoweekday(),  # CTS: 1 = Monday .. 7 = Sunday, same as ISO
        now.microsecond * 256 // 1_000_000,
        adjust_reason,
    )


def decode_current_time(data: bytes) -> datetime:
    """Decode the Current Time value into a naive datetime (ValueError on garbage)."""
    if len(data) < 7:
        raise ValueError(f"Current Time needs >= 7 bytes, got {len(data)}")
    year, month, day, hour, minute, second = struct.unpack_from("<HBBBBB", data)
    fractions = data[8] if len(data) >= 9 else 0
    return datetime(year, month, day, hour, minute, second, fractions * 1_000_000 // 256)


@dataclass(frozen=True, slots=True)
class ClockReading:
    """The device clock read at sync, its offset from the host clock, or why it could not be read."""

    device_time: datetime | None = None
    clock_offset: timedelta | None = None  # device_time - host local naive time
    rejected: tuple[bytes, str] | None = None  # raw value + reason when the clock did not decode


async def read_clock(client: GattClient, available: frozenset[int]) -> ClockReading:
    """Read 0x2A2B if the device has it; a bad clock is reported, never raised (it must not block a download)."""
    if CURRENT_TIME not in available:
        return ClockReading()
    raw = await client.read(CURRENT_TIME)
    host_now = datetime.now()
    try:
        device_time = decode_current_time(raw)
    except ValueError as exc:
        return ClockReading(rejected=(raw, f"current time: {exc}"))
    return ClockReading(device_time, device_time - host_now)


async def read_current_time(client: GattClient) -> datetime | None:
    """Device clock from 0x2A2B, or None when the device has no Current Time characteristic."""
    if CURRENT_TIME not in await client.discover():
        return None
    return decode_current_time(await client.read(CURRENT_TIME))


async def write_current_time(client: GattClient, now: datetime) -> bool:
    """Set the device clock to `now` (naive, the patient's local time); False if unsupported."""
    if CURRENT_TIME not in await client.discover():
        return False
    await client.write(CURRENT_TIME, encode_current_time(now.replace(tzinfo=None)))
    return True
