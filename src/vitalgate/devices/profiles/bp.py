"""Blood Pressure Profile collector: take the indications a cuff dumps until it hangs up or goes quiet."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from vitalgate.devices.bp import BloodPressureMeasurement, decode_bp_measurement, decode_intermediate_cuff_pressure
from vitalgate.devices.errors import DecodeError
from vitalgate.devices.errors_gatt import DeviceError, DeviceTimeout
from vitalgate.devices.gatt import (
    BLOOD_PRESSURE_MEASUREMENT,
    INTERMEDIATE_CUFF_PRESSURE,
    GattClient,
)
from vitalgate.devices.profiles.cts import read_clock

__all__ = ["BpSyncResult", "sync_blood_pressure"]

_POLL = 0.05  # disconnect / quiet-period detection granularity


@dataclass(frozen=True, slots=True)
class BpSyncResult:
    """Outcome of one cuff session."""

    records: tuple[BloodPressureMeasurement, ...]
    device_time: datetime | None  # cuff clock from 0x2A2B before the dump (naive)
    clock_offset: timedelta | None  # device_time - host local naive time
    rejected: tuple[tuple[bytes, str], ...] = ()  # raw indication + DecodeError text
    skipped_old: int = 0  # well-formed records dropped by the `since` filter


async def sync_blood_pressure(
    client: GattClient,
    *,
    since: datetime | None = None,
    quiet_period: float = 2.0,
    timeout: float = 30.0,
    on_intermediate: Callable[[BloodPressureMeasurement], None] | None = None,
) -> BpSyncResult:
    """Collect stored readings newer than `since` (device clock) from a connected cuff.

    Cuffs have no sequence numbers, so `since` is the last stored timestamp; readings
    without a timestamp cannot be filtered and are always returned (the caller dedupes).
    """
    loop = asyncio.get_running_loop()
    measurements: list[BloodPressureMeasurement] = []
    rejected: list[tuple[bytes, str]] = []
    last_activity = loop.time()

    def on_measurement(data: bytes) -> None:
        nonlocal last_activity
        last_activity = loop.time()
        try:
            measurements.append(decode_bp_measurement(bytes(data)))
        except DecodeError as exc:
            rejected.append((bytes(data), str(exc)))

    def on_cuff_pressure(data: bytes) -> None:
        nonlocal last_activity
        last_activity = loop.time()  # inflation in progress: not quiet
        try:
            reading = decode_intermediate_cuff_pressure(bytes(data))
        except DecodeError as exc:
            rejected.append((bytes(data), f"intermediate cuff pressure: {exc}"))
            return
        if on_intermediate is not None:
            on_intermediate(reading)

    try:
        async with asyncio.timeout(timeout):
            available = await client.discover()
            if BLOOD_PRESSURE_MEASUREMENT not in available:
                raise DeviceError(
                    f"{client.address}: no Blood Pressure Measurement characteristic",
                    advice="This cuff does not implement the standard Blood Pressure Service; it needs a vendor integration.",
                    address=client.address,
                )
            # Read the clock first: most cuffs hang up right after the dump.
            clock = await read_clock(client, available)
            if clock.rejected is not None:
                rejected.append(clock.rejected)
            if INTERMEDIATE_CUFF_PRESSURE in available:
                await client.subscribe(INTERMEDIATE_CUFF_PRESSURE, on_cuff_pressure)
            await client.subscribe(BLOOD_PRESSURE_MEASUREMENT, on_measurement)
            last_activity = loop.time()
            # Polls: the end of a cuff's memory dump is silence, not an event.
            while client.is_connected and loop.time() - last_activity < quiet_period:  # noqa: ASYNC110
                await asyncio.sleep(_POLL)
    except TimeoutError:
        error = DeviceTimeout(
            f"{client.address}: cuff kept the session open beyond {timeout:.1f}s", address=client.address
        )
        error.partial = tuple(measurements)
        raise error from None

    fresh = tuple(m for m in measurements if since is None or m.timestamp is None or m.timestamp > since)
    return BpSyncResult(
        records=fresh,
        device_time=clock.device_time,
        clock_offset=clock.clock_offset,
        rejected=tuple(rejected),
        skipped_old=len(measurements) - len(fresh),
    )
