"""Reference vectors (tests/fixtures/gatt_vectors.json) plus spec-derived flag-combination vectors."""

from __future__ import annotations

import json
import math
from datetime import datetime
from pathlib import Path

import pytest

from vitalgate.devices.bp import decode_bp_feature, decode_bp_measurement, decode_intermediate_cuff_pressure
from vitalgate.devices.glucose import (
    GLUCOSE_FEATURES,
    decode_glucose_context,
    decode_glucose_feature,
    decode_glucose_measurement,
)
from vitalgate.devices.racp import (
    FilterType,
    NumberOfRecordsResponse,
    Opcode,
    Operator,
    ResponseCode,
    ResponseCodeResponse,
    encode_number_of_records,
    encode_response_code,
    parse_racp_request,
    parse_racp_response,
    report_all,
    report_greater_or_equal,
    report_number_all,
)
from vitalgate.devices.sfloat import decode_float, decode_sfloat, sfloat_special

VECTORS = json.loads((Path(__file__).resolve().parents[2] / "fixtures" / "gatt_vectors.json").read_text())
hx = bytes.fromhex


# ---------------------------------------------------------------- sfloat
@pytest.mark.parametrize("vec", VECTORS["sfloat"], ids=lambda v: v["raw"])
def test_sfloat_vectors(vec):
    raw, expected = int(vec["raw"], 16), vec["value"]
    value = decode_sfloat(raw)
    if expected in ("NaN", "NRes"):
        assert math.isnan(value) and sfloat_special(raw) == expected
    elif expected in ("+INF", "-INF"):
        assert value == (math.inf if expected == "+INF" else -math.inf) and sfloat_special(raw) == expected
    else:
        assert value == expected  # exact float equality: 0xB078 is the literal 0.0012
        assert sfloat_special(raw) is None


@pytest.mark.parametrize(
    "raw,expected",
    [
        (0x0801, math.nan),
        (0x0000, 0.0),
        (0x2001, 100.0),
        (0x8001, 1e-08),
        (0xF7FD, 204.5),
        (0xF803, -204.5),
    ],
)
def test_sfloat_more(raw, expected):
    value = decode_sfloat(raw)
    assert (math.isnan(value) and math.isnan(expected)) or value == expected


@pytest.mark.parametrize(
    "raw,expected",
    [
        (0x007FFFFF, math.nan),
        (0x00800000, math.nan),
        (0x00800001, math.nan),
        (0x007FFFFE, math.inf),
        (0x00800002, -math.inf),
        (0xFE00016D, 3.65),
        (0x000000FF, 255.0),
        (0x00FFFFFF, -1.0),
        (0x02000003, 300.0),
    ],
)
def test_float_vectors(raw, expected):
    value = decode_float(raw)
    assert (math.isnan(value) and math.isnan(expected)) or value == expected


# ---------------------------------------------------------------- glucose measurement (fixture)
@pytest.mark.parametrize("vec", VECTORS["glucose_measurement"], ids=lambda v: v["hex"][:8])
def test_glucose_vectors(vec):
    m = decode_glucose_measurement(hx(vec["hex"]))
    for key, expected in vec["decoded"].items():
        actual = getattr(m, key)
        if key == "base_time":
            expected = datetime.fromisoformat(expected)
        elif key == "sensor_status":
            expected = frozenset(expected)
        assert actual == expected, key


def test_glucose_vector_mmol_from_kg():
    assert decode_glucose_measurement(hx(VECTORS["glucose_measurement"][0]["hex"])).mmol_l == 6.66


# ---------------------------------------------------------------- glucose measurement: all 32 flag combos
# Hand-built pieces (little endian) and their hand-computed meaning.
G_SEQ, G_BASE, G_OFFSET = "2A 00", "EA 07 0B 18 07 1E 00", "C4 FF"  # 42, 2026-11-24 07:30:00, -60 min
G_KG = "78 B0"  # exp -5, mantissa 120: 0.0012 kg/L = 120 mg/dL = 6.66 mmol/L
G_MOL = "37 C0"  # exp -4, mantissa 55: 0.0055 mol/L = 5.5 mmol/L = 99.09 mg/dL
G_TYPELOC = "F3"  # low nibble 3 venous whole blood, high nibble 15 not available
G_STATUS = "21 0C"  # 0x0C21: bits 0, 5, 10, 11
G_STATUS_NAMES = frozenset({"device battery low", "result too high", "general device fault", "time fault"})


