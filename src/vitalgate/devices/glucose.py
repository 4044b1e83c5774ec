"""Glucose Service (0x1808): Measurement 0x2A18, Context 0x2A34, Feature 0x2A51."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from vitalgate.devices import units
from vitalgate.devices._fields import S16, U8, U16, Reader, pack
from vitalgate.devices.datetime_field import encode_date_time
from vitalgate.devices.sfloat import decode_sfloat, encode_sfloat_nearest

__all__ = [
    "CARBOHYDRATES",
    "EXERCISE_DURATION_OVERRUN",
    "GLUCOSE_FEATURES",
    "HEALTH",
    "MEALS",
    "MEDICATIONS",
    "SAMPLE_LOCATIONS",
    "SAMPLE_TYPES",
    "SENSOR_STATUS",
    "TESTERS",
    "GlucoseContext",
    "GlucoseMeasurement",
    "decode_glucose_context",
    "decode_glucose_feature",
    "decode_glucose_measurement",
    "encode_glucose_context",
    "encode_glucose_feature",
    "encode_glucose_measurement",
]

# 0x2A18 flags
F_TIME_OFFSET, F_CONCENTRATION, F_MOL_L, F_STATUS, F_CONTEXT = 0x01, 0x02, 0x04, 0x08, 0x10
SAMPLE_TYPES = {
    1: "capillary whole blood",
    2: "capillary plasma",
    3: "venous whole blood",
    4: "venous plasma",
    5: "arterial whole blood",
    6: "arterial plasma",
    7: "undetermined whole blood",
    8: "undetermined plasma",
    9: "interstitial fluid",
    10: "control solution",
}
SAMPLE_LOCATIONS = {1: "finger", 2: "alternate site test", 3: "earlobe", 4: "control solution", 15: "not available"}
SENSOR_STATUS = (
    "device battery low",
    "sensor malfunction",
    "sample size insufficient",
    "strip insertion error",
    "strip type incorrect",
    "result too high",
    "result too low",
    "sensor temperature too high",
    "sensor temperature too low",
    "sensor read interrupted",
    "general device fault",
    "time fault",
)  # bit i; bits 12-15 reserved
GLUCOSE_FEATURES = (
    "low battery detection",
    "sensor malfunction detection",
    "sensor sample size",
    "sensor strip insertion error detection",
    "sensor strip type error detection",
    "sensor result high-low detection",
    "sensor temperature high-low detection",
    "sensor read interrupt detection",
    "general device fault",
    "time fault",
    "multiple bond support",
)  # bit i; bits 11-15 reserved
# 0x2A34 flags (all 8 bits defined)
C_CARB, C_MEAL, C_TESTER, C_EXERCISE, C_MEDICATION, C_MED_LITRES, C_HBA1C, C_EXTENDED = (1 << i for i in range(8))
CARBOHYDRATES = {1: "breakfast", 2: "lunch", 3: "dinner", 4: "snack", 5: "drink", 6: "supper", 7: "brunch"}
MEALS = {1: "preprandial", 2: "postprandial", 3: "fasting", 4: "casual", 5: "bedtime"}
TESTERS = {1: "self", 2: "health care professional", 3: "lab test", 15: "not available"}
HEALTH = {
    1: "minor health issues",
    2: "major health issues",
    3: "during menses",
    4: "under stress",
    5: "no health issues",
    15: "not available",
}
MEDICATIONS = {
    1: "rapid acting insulin",
    2: "short acting insulin",
    3: "intermediate acting insulin",
    4: "long acting insulin",
    5: "pre-mixed insulin",
}
EXERCISE_DURATION_OVERRUN = 0xFFFF  # spec: "overrun", i.e. longer than 65534 s


def _bits_to_names(value: int, names: tuple[str, ...]) -> frozenset[str]:
    return frozenset(name for i, name in enumerate(names) if value >> i & 1)


def _names_to_bits(selected: frozenset[str] | set[str], names: tuple[str, ...], what: str) -> int:
    unknown = set(selected) - set(names)
    if unknown:
        raise ValueError(f"unknown {what}: {sorted(unknown)}")
    return sum(1 << names.index(name) for name in selected)


def _lookup(reader: Reader, table: dict[int, str], value: int, field: str, offset: int) -> str:
    name = table.get(value)
    if name is None:
        raise reader.error(field, offset, f"reserved value {value}")
    return name


def _code(table: dict[int, str], name: str, what: str) -> int:
    for code, candidate in table.items():
        if candidate == name:
            return code
    raise ValueError(f"unknown {what} {name!r}; expected one of {sorted(table.values())}")


def _finite_or_none(value: float, ndigits: int) -> float | None:
    # NaN / NRes / reserved carry no number; +-INF ("above/below range") survive rounding.
    return None if math.isnan(value) else round(value, ndigits)


@dataclass(frozen=True, slots=True)
class GlucoseMeasurement:
    """Decoded Glucose Measurement (0x2A18); base_time is the naive device clock."""

    flags: int
    sequence_number: int
    base_time: datetime
    time_offset_minutes: int | None
    concentration: float | None
    unit: str | None
    mg_dl: float | None
    mmol_l: float | None
    sample_type: str | None
    sample_location: str | None
    sensor_status: frozenset[str]
    context_follows: bool

    @property
    def user_facing_time(self) -> datetime:
        """Base time plus time offset, the time the spec tells collectors to display."""
        return self.base_time + timedelta(minutes=self.time_offset_minutes or 0)


def decode_glucose_measurement(data: bytes) -> GlucoseMeasurement:
    """Decode a Glucose Measurement; malformed input raises DecodeError."""
    r = Reader(data, "glucose measurement")
    flags = r.flags("flags", 1, 0x1F)
    seq = r.u16("sequence_number")
    base_time = r.date_time("base_time")
    last = "base_time"
    offset_min = r.s16("time_offset") if flags & F_TIME_OFFSET else None
    last = "time_offset" if flags & F_TIME_OFFSET else last
    conc = unit = mg_dl = mmol_l = sample_type = location = None
    if flags & F_CONCENTRATION:
        raw = r.u16("concentration")
        conc = decode_sfloat(raw)
        if flags & F_MOL_L:
            unit, exact = "mol/L", decode_sfloat(raw, decimal_shift=3)  # mmol/L, no float error
            mmol_l = _finite_or_none(exact, 3)
            mg_dl = _finite_or_none(units.mmol_l_to_mg_dl(exact), 2)
        else:
            unit, exact = "kg/L", decode_sfloat(raw, decimal_shift=5)  # mg/dL, no float error
            mg_dl = _finite_or_none(exact, 2)
            mmol_l = _finite_or_none(units.mg_dl_to_mmol_l(exact), 2)
        pos = r.pos
        type_location = r.u8("sample_type")
        sample_type = _lookup(r, SAMPLE_TYPES, type_location & 0x0F, "sample_type", pos)
        location = _lookup(r, SAMPLE_LOCATIONS, type_location >> 4, "sample_location", pos)
        last = "sample_location"
    status: frozenset[str] = frozenset()
    if flags & F_STATUS:
        status = _bits_to_names(r.flags("sensor_status", 2, 0x0FFF), SENSOR_STATUS)
        last = "sensor_status"
    r.end(last)
    return GlucoseMeasurement(
        flags,
        seq,
        base_time,
        offset_min,
        conc,
        unit,
        mg_dl,
        mmol_l,
        sample_type,
        location,
        status,
        bool(flags & F_CONTEXT),
    )


def _concentration_raw(mg_dl: float | None, mmol_l: float | None, unit: str) -> int:
    if mg_dl is not None and mmol_l is not None:
        raise ValueError("give mg_dl or mmol_l, not both")
    if mg_dl is not None:
        value = mg_dl
    elif mmol_l is not None:
        value = mmol_l
    else:
        raise ValueError("give mg_dl or mmol_l")
    if math.isnan(value) or math.isinf(value):
        return encode_sfloat_nearest(value)
    if unit == "kg/L":
        mg = mg_dl if mg_dl is not None else units.mmol_l_to_mg_dl(value)
        return encode_sfloat_nearest(Decimal(repr(float(mg))).scaleb(-5))
    mmol = mmol_l if mmol_l is not None else units.mg_dl_to_mmol_l(value)
    return encode_sfloat_nearest(Decimal(repr(float(mmol))).scaleb(-3))


def encode_glucose_measurement(
    *,
    sequence_number: int,
    base_time: datetime,
    time_offset_minutes: int | None = None,
    mg_dl: float | None = None,
    unit: str = "kg/L",
    sample_type: str | None = None,
    sample_location: str | None = None,
    sensor_status: frozenset[str] = frozenset(),
    context_follows: bool = False,
    mmol_l: float | None = None,
) -> bytes:
    """Encode a Glucose Measurement; the SFLOAT uses the finest exponent that fits."""
    if unit not in ("kg/L", "mol/L"):
        raise ValueError(f"unit must be 'kg/L' or 'mol/L', not {unit!r}")
    has_conc = mg_dl is not None or mmol_l is not None
    flags = F_CONTEXT if context_follows else 0
    out = [pack(U16, sequence_number, "sequence_number"), encode_date_time(base_time)]
    if time_offset_minutes is not None:
        flags |= F_TIME_OFFSET
        out.append(pack(S16, time_offset_minutes, "time_offset_minutes"))
    if has_conc:
        flags |= F_CONCENTRATION | (F_MOL_L if unit == "mol/L" else 0)
        if sample_type is None:
            raise ValueError("sample_type is required with a concentration (type 0 is reserved)")
        type_code = _code(SAMPLE_TYPES, sample_type, "sample_type")
        location_code = _code(SAMPLE_LOCATIONS, sample_location or "not available", "sample_location")
        out += [U16.pack(_concentration_raw(mg_dl, mmol_l, unit)), U8.pack(location_code << 4 | type_code)]
    elif sample_type is not None or sample_location is not None:
        raise ValueError("sample_type/sample_location need a concentration")
    if sensor_status:
        flags |= F_STATUS
        out.append(U16.pack(_names_to_bits(sensor_status, SENSOR_STATUS, "sensor_status")))
    return U8.pack(flags) + b"".join(out)


@dataclass(frozen=True, slots=True)
class GlucoseContext:
    """Decoded Glucose Measurement Context (0x2A34); medication is as sent in medication_unit."""

    flags: int
    sequence_number: int
    extended_flags: int | None
    carbohydrate_id: str | None
    carbohydrate_g: float | None
    meal: str | None
    tester: str | None
    health: str | None
    exercise_duration_s: int | None  # EXERCISE_DURATION_OVERRUN (65535) = overrun
    exercise_intensity_pct: int | None
    medication_id: str | None
    medication: float | None
    medication_unit: str | None  # "kg" or "L" as the spec defines; None without medication
    hba1c_percent: float | None


def decode_glucose_context(data: bytes) -> GlucoseContext:
    """Decode a Glucose Measurement Context; malformed input raises DecodeError."""
    r = Reader(data, "glucose context")
    flags = r.u8("flags")  # all 8 bits are defined
    seq, last = r.u16("sequence_number"), "sequence_number"
    ext = carb_id = carb_g = meal = tester = health = duration = intensity = None
    med_id = med = med_unit = hba1c = None
    if flags & C_EXTENDED:
        ext, last = r.flags("extended_flags", 1, 0x00), "extended_flags"  # every bit is RFU
    if flags & C_CARB:
        pos = r.pos
        carb_id = _lookup(r, CARBOHYDRATES, r.u8("carbohydrate_id"), "carbohydrate_id", pos)
        carb_g, last = decode_sfloat(r.u16("carbohydrate"), decimal_shift=3), "carbohydrate"  # kg -> g
    if flags & C_MEAL:
        pos = r.pos
        meal, last = _lookup(r, MEALS, r.u8("meal"), "meal", pos), "meal"
    if flags & C_TESTER:
        pos = r.pos
        th = r.u8("tester")
        tester = _lookup(r, TESTERS, th & 0x0F, "tester", pos)
        health, last = _lookup(r, HEALTH, th >> 4, "health", pos), "health"
    if flags & C_EXERCISE:
        duration = r.u16("exercise_duration")
        pos = r.pos
        intensity, last = r.u8("exercise_intensity"), "exercise_intensity"
        if intensity > 100:
            raise r.error("exercise_intensity", pos, f"{intensity} % above 100 %")
    if flags & C_MEDICATION:
        pos = r.pos
        med_id = _lookup(r, MEDICATIONS, r.u8("medication_id"), "medication_id", pos)
        med, last = decode_sfloat(r.u16("medication")), "medication"
        med_unit = "L" if flags & C_MED_LITRES else "kg"
    if flags & C_HBA1C:
        hba1c, last = decode_sfloat(r.u16("hba1c")), "hba1c"
    r.end(last)
    return GlucoseContext(
        flags, seq, ext, carb_id, carb_g, meal, tester, health, duration, intensity, med_id, med, med_unit, hba1c
    )


def encode_glucose_context(
    *,
    sequence_number: int,
    carbohydrate_id: str | None = None,
    carbohydrate_g: float | None = None,
    meal: str | None = None,
    tester: str | None = None,
    health: str | None = None,
    exercise_duration_s: int | None = None,
    exercise_intensity_pct: int | None = None,
    medication_id: str | None = None,
    medication: float | None = None,
    medication_unit: str = "kg",
    hba1c_percent: float | None = None,
) -> bytes:
    """Encode a Glucose Measurement Context; paired fields must be given together."""
    for a, b, what in (
        (carbohydrate_id, carbohydrate_g, "carbohydrate_id/carbohydrate_g"),
        (exercise_duration_s, exercise_intensity_pct, "exercise_duration_s/exercise_intensity_pct"),
        (medication_id, medication, "medication_id/medication"),
    ):
        if (a is None) != (b is None):
            raise ValueError(f"{what} must be given together")
    if medication_unit not in ("kg", "L"):
        raise ValueError(f"medication_unit must be 'kg' or 'L', not {medication_unit!r}")
    if exercise_intensity_pct is not None and not 0 <= exercise_intensity_pct <= 100:
        raise ValueError("exercise_intensity_pct must be 0..100")
    body = [pack(U16, sequence_number, "sequence_number")]
    flags = 0
    if carbohydrate_id is not None and carbohydrate_g is not None:  # given together (checked above)
        flags |= C_CARB
        body += [
            U8.pack(_code(CARBOHYDRATES, carbohydrate_id, "carbohydrate_id")),
            U16.pack(encode_sfloat_nearest(Decimal(repr(float(carbohydrate_g))).scaleb(-3))),
        ]
    if meal is not None:
        flags |= C_MEAL
        body.append(U8.pack(_code(MEALS, meal, "meal")))
    if tester is not None or health is not None:
        flags |= C_TESTER
        body.append(
            U8.pack(
                _code(HEALTH, health or "not available", "health") << 4
                | _code(TESTERS, tester or "not available", "tester")
            )
        )
    if exercise_duration_s is not None:
        flags |= C_EXERCISE
        body += [pack(U16, exercise_duration_s, "exercise_duration_s"), U8.pack(exercise_intensity_pct)]
    if medication_id is not None and medication is not None:
        flags |= C_MEDICATION | (C_MED_LITRES if medication_unit == "L" else 0)
        body += [
            U8.pack(_code(MEDICATIONS, medication_id, "medication_id")),
            U16.pack(encode_sfloat_nearest(medication)),
        ]
    if hba1c_percent is not None:
        flags |= C_HBA1C
        body.append(U16.pack(encode_sfloat_nearest(hba1c_percent)))
    return U8.pack(flags) + b"".join(body)


def decode_glucose_feature(data: bytes) -> frozenset[str]:
    """Decode Glucose Feature (0x2A51) into readable capability names."""
    r = Reader(data, "glucose feature")
    value = r.flags("features", 2, 0x07FF)
    r.end("features")
    return _bits_to_names(value, GLUCOSE_FEATURES)


def encode_glucose_feature(features: frozenset[str] | set[str]) -> bytes:
    """Encode capability names as the 2-byte Glucose Feature value."""
    return U16.pack(_names_to_bits(features, GLUCOSE_FEATURES, "glucose feature"))
