"""Wire readings -> rows for the staging COPY (column order: store.readings.STAGING_COLUMNS)."""

from __future__ import annotations

from typing import Any

from contract import Reading
from store.readings import to_json


def _value(reading: Reading, name: str) -> float | None:
    quantity = reading.values.get(name)
    return None if quantity is None else quantity.value


def staging_row(reading: Reading, gateway_id: str) -> tuple[Any, ...]:
    d = reading.device
    return (
        reading.id, d.serial, d.kind, d.model, d.manufacturer, gateway_id, reading.kind,
        reading.measured_at, reading.device_time.replace(tzinfo=None), reading.received_at, reading.sequence_number,
        _value(reading, "glucose"), _value(reading, "systolic"), _value(reading, "diastolic"),
        _value(reading, "mean_arterial"), _value(reading, "pulse"), list(reading.status), to_json(reading.context),
    )