@pytest.mark.parametrize("flags", range(32), ids=lambda f: f"flags=0x{f:02X}")
def test_glucose_every_flag_combination(flags):
    parts = [f"{flags:02X}", G_SEQ, G_BASE]
    if flags & 0x01:
        parts.append(G_OFFSET)
    if flags & 0x02:
        parts += [G_MOL if flags & 0x04 else G_KG, G_TYPELOC]
    if flags & 0x08:
        parts.append(G_STATUS)
    m = decode_glucose_measurement(hx(" ".join(parts)))
    assert m.flags == flags and m.sequence_number == 42
    assert m.base_time == datetime(2026, 11, 24, 7, 30, 0)
    assert m.time_offset_minutes == (-60 if flags & 0x01 else None)
    assert m.user_facing_time == datetime(2026, 11, 24, 6 if flags & 0x01 else 7, 30, 0)
    if flags & 0x02 and flags & 0x04:
        assert (m.concentration, m.unit, m.mmol_l, m.mg_dl) == (0.0055, "mol/L", 5.5, 99.09)
    elif flags & 0x02:
        assert (m.concentration, m.unit, m.mg_dl, m.mmol_l) == (0.0012, "kg/L", 120.0, 6.66)
    else:
        assert (m.concentration, m.unit, m.mg_dl, m.mmol_l) == (None, None, None, None)
    if flags & 0x02:
        assert (m.sample_type, m.sample_location) == ("venous whole blood", "not available")
    else:
        assert (m.sample_type, m.sample_location) == (None, None)
    assert m.sensor_status == (G_STATUS_NAMES if flags & 0x08 else frozenset())
    assert m.context_follows is bool(flags & 0x10)


@pytest.mark.parametrize(
    "conc,mg_dl,mmol_l",
    [
        ("FF 07", None, None),
        ("00 08", None, None),
        ("01 08", None, None),  # NaN, NRes, reserved
        ("FE 07", math.inf, math.inf),
        ("02 08", -math.inf, -math.inf),
    ],
)
def test_glucose_special_concentrations(conc, mg_dl, mmol_l):
    m = decode_glucose_measurement(hx(f"02 01 00 EA 07 0B 18 07 1E 00 {conc} 11"))
    assert (m.mg_dl, m.mmol_l) == (mg_dl, mmol_l)


@pytest.mark.parametrize(
    "nibble,name",
    [
        (1, "capillary whole blood"),
        (2, "capillary plasma"),
        (3, "venous whole blood"),
        (4, "venous plasma"),
        (5, "arterial whole blood"),
        (6, "arterial plasma"),
        (7, "undetermined whole blood"),
        (8, "undetermined plasma"),
        (9, "interstitial fluid"),
        (10, "control solution"),
    ],
)
def test_glucose_sample_types(nibble, name):
    m = decode_glucose_measurement(hx(f"02 01 00 EA 07 0B 18 07 1E 00 78 B0 2{nibble:X}"))
    assert (m.sample_type, m.sample_location) == (name, "alternate site test")


@pytest.mark.parametrize(
    "nibble,name",
    [(1, "finger"), (2, "alternate site test"), (3, "earlobe"), (4, "control solution"), (15, "not available")],
)
def test_glucose_sample_locations(nibble, name):
    assert decode_glucose_measurement(hx(f"02 01 00 EA 07 0B 18 07 1E 00 78 B0 {nibble:X}1")).sample_location == name


def test_glucose_sensor_status_every_bit():
    m = decode_glucose_measurement(hx("08 01 00 EA 07 0B 18 07 1E 00 FF 0F"))
    assert m.sensor_status == frozenset(
        {
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
        }
    )


