"""Wire readings -> rows for the staging COPY (column order: store.readings.STAGING_COLUMNS)."""

from __future__ import annotations

from typing import Any

from vitalgate.contract import Reading


def _value(values: dict[str, Any], name: str) -> float | None:
    quantity = values.get(name)
    return None if quantity is None else quantity.value


def staging_row(reading: Reading, gateway_id: str) -> tuple[Any, ...]:
    """One row in STAGING_COLUMNS order (hot path: called for every reading)."""
    d = reading.device
    device_time = reading.device_time
    if device_time.tzinfo is not None:  # the device's own clock reading is stored as a naive timestamp
        device_time = device_time.replace(tzinfo=None)
    values = reading.values
    return (
        reading.id,
        d.serial,
        d.kind,
        d.model,
        d.manufacturer,
        gateway_id,
        reading.kind,
        reading.measured_at,
        device_time,
        reading.received_at,
        reading.sequence_number,
        _value(values, "glucose"),
        _value(values, "systolic"),
        _value(values, "diastolic"),
        _value(values, "mean_arterial"),
        _value(values, "pulse"),
        list(reading.status),
        reading.context,
    )
