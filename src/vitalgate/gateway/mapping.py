"""Decoded device records -> wire-contract readings (pure; no I/O).

HI/LO glucose: a meter reports a result beyond its measuring range as +/-INF (SFLOAT). The
reading travels with the meter's reporting limit and a comparator (`"> 500" mg/dL`), the
device's own status flag ("result too high"/"result too low") and `context.glucose_comparator`,
so ingest stores a value that is true as a bound and alerts treat it as extreme.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta, tzinfo

from pydantic import ValidationError

from vitalgate.contract import DeviceRef, Quantity, Reading, reading_id
from vitalgate.devices.bp import BloodPressureMeasurement
from vitalgate.devices.profiles.glucose import GlucoseRecord
from vitalgate.gateway.timing import TIME_UNCERTAIN, device_local_time, to_measured_at

# Bounds that are true for common home meters' measuring ranges (most report 20-600 mg/dL,
# some 20-500 mg/dL per their labelling): "HI" is at least above 500, "LO" at least below 20.
GLUCOSE_HI_MG_DL = 500.0
GLUCOSE_LO_MG_DL = 20.0
_TOO_HIGH, _TOO_LOW = "result too high", "result too low"


class Unusable(ValueError):
    """A device record that cannot become a reading; the reason is kept in the hub's rejected table."""


def _glucose_quantity(mg_dl: float | None, status: set[str]) -> Quantity:
    if mg_dl is None or math.isnan(mg_dl):
        raise Unusable("glucose record without a concentration (NaN/absent)")
    if mg_dl == math.inf:
        status.add(_TOO_HIGH)
        return Quantity(value=GLUCOSE_HI_MG_DL, unit="mg/dL", comparator=">")
    if mg_dl == -math.inf:
        status.add(_TOO_LOW)
        return Quantity(value=GLUCOSE_LO_MG_DL, unit="mg/dL", comparator="<")
    return Quantity(value=round(mg_dl, 2), unit="mg/dL")


def glucose_reading(
    record: GlucoseRecord,
    device: DeviceRef,
    *,
    clock_offset: timedelta | None,
    received_at: datetime,
    local_tz: tzinfo,
    placed_at: datetime | None = None,
    time_uncertain: bool = False,
) -> Reading:
    """One glucose record as a Reading; raises Unusable when it carries no usable concentration.

    `placed_at`: the time the hub placed a record of a device without a usable clock (timing.py);
    `time_uncertain` adds that status flag.
    """
    m = record.measurement
    context = getattr(record, "context", None)
    status = set(m.sensor_status) | ({TIME_UNCERTAIN} if time_uncertain else set())
    quantity = _glucose_quantity(m.mg_dl, status)
    device_time = device_local_time(m.base_time, m.time_offset_minutes)
    ctx: dict[str, str | float | int | None] = {
        "sample_type": m.sample_type,
        "sample_location": m.sample_location,
        "original_value": m.concentration if m.concentration is not None and math.isfinite(m.concentration) else None,
        "original_unit": m.unit,
        "glucose_comparator": quantity.comparator,
    }
    meal = getattr(context, "meal", None) if context is not None else None
    if meal:
        ctx["meal"] = meal
    return _build(
        # Identity uses base time as reported: stable across syncs whatever the clock offset.
        id=reading_id(device.serial, m.sequence_number, m.base_time),
        device=device,
        kind="glucose",
        sequence_number=m.sequence_number,
        values={"glucose": quantity},
        measured_at=placed_at or to_measured_at(device_time, clock_offset, local_tz),
        device_time=device_time,
        received_at=received_at,
        status=sorted(status),
        context={k: v for k, v in ctx.items() if v is not None},
    )


def bp_reading(
    m: BloodPressureMeasurement,
    device: DeviceRef,
    *,
    clock_offset: timedelta | None,
    received_at: datetime,
    local_tz: tzinfo,
    placed_at: datetime | None = None,
    time_uncertain: bool = False,
) -> Reading:
    """One blood-pressure measurement as a Reading (kPa already converted to mm[Hg] by the decoder)."""
    systolic, diastolic = m.systolic_mmhg, m.diastolic_mmhg
    if systolic is None or diastolic is None:
        raise Unusable("blood pressure record without systolic/diastolic (NaN)")
    values = {
        "systolic": Quantity(value=round(systolic, 1), unit="mm[Hg]"),
        "diastolic": Quantity(value=round(diastolic, 1), unit="mm[Hg]"),
    }
    if m.map_mmhg is not None:
        values["mean_arterial"] = Quantity(value=round(m.map_mmhg, 1), unit="mm[Hg]")
    if m.pulse_bpm is not None:
        values["pulse"] = Quantity(value=round(m.pulse_bpm, 1), unit="/min")
    ctx: dict[str, str | float | int | None] = {"original_unit": m.unit, "user_id": m.user_id}
    device_time = m.timestamp
    if device_time is None:
        # A cuff without a clock: the hub's reception time (device-local) stands in, and the id
        # is then unique per sync rather than per record (documented limitation).
        device_time = (received_at.astimezone(local_tz) + (clock_offset or timedelta(0))).replace(tzinfo=None)
        ctx["device_time_source"] = "hub"
    return _build(
        id=reading_id(device.serial, None, device_time),
        device=device,
        kind="blood_pressure",
        sequence_number=None,
        values=values,
        measured_at=placed_at or to_measured_at(device_time, clock_offset, local_tz),
        device_time=device_time,
        received_at=received_at,
        status=sorted(set(m.status) | ({TIME_UNCERTAIN} if time_uncertain else set())),
        context={k: v for k, v in ctx.items() if v is not None},
    )


def _build(**fields: object) -> Reading:
    try:
        return Reading(**fields)
    except ValidationError as exc:
        raise Unusable("; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()[:3])) from exc
