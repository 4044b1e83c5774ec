"""Decoded device records -> wire-contract readings (pure; no I/O)."""

from __future__ import annotations

import math
from datetime import datetime, timedelta, tzinfo

from contract import DeviceRef, Quantity, Reading, reading_id
from gateway.timing import device_local_time, to_measured_at


def glucose_reading(
    record: object,
    device: DeviceRef,
    *,
    clock_offset: timedelta | None,
    received_at: datetime,
    local_tz: tzinfo,
) -> Reading | None:
    """One glucose record as a Reading; None when it carries no usable concentration (HI/LO or NaN)."""
    m = record.measurement  # type: ignore[attr-defined]
    context = getattr(record, "context", None)
    if m.mg_dl is None or not math.isfinite(m.mg_dl):
        return None
    device_time = device_local_time(m.base_time, m.time_offset_minutes)
    ctx: dict[str, str | float | int | None] = {
        "sample_type": m.sample_type,
        "sample_location": m.sample_location,
        "original_value": m.concentration,
        "original_unit": m.unit,
    }
    meal = getattr(context, "meal", None) if context is not None else None
    if meal:
        ctx["meal"] = meal
    return Reading(
        # Identity uses base time as reported: stable across syncs whatever the clock offset.
        id=reading_id(device.serial, m.sequence_number, m.base_time),
        device=device,
        kind="glucose",
        sequence_number=m.sequence_number,
        values={"glucose": Quantity(value=round(m.mg_dl, 2), unit="mg/dL")},
        measured_at=to_measured_at(device_time, clock_offset, local_tz),
        device_time=device_time,
        received_at=received_at,
        status=sorted(m.sensor_status),
        context={k: v for k, v in ctx.items() if v is not None},
    )
