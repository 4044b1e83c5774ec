"""Wire contract v1: a batch of readings published by a gateway on vitalgate/v1/{gateway_id}/readings.

Topics carry opaque ids only, never names or other PHI. Values carry UCUM units. A reading's id
is deterministic (UUIDv5 of device serial, sequence number and device time) so a record synced
twice is the same reading, and ingest stores it once.
"""

from __future__ import annotations

import math
import uuid
from datetime import datetime
from typing import Annotated, Final, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

SCHEMA_VERSION: Final = 1
TOPIC_PREFIX = "vitalgate/v1"
# Fixed namespace so every gateway derives the same id for the same device record.
READING_NAMESPACE = uuid.UUID("6f1c3a52-8d0e-5b7a-9c41-2a7e0d5b9f13")
MAX_BATCH = 1000
# Sizes of the free-form parts of a reading: generous for what meters and cuffs report (a GATT
# Glucose Measurement Context has 8 fields; sensor status annunciations ~16 flags), small enough
# that one message cannot make ingest hold or store megabytes (issue 13: 10 MB strings, 100,000 keys).
MAX_STATUS_ITEMS = 32
MAX_STATUS_CHARS = 64
MAX_CONTEXT_KEYS = 32
MAX_CONTEXT_KEY_CHARS = 64
MAX_CONTEXT_TEXT_CHARS = 256
# Integers in context must survive JSON consumers that use IEEE doubles (JavaScript, jsonb -> float).
MAX_CONTEXT_INT = 2**53

StatusFlag = Annotated[str, StringConstraints(min_length=1, max_length=MAX_STATUS_CHARS)]
ContextKey = Annotated[str, StringConstraints(min_length=1, max_length=MAX_CONTEXT_KEY_CHARS)]
ContextValue = (
    Annotated[str, StringConstraints(max_length=MAX_CONTEXT_TEXT_CHARS)]
    | Annotated[int, Field(ge=-MAX_CONTEXT_INT, le=MAX_CONTEXT_INT)]
    | Annotated[float, Field(allow_inf_nan=False)]
    | None
)

GlucoseUnit = Literal["mg/dL"]
PressureUnit = Literal["mm[Hg]"]
RateUnit = Literal["/min"]

# Plausibility bounds: outside them a value is a device or transport error, not physiology.
# Glucose meters report roughly 10-600 mg/dL; 2,000 leaves room for lab-grade devices.
# BP: no living adult measures a systolic above 300 or below 40 mmHg on a home cuff.
PLAUSIBLE = {
    "glucose": (0.0, 2000.0),
    "systolic": (40.0, 300.0),
    "diastolic": (10.0, 250.0),
    "mean_arterial": (20.0, 280.0),
    "pulse": (20.0, 300.0),
}
UNITS = {"glucose": "mg/dL", "systolic": "mm[Hg]", "diastolic": "mm[Hg]", "mean_arterial": "mm[Hg]", "pulse": "/min"}
KIND_VALUES = {"glucose": {"glucose"}, "blood_pressure": {"systolic", "diastolic", "mean_arterial", "pulse"}}
REQUIRED_VALUES = {"glucose": {"glucose"}, "blood_pressure": {"systolic", "diastolic"}}


def readings_topic(gateway_id: str) -> str:
    """Topic a gateway publishes reading batches to."""
    return f"{TOPIC_PREFIX}/{gateway_id}/readings"


def status_topic(gateway_id: str) -> str:
    """Retained gateway status topic (last will: offline)."""
    return f"{TOPIC_PREFIX}/{gateway_id}/status"


def reading_id(device_serial: str, sequence_number: int | None, device_time: datetime) -> uuid.UUID:
    """The same device record always yields the same id (cuffs without sequence numbers use time alone)."""
    seq = "-" if sequence_number is None else str(sequence_number)
    return uuid.uuid5(READING_NAMESPACE, f"{device_serial}|{seq}|{device_time.replace(tzinfo=None).isoformat()}")


class Quantity(BaseModel):
    """A measured value with its UCUM unit."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    value: float
    unit: str = Field(max_length=16)
    # FHIR Quantity.comparator: a meter's HI/LO result travels as its reporting limit with ">" or
    # "<" (e.g. "> 500 mg/dL"), so an out-of-range reading is never dropped nor faked as exact.
    comparator: Literal["<", ">"] | None = None

    @field_validator("value")
    @classmethod
    def _finite(cls, v: float) -> float:
        if not math.isfinite(v):
            raise ValueError("value must be a finite number (HI/LO results travel as a limit with a comparator)")
        return v


class DeviceRef(BaseModel):
    """Which device produced the reading; no patient identity (binding lives on the server)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    serial: str = Field(min_length=1, max_length=64)
    kind: Literal["glucose_meter", "bp_cuff"]
    model: str | None = Field(default=None, max_length=64)
    manufacturer: str | None = Field(default=None, max_length=64)
    address: str | None = Field(default=None, max_length=64)


class Reading(BaseModel):
    """One measurement as the gateway saw it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: uuid.UUID
    device: DeviceRef
    kind: Literal["glucose", "blood_pressure"]
    sequence_number: int | None = Field(default=None, ge=0, le=65535)
    values: dict[str, Quantity] = Field(max_length=len(PLAUSIBLE))
    measured_at: AwareDatetime
    device_time: datetime
    received_at: AwareDatetime
    # Device status flags as words ("result too high", ...) plus the hub's own "time_uncertain": the
    # device had no usable clock and the hub placed measured_at (gateway/timing.py). Free words:
    # adding a flag is a compatible extension of v1.
    status: list[StatusFlag] = Field(
        default_factory=list,
        max_length=MAX_STATUS_ITEMS,
        description="Device status flags; the hub adds 'time_uncertain' when the device had no usable clock "
        "(no Current Time characteristic, or further from the hub's clock than its limit) and measured_at was placed "
        "by the hub.",
    )
    context: dict[ContextKey, ContextValue] = Field(default_factory=dict, max_length=MAX_CONTEXT_KEYS)

    @model_validator(mode="after")
    def _values_fit_kind(self) -> Reading:
        allowed, required = KIND_VALUES[self.kind], REQUIRED_VALUES[self.kind]
        names = set(self.values)
        if not required <= names:
            raise ValueError(f"{self.kind} reading needs values {sorted(required)}, got {sorted(names)}")
        if names - allowed:
            raise ValueError(f"{self.kind} reading has unknown values {sorted(names - allowed)}")
        for name, quantity in self.values.items():
            if quantity.unit != UNITS[name]:
                raise ValueError(f"{name} must be in {UNITS[name]!r}, got {quantity.unit!r}")
            low, high = PLAUSIBLE[name]
            if not low < quantity.value <= high:
                raise ValueError(f"{name} {quantity.value} {quantity.unit} is outside the plausible range {low}-{high}")
        return self


class ReadingBatch(BaseModel):
    """What one MQTT message carries."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: Literal[1] = SCHEMA_VERSION
    gateway_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    sent_at: AwareDatetime
    readings: list[Reading] = Field(max_length=MAX_BATCH)