# ---------------------------------------------------------------- glucose context / feature
def test_glucose_context_all_fields():
    # flags FF, seq 42, ext 00, breakfast + 0.050 kg (0xD032), preprandial, self/major (0x21),
    # 3600 s @ 70 %, rapid acting insulin 6e-05 L (0xB006), HbA1c 7.2 % (0xF048)
    c = decode_glucose_context(hx("FF 2A 00 00 01 32 D0 01 21 10 0E 46 01 06 B0 48 F0"))
    assert (c.flags, c.sequence_number, c.extended_flags) == (0xFF, 42, 0)
    assert (c.carbohydrate_id, c.carbohydrate_g, c.meal) == ("breakfast", 50.0, "preprandial")
    assert (c.tester, c.health) == ("self", "major health issues")
    assert (c.exercise_duration_s, c.exercise_intensity_pct) == (3600, 70)
    assert (c.medication_id, c.medication, c.medication_unit, c.hba1c_percent) == (
        "rapid acting insulin",
        6e-05,
        "L",
        7.2,
    )


def test_glucose_context_minimal_and_kg_medication():
    c = decode_glucose_context(hx("00 01 00"))
    assert c.sequence_number == 1 and c.carbohydrate_id is None and c.medication_unit is None
    c = decode_glucose_context(hx("10 07 00 05 05 A0"))  # pre-mixed insulin, 0xA005 = 5e-06 kg (5 mg)
    assert (c.meal, c.medication_id, c.medication, c.medication_unit) == (None, "pre-mixed insulin", 5e-06, "kg")
    assert decode_glucose_context(hx("02 07 00 05")).meal == "bedtime"
    assert decode_glucose_context(hx("04 07 00 FF")).tester == "not available"


def test_glucose_feature():
    assert decode_glucose_feature(hx("FF 07")) == frozenset(GLUCOSE_FEATURES)
    assert decode_glucose_feature(hx("01 04")) == {"low battery detection", "multiple bond support"}
    assert decode_glucose_feature(hx("00 00")) == frozenset()


# ---------------------------------------------------------------- blood pressure (fixture)
_BP_KEYS = {"systolic_kpa": "systolic", "diastolic_kpa": "diastolic", "map_kpa": "map"}


@pytest.mark.parametrize("vec", VECTORS["blood_pressure_measurement"], ids=lambda v: v["hex"][:8])
def test_bp_vectors(vec):
    m = decode_bp_measurement(hx(vec["hex"]))
    for key, expected in vec["decoded"].items():
        actual = getattr(m, _BP_KEYS.get(key, key))
        if key == "timestamp" and expected is not None:
            expected = datetime.fromisoformat(expected)
        elif key == "status":
            expected = frozenset(expected)
        assert actual == expected, key


# ---------------------------------------------------------------- blood pressure: all 32 flag combos
B_MMHG, B_KPA = "80 00 52 00 61 00", "AB F0 70 F0 84 F0"  # 128/82/97 mmHg; 17.1/11.2/13.2 kPa
B_TS, B_PULSE, B_USER = "EA 07 0B 18 08 05 0A", "47 00", "03"  # 2026-11-24 08:05:10, 71 bpm, user 3
B_STATUS = "09 00"  # bit 0 body movement; bits 3-4 = 1 pulse rate exceeds upper limit


@pytest.mark.parametrize("flags", range(32), ids=lambda f: f"flags=0x{f:02X}")
def test_bp_every_flag_combination(flags):
    parts = [f"{flags:02X}", B_KPA if flags & 0x01 else B_MMHG]
    for bit, piece in ((0x02, B_TS), (0x04, B_PULSE), (0x08, B_USER), (0x10, B_STATUS)):
        if flags & bit:
            parts.append(piece)
    m = decode_bp_measurement(hx(" ".join(parts)))
    assert m.flags == flags
    if flags & 0x01:
        assert (m.unit, m.systolic, m.diastolic, m.map) == ("kPa", 17.1, 11.2, 13.2)
        assert (m.systolic_mmhg, m.diastolic_mmhg, m.map_mmhg) == (128.26, 84.01, 99.01)
    else:
        assert (m.unit, m.systolic, m.diastolic, m.map) == ("mmHg", 128, 82, 97)
        assert (m.systolic_mmhg, m.diastolic_mmhg, m.map_mmhg) == (128, 82, 97)
    assert m.timestamp == (datetime(2026, 11, 24, 8, 5, 10) if flags & 0x02 else None)
    assert m.pulse_bpm == (71 if flags & 0x04 else None)
    assert m.user_id == (3 if flags & 0x08 else None)
    expected_status = {"body movement", "pulse rate exceeds upper limit", "pulse rate out of range"}
    assert m.status == (expected_status if flags & 0x10 else frozenset())


