"""Blood Pressure Service (0x1810): Measurement 0x2A35, Intermediate Cuff Pressure 0x2A36, Feature 0x2A49."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from vitalgate.devices import units
from vitalgate.devices._fields import U8, U16, Reader, pack
from vitalgate.devices.datetime_field import encode_date_time
from vitalgate.devices.sfloat import decode_sfloat, encode_sfloat_nearest

__all__ = [
    "BP_FEATURES",
    "BP_STATUS",
    "USER_ID_UNKNOWN",
    "BloodPressureMeasurement",
    "decode_bp_feature",
    "decode_bp_measurement",
    "decode_intermediate_cuff_pressure",
    "encode_bp_feature",
    "encode_bp_measurement",
    "encode_intermediate_cuff_pressure",
]

F_KPA, F_TIMESTAMP, F_PULSE, F_USER, F_STATUS = 0x01, 0x02, 0x04, 0x08, 0x10
USER_ID_UNKNOWN = 0xFF  # spec: 255 = "unknown user"; kept as 255, callers decide
EXCEEDS, BELOW, OUT_OF_RANGE = (
    "pulse rate exceeds upper limit",
    "pulse rate below lower limit",
    "pulse rate out of range",
)
# Measurement Status: single bits 0,1,2,5; bits 3-4 are a 2-bit pulse-rate-range enum; 6-15 RFU.
_STATUS_BITS = {0: "body movement", 1: "cuff too loose", 2: "irregular pulse", 5: "improper position"}
BP_STATUS = frozenset(_STATUS_BITS.values()) | {EXCEEDS, BELOW, OUT_OF_RANGE}
_PULSE_RANGE = {1: EXCEEDS, 2: BELOW}
# Blood Pressure Feature bits (BLS v1.1 adds bits 6-8); 9-15 RFU.
BP_FEATURES = (
    "body movement detection",
    "cuff fit detection",
    "irregular pulse detection",
    "pulse rate range detection",
    "measurement position detection",
    "multiple bond support",
    "e2e-crc support",
    "user data service support",
    "user facing time support",
)


@dataclass(frozen=True, slots=True)
class BloodPressureMeasurement:
    """Decoded 0x2A35/0x2A36: raw values in `unit`, *_mmhg converted (None for NaN/NRes)."""

    flags: int
    unit: str
    systolic: float
    diastolic: float
    map: float
    systolic_mmhg: float | None
    diastolic_mmhg: float | None
    map_mmhg: float | None
    timestamp: datetime | None
    pulse_bpm: float | None
    user_id: int | None  # USER_ID_UNKNOWN (255) = unknown user
    status: frozenset[str]


def _to_mmhg(value: float, kpa: bool) -> float | None:
    if math.isnan(value):
        return None
    return round(units.kpa_to_mmhg(value), 2) if kpa else value


def _decode(data: bytes, what: str) -> BloodPressureMeasurement:
    r = Reader(data, what)
    flags = r.flags("flags", 1, 0x1F)
    kpa = bool(flags & F_KPA)
    systolic = decode_sfloat(r.u16("systolic"))
    diastolic = decode_sfloat(r.u16("diastolic"))
    mean = decode_sfloat(r.u16("map"))
    last, timestamp, pulse, user_id = "map", None, None, None
    status: frozenset[str] = frozenset()
    if flags & F_TIMESTAMP:
        timestamp, last = r.date_time("timestamp"), "timestamp"
    if flags & F_PULSE:
        pulse_raw = decode_sfloat(r.u16("pulse_rate"))
        pulse, last = (None if math.isnan(pulse_raw) else pulse_raw), "pulse_rate"
    if flags & F_USER:
        user_id, last = r.u8("user_id"), "user_id"
    if flags & F_STATUS:
        pos = r.pos
        bits = r.flags("measurement_status", 2, 0x003F)
        names = {name for bit, name in _STATUS_BITS.items() if bits >> bit & 1}
        pulse_range = bits >> 3 & 0b11
        if pulse_range == 3:
            raise r.error("measurement_status", pos, "reserved pulse rate range value 3")
        if pulse_range:
            names |= {_PULSE_RANGE[pulse_range], OUT_OF_RANGE}
        status, last = frozenset(names), "measurement_status"
    r.end(last)
    return BloodPressureMeasurement(
        flags,
        "kPa" if kpa else "mmHg",
        systolic,
        diastolic,
        mean,
        _to_mmhg(systolic, kpa),
        _to_mmhg(diastolic, kpa),
        _to_mmhg(mean, kpa),
        timestamp,
        pulse,
        user_id,
        status,
    )


def decode_bp_measurement(data: bytes) -> BloodPressureMeasurement:
    """Decode a Blood Pressure Measurement; malformed input raises DecodeError."""
    return _decode(data, "blood pressure measurement")


def decode_intermediate_cuff_pressure(data: bytes) -> BloodPressureMeasurement:
    """Decode 0x2A36: same layout; cuff pressure is in systolic, diastolic/map are NaN by spec."""
    return _decode(data, "intermediate cuff pressure")


def _pressure_raw(mmhg: float, kpa: bool) -> int:
    if kpa and math.isfinite(mmhg):
        mmhg = units.mmhg_to_kpa(mmhg)
    return encode_sfloat_nearest(mmhg if not math.isfinite(mmhg) else Decimal(repr(float(mmhg))))


def _status_bits(status: frozenset[str] | set[str]) -> int:
    unknown = set(status) - BP_STATUS
    if unknown:
        raise ValueError(f"unknown blood pressure status: {sorted(unknown)}")
    if EXCEEDS in status and BELOW in status:
        raise ValueError("pulse rate cannot both exceed the upper and be below the lower limit")
    if OUT_OF_RANGE in status and not ({EXCEEDS, BELOW} & set(status)):
        raise ValueError(f"{OUT_OF_RANGE!r} needs {EXCEEDS!r} or {BELOW!r}")
    bits = sum(1 << bit for bit, name in _STATUS_BITS.items() if name in status)
    return bits | (1 << 3 if EXCEEDS in status else 0) | (2 << 3 if BELOW in status else 0)


def encode_bp_measurement(
    systolic_mmhg: float,
    diastolic_mmhg: float,
    map_mmhg: float,
    unit: str = "mmHg",
    timestamp: datetime | None = None,
    pulse_bpm: float | None = None,
    user_id: int | None = None,
    status: frozenset[str] = frozenset(),
) -> bytes:
    """Encode a Blood Pressure Measurement from mmHg (converted when unit="kPa"); NaN allowed."""
    if unit not in ("mmHg", "kPa"):
        raise ValueError(f"unit must be 'mmHg' or 'kPa', not {unit!r}")
    kpa = unit == "kPa"
    flags = F_KPA if kpa else 0
    out = [U16.pack(_pressure_raw(v, kpa)) for v in (systolic_mmhg, diastolic_mmhg, map_mmhg)]
    if timestamp is not None:
        flags |= F_TIMESTAMP
        out.append(encode_date_time(timestamp))
    if pulse_bpm is not None:
        flags |= F_PULSE
        out.append(U16.pack(encode_sfloat_nearest(pulse_bpm)))
    if user_id is not None:
        flags |= F_USER
        out.append(pack(U8, user_id, "user_id"))
    if status:
        flags |= F_STATUS
        out.append(U16.pack(_status_bits(status)))
    return U8.pack(flags) + b"".join(out)


def encode_intermediate_cuff_pressure(
    cuff_mmhg: float,
    unit: str = "mmHg",
    timestamp: datetime | None = None,
    pulse_bpm: float | None = None,
    user_id: int | None = None,
    status: frozenset[str] = frozenset(),
) -> bytes:
    """Encode 0x2A36: cuff pressure in the systolic slot, diastolic/map NaN."""
    return encode_bp_measurement(cuff_mmhg, math.nan, math.nan, unit, timestamp, pulse_bpm, user_id, status)


def decode_bp_feature(data: bytes) -> frozenset[str]:
    """Decode Blood Pressure Feature (0x2A49) into readable capability names."""
    r = Reader(data, "blood pressure feature")
    value = r.flags("features", 2, (1 << len(BP_FEATURES)) - 1)
    r.end("features")
    return frozenset(name for i, name in enumerate(BP_FEATURES) if value >> i & 1)


def encode_bp_feature(features: frozenset[str] | set[str]) -> bytes:
    """Encode capability names as the 2-byte Blood Pressure Feature value."""
    unknown = set(features) - set(BP_FEATURES)
    if unknown:
        raise ValueError(f"unknown blood pressure feature: {sorted(unknown)}")
    return U16.pack(sum(1 << BP_FEATURES.index(name) for name in features))