@pytest.mark.parametrize(
    "status_hex,names",
    [
        ("01 00", {"body movement"}),
        ("02 00", {"cuff too loose"}),
        ("04 00", {"irregular pulse"}),
        ("08 00", {"pulse rate exceeds upper limit", "pulse rate out of range"}),
        ("10 00", {"pulse rate below lower limit", "pulse rate out of range"}),
        ("20 00", {"improper position"}),
        ("00 00", set()),
    ],
)
def test_bp_status_bits(status_hex, names):
    assert decode_bp_measurement(hx(f"10 80 00 52 00 61 00 {status_hex}")).status == names


def test_bp_unknown_user_and_nan_pulse():
    m = decode_bp_measurement(hx("0C 80 00 52 00 61 00 FF 07 FF"))
    assert (m.pulse_bpm, m.user_id) == (None, 255)


def test_intermediate_cuff_pressure():
    m = decode_intermediate_cuff_pressure(hx("00 96 00 FF 07 FF 07"))
    assert m.systolic == 150 and math.isnan(m.diastolic) and math.isnan(m.map)
    assert (m.systolic_mmhg, m.diastolic_mmhg, m.map_mmhg) == (150, None, None)


def test_bp_feature():
    assert decode_bp_feature(hx("3F 00")) == {
        "body movement detection",
        "cuff fit detection",
        "irregular pulse detection",
        "pulse rate range detection",
        "measurement position detection",
        "multiple bond support",
    }
    assert decode_bp_feature(hx("C0 01")) == {
        "e2e-crc support",
        "user data service support",
        "user facing time support",
    }


# ---------------------------------------------------------------- RACP
RACP = {v["hex"]: v["meaning"] for v in VECTORS["racp"]}


def test_racp_request_vectors_build():
    assert report_all() == hx("01 01")
    assert report_greater_or_equal(43) == hx("01 03 01 2B 00")
    assert report_number_all() == hx("04 01")
    assert {"01 01", "01 03 01 2B 00", "04 01"} <= RACP.keys()


def test_racp_request_vectors_parse():
    r = parse_racp_request(hx("01 03 01 2B 00"))
    assert (r.opcode, r.operator, r.filter_type, r.operands) == (
        Opcode.REPORT_STORED_RECORDS,
        Operator.GREATER_OR_EQUAL,
        FilterType.SEQUENCE_NUMBER,
        (43,),
    )
    r = parse_racp_request(hx("04 01"))
    assert (r.opcode, r.operator, r.filter_type, r.operands) == (
        Opcode.REPORT_NUMBER_OF_STORED_RECORDS,
        Operator.ALL,
        None,
        (),
    )


def test_racp_response_vectors():
    assert parse_racp_response(hx("05 00 0A 00")) == NumberOfRecordsResponse(10)
    ok = parse_racp_response(hx("06 00 01 01"))
    assert ok == ResponseCodeResponse(Opcode.REPORT_STORED_RECORDS, ResponseCode.SUCCESS, "success")
    none = parse_racp_response(hx("06 00 01 06"))
    assert (none.request_opcode, none.code, none.name) == (1, ResponseCode.NO_RECORDS_FOUND, "no records found")
    assert encode_number_of_records(10) == hx("05 00 0A 00")
    assert encode_response_code(1, ResponseCode.SUCCESS) == hx("06 00 01 01")
    assert encode_response_code(Opcode.REPORT_STORED_RECORDS, ResponseCode.NO_RECORDS_FOUND) == hx("06 00 01 06")


def test_racp_response_unknown_request_opcode_kept_raw():
    r = parse_racp_response(hx("06 00 20 02"))
    assert (r.request_opcode, r.code, r.name) == (0x20, ResponseCode.OP_CODE_NOT_SUPPORTED, "op code not supported")
