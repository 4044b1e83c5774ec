"""Encoder -> decoder round trips (hypothesis) and unit-conversion worked examples."""

from __future__ import annotations

import doctest
import math
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import vitalgate.devices.units as units
from vitalgate.devices.bp import (
    BP_FEATURES,
    decode_bp_feature,
    decode_bp_measurement,
    decode_intermediate_cuff_pressure,
    encode_bp_feature,
    encode_bp_measurement,
    encode_intermediate_cuff_pressure,
)
from vitalgate.devices.datetime_field import decode_date_time, encode_date_time
from vitalgate.devices.glucose import (
    CARBOHYDRATES,
    GLUCOSE_FEATURES,
    HEALTH,
    MEALS,
    MEDICATIONS,
    SAMPLE_LOCATIONS,
    SAMPLE_TYPES,
    SENSOR_STATUS,
    TESTERS,
    decode_glucose_context,
    decode_glucose_feature,
    decode_glucose_measurement,
    encode_glucose_context,
    encode_glucose_feature,
    encode_glucose_measurement,
)
from vitalgate.devices.racp import (
    FilterType,
    NumberOfRecordsResponse,
    Opcode,
    Operator,
    ResponseCode,
    build_request,
    encode_number_of_records,
    encode_response_code,
    parse_racp_request,
    parse_racp_response,
)
from vitalgate.devices.sfloat import (
    SFLOAT_NAN,
    SFLOAT_NEG_INF,
    SFLOAT_POS_INF,
    decode_sfloat,
    encode_sfloat,
    encode_sfloat_nearest,
)

SETTINGS = settings(max_examples=300, deadline=None)

datetimes = st.datetimes(min_value=datetime(1582, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59)).map(
    lambda d: d.replace(microsecond=0)
)


def subsets(names):
    return st.frozensets(st.sampled_from(sorted(names)))


# ---------------------------------------------------------------- unit conversions (worked examples)
@pytest.mark.parametrize(
    "fn,value,ndigits,expected",
    [
        (units.mmol_l_to_mg_dl, 5.5, 2, 99.09),
        (units.kg_per_l_to_mg_dl, 0.0012, 2, 120.0),
        (units.kpa_to_mmhg, 17.1, 2, 128.26),
        (units.mmhg_to_kpa, 120, 2, 16.00),
        (units.mg_dl_to_mmol_l, 120, 2, 6.66),
        (units.mol_per_l_to_mmol_l, 0.0055, 3, 5.5),
    ],
)
def test_unit_worked_examples(fn, value, ndigits, expected):
    assert round(fn(value), ndigits) == expected


@pytest.mark.parametrize(
    "fn",
    [
        units.kg_per_l_to_mg_dl,
        units.mol_per_l_to_mmol_l,
        units.mmol_l_to_mg_dl,
        units.mg_dl_to_mmol_l,
        units.kpa_to_mmhg,
        units.mmhg_to_kpa,
    ],
)
def test_unit_infinities_pass_through(fn):
    assert fn(math.inf) == math.inf and fn(-math.inf) == -math.inf


def test_unit_docstring_examples():
    assert doctest.testmod(units).failed == 0


# ---------------------------------------------------------------- sfloat
@SETTINGS
@given(mantissa=st.integers(-2045, 2045), exponent=st.integers(-8, 7))
def test_sfloat_exact_roundtrip(mantissa, exponent):
    value = decode_sfloat(((exponent & 0xF) << 12) | (mantissa & 0xFFF))
    assert decode_sfloat(encode_sfloat(value)) == value
    assert decode_sfloat(encode_sfloat_nearest(value)) == value
    assert decode_sfloat(encode_sfloat(value, exponent)) == value


@SETTINGS
@given(value=st.floats(-2.045e9, 2.045e9, allow_nan=False))
def test_sfloat_nearest_is_close(value):
    decoded = decode_sfloat(encode_sfloat_nearest(value))
    assert math.isclose(decoded, value, rel_tol=2.5e-3, abs_tol=5e-9)


@pytest.mark.parametrize(
    "value,raw",
    [
        (17.1, 0xF0AB),
        (128, 0x0080),
        (-1, 0x0FFF),
        (0.0, 0x0000),
        (math.nan, SFLOAT_NAN),
        (math.inf, SFLOAT_POS_INF),
        (-math.inf, SFLOAT_NEG_INF),
        (1e9, 0x7064),
    ],
)
def test_encode_sfloat_canonical(value, raw):
    assert encode_sfloat(value) == raw


@pytest.mark.parametrize(
    "value,exponent", [(2046, None), (2047, None), (1e-9, None), (0.12345, None), (3e10, None), (1.0, 8), (5000, 0)]
)
def test_encode_sfloat_impossible(value, exponent):
    with pytest.raises(ValueError):
        encode_sfloat(value, exponent)


def test_encode_sfloat_explicit_exponent_rounds():
    assert encode_sfloat(0.0012, -5) == 0xB078
    assert decode_sfloat(encode_sfloat(17.06, -1)) == 17.1


# ---------------------------------------------------------------- date time
@SETTINGS
@given(value=datetimes)
def test_date_time_roundtrip(value):
    assert decode_date_time(encode_date_time(value)) == value


def test_encode_date_time_rejects_aware_and_out_of_range():
    with pytest.raises(ValueError):
        encode_date_time(datetime(2026, 1, 1, tzinfo=UTC))
    with pytest.raises(ValueError):
        encode_date_time(datetime(1500, 1, 1))


# ---------------------------------------------------------------- glucose measurement
common = dict(
    sequence_number=st.integers(0, 0xFFFF),
    base_time=datetimes,
    time_offset_minutes=st.none() | st.integers(-32768, 32767),
    sample_type=st.sampled_from(sorted(SAMPLE_TYPES.values())),
    sample_location=st.sampled_from(sorted(SAMPLE_LOCATIONS.values())),
    sensor_status=subsets(SENSOR_STATUS),
    context_follows=st.booleans(),
)


def _check_common(m, kw):
    assert m.sequence_number == kw["sequence_number"] and m.base_time == kw["base_time"]
    assert m.time_offset_minutes == kw["time_offset_minutes"]
    assert (m.sample_type, m.sample_location) == (kw["sample_type"], kw["sample_location"])
    assert m.sensor_status == kw["sensor_status"] and m.context_follows == kw["context_follows"]


@SETTINGS
@given(kw=st.fixed_dictionaries(common), mg_dl=st.integers(0, 2045) | st.integers(0, 2044).map(lambda i: i / 10))
def test_glucose_roundtrip_kg_l_exact(kw, mg_dl):
    # Meter resolution (integer mg/dL, or 0.1 mg/dL below 204.5) fits the SFLOAT mantissa exactly.
    m = decode_glucose_measurement(encode_glucose_measurement(mg_dl=mg_dl, unit="kg/L", **kw))
    _check_common(m, kw)
    assert m.unit == "kg/L" and m.mg_dl == mg_dl


@SETTINGS
@given(kw=st.fixed_dictionaries(common), tenths=st.integers(0, 2045))
def test_glucose_roundtrip_mol_l_exact(kw, tenths):
    mmol = tenths / 10
    m = decode_glucose_measurement(encode_glucose_measurement(mmol_l=mmol, unit="mol/L", **kw))
    _check_common(m, kw)
    assert m.unit == "mol/L" and m.mmol_l == mmol and m.mg_dl == round(mmol * 18.0156, 2)


@SETTINGS
@given(kw=st.fixed_dictionaries(common), mg_dl=st.floats(10, 600), unit=st.sampled_from(["kg/L", "mol/L"]))
def test_glucose_roundtrip_any_mg_dl_within_sfloat_resolution(kw, mg_dl, unit):
    m = decode_glucose_measurement(encode_glucose_measurement(mg_dl=mg_dl, unit=unit, **kw))
    # SFLOAT keeps ~3.3 significant digits: half a quantum of the finest fitting exponent, plus 2-dp rounding.
    quantum = (0.1 if mg_dl < 204.5 else 1.0) if unit == "kg/L" else (0.01 if mg_dl < 368 else 0.1) * 18.0156
    assert abs(m.mg_dl - mg_dl) <= quantum / 2 + 0.0051


def test_glucose_encoder_vectors():
    data = encode_glucose_measurement(
        sequence_number=42,
        base_time=datetime(2026, 1, 5, 22, 15, 30),
        time_offset_minutes=60,
        mmol_l=5.5,
        unit="mol/L",
        sample_type="capillary plasma",
        sample_location="finger",
    )
    assert data == bytes.fromhex("07 2A 00 EA 07 01 05 16 0F 1E 3C 00 37 C0 12")  # the fixture vector
    m = decode_glucose_measurement(data)
    assert (m.mmol_l, m.mg_dl) == (5.5, 99.09)
    m = decode_glucose_measurement(
        encode_glucose_measurement(
            sequence_number=1,
            base_time=datetime(2026, 11, 24, 7, 30),
            mg_dl=math.inf,
            sample_type="capillary whole blood",
            sensor_status=frozenset({"result too high"}),
        )
    )
    assert m.mg_dl == math.inf and m.sample_location == "not available" and m.sensor_status == {"result too high"}


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(mg_dl=100),  # concentration without sample type
        dict(sample_type="capillary plasma"),  # sample type without concentration
        dict(mg_dl=100, mmol_l=5.5, sample_type="capillary plasma"),
        dict(mg_dl=100, sample_type="blood"),
        dict(mg_dl=100, unit="mg/dL", sample_type="capillary plasma"),
        dict(sensor_status=frozenset({"on fire"})),
        dict(sequence_number=70000),
    ],
)
def test_glucose_encoder_rejects(kwargs):
    base = dict(sequence_number=1, base_time=datetime(2026, 1, 1)) | kwargs
    with pytest.raises(ValueError):
        encode_glucose_measurement(**base)


# ---------------------------------------------------------------- glucose context / features
@SETTINGS
@given(
    seq=st.integers(0, 0xFFFF),
    carb=st.none() | st.tuples(st.sampled_from(sorted(CARBOHYDRATES.values())), st.integers(0, 2045)),
    meal=st.none() | st.sampled_from(sorted(MEALS.values())),
    tester=st.none() | st.tuples(st.sampled_from(sorted(TESTERS.values())), st.sampled_from(sorted(HEALTH.values()))),
    exercise=st.none() | st.tuples(st.integers(0, 0xFFFF), st.integers(0, 100)),
    med=st.none()
    | st.tuples(st.sampled_from(sorted(MEDICATIONS.values())), st.integers(-2045, 2045), st.sampled_from(["kg", "L"])),
    hba1c=st.none() | st.integers(0, 2045).map(lambda i: i / 10),
)
def test_glucose_context_roundtrip(seq, carb, meal, tester, exercise, med, hba1c):
    kw = dict(sequence_number=seq, meal=meal, hba1c_percent=hba1c)
    if carb:
        kw |= dict(carbohydrate_id=carb[0], carbohydrate_g=float(carb[1]))
    if tester:
        kw |= dict(tester=tester[0], health=tester[1])
    if exercise:
        kw |= dict(exercise_duration_s=exercise[0], exercise_intensity_pct=exercise[1])
    if med:
        kw |= dict(medication_id=med[0], medication=med[1] / 1e6, medication_unit=med[2])
    c = decode_glucose_context(encode_glucose_context(**kw))
    assert c.sequence_number == seq and c.meal == meal and c.hba1c_percent == hba1c
    assert (c.carbohydrate_id, c.carbohydrate_g) == (carb if carb else (None, None))
    assert (c.tester, c.health) == (tester if tester else (None, None))
    assert (c.exercise_duration_s, c.exercise_intensity_pct) == (exercise if exercise else (None, None))
    assert (c.medication_id, c.medication, c.medication_unit) == (
        (med[0], med[1] / 1e6, med[2]) if med else (None, None, None)
    )


@SETTINGS
@given(features=subsets(GLUCOSE_FEATURES), bp_features=subsets(BP_FEATURES))
def test_feature_roundtrip(features, bp_features):
    assert decode_glucose_feature(encode_glucose_feature(features)) == features
    assert decode_bp_feature(encode_bp_feature(bp_features)) == bp_features


# ---------------------------------------------------------------- blood pressure
bp_status = st.tuples(
    subsets({"body movement", "cuff too loose", "irregular pulse", "improper position"}),
    st.sampled_from([(), ("pulse rate exceeds upper limit",), ("pulse rate below lower limit",)]),
)


@SETTINGS
@given(
    sys_=st.integers(0, 300),
    dia=st.integers(0, 300),
    mean=st.integers(0, 300),
    ts=st.none() | datetimes,
    pulse=st.none() | st.integers(0, 250),
    user=st.none() | st.integers(0, 255),
    status=bp_status,
)
def test_bp_roundtrip_mmhg(sys_, dia, mean, ts, pulse, user, status):
    names = status[0] | set(status[1])
    m = decode_bp_measurement(encode_bp_measurement(sys_, dia, mean, "mmHg", ts, pulse, user, frozenset(names)))
    assert (m.unit, m.systolic_mmhg, m.diastolic_mmhg, m.map_mmhg) == ("mmHg", sys_, dia, mean)
    assert (m.timestamp, m.pulse_bpm, m.user_id) == (ts, pulse, user)
    assert m.status == names | ({"pulse rate out of range"} if status[1] else set())


@SETTINGS
@given(values=st.lists(st.floats(20, 300), min_size=3, max_size=3))
def test_bp_roundtrip_kpa_within_sfloat_resolution(values):
    m = decode_bp_measurement(encode_bp_measurement(*values, unit="kPa"))
    assert m.unit == "kPa"
    for sent, got in zip(values, (m.systolic_mmhg, m.diastolic_mmhg, m.map_mmhg), strict=False):
        # 0.01 kPa (0.075 mmHg) steps below 20.45 kPa (153 mmHg), 0.1 kPa (0.75 mmHg) above.
        quantum_mmhg = (0.01 if sent / 7.50062 < 20.445 else 0.1) * 7.50062
        assert abs(got - sent) <= quantum_mmhg / 2 + 0.0051
        if sent < 150:
            assert abs(got - sent) <= 0.1


def test_bp_encoder_vectors():
    assert encode_bp_measurement(
        128,
        82,
        97,
        timestamp=datetime(2026, 11, 24, 8, 5, 10),
        pulse_bpm=71,
        user_id=1,
        status=frozenset({"irregular pulse"}),
    ) == bytes.fromhex("1E 80 00 52 00 61 00 EA 07 0B 18 08 05 0A 47 00 01 04 00")
    m = decode_bp_measurement(encode_bp_measurement(128.26, 84.01, 99.01, unit="kPa"))
    assert (m.systolic, m.diastolic, m.map) == (17.1, 11.2, 13.2)
    assert (m.systolic_mmhg, m.diastolic_mmhg, m.map_mmhg) == (128.26, 84.01, 99.01)
    assert round(decode_bp_measurement(encode_bp_measurement(120, 80, 93, unit="kPa")).systolic, 2) == 16.00
    cuff = decode_intermediate_cuff_pressure(encode_intermediate_cuff_pressure(150))
    assert (cuff.systolic_mmhg, cuff.diastolic_mmhg, cuff.map_mmhg) == (150, None, None)


@pytest.mark.parametrize(
    "status",
    [{"pulse rate out of range"}, {"sneezing"}, {"pulse rate exceeds upper limit", "pulse rate below lower limit"}],
)
def test_bp_encoder_rejects_status(status):
    with pytest.raises(ValueError):
        encode_bp_measurement(120, 80, 93, status=frozenset(status))


# ---------------------------------------------------------------- RACP
seq_ops = st.integers(0, 0xFFFF)
time_ops = datetimes


@SETTINGS
@given(data=st.data())
def test_racp_request_roundtrip(data):
    opcode = data.draw(
        st.sampled_from(
            [
                Opcode.REPORT_STORED_RECORDS,
                Opcode.DELETE_STORED_RECORDS,
                Opcode.REPORT_NUMBER_OF_STORED_RECORDS,
                Opcode.ABORT_OPERATION,
            ]
        )
    )
    if opcode is Opcode.ABORT_OPERATION:
        operator, filter_type, operands = Operator.NULL, None, ()
    else:
        operator = data.draw(st.sampled_from([o for o in Operator if o is not Operator.NULL]))
        count = {Operator.LESS_OR_EQUAL: 1, Operator.GREATER_OR_EQUAL: 1, Operator.WITHIN_RANGE: 2}.get(operator, 0)
        filter_type = data.draw(st.sampled_from(list(FilterType))) if count else None
        ops = seq_ops if filter_type is FilterType.SEQUENCE_NUMBER else time_ops
        operands = tuple(sorted(data.draw(st.lists(ops, min_size=count, max_size=count)))) if count else ()
    r = parse_racp_request(build_request(opcode, operator, filter_type, operands))
    assert (r.opcode, r.operator, r.filter_type, r.operands) == (opcode, operator, filter_type, operands)


@SETTINGS
@given(n=st.integers(0, 0xFFFF), opcode=st.integers(0, 255), code=st.sampled_from(list(ResponseCode)))
def test_racp_response_roundtrip(n, opcode, code):
    assert parse_racp_response(encode_number_of_records(n)) == NumberOfRecordsResponse(n)
    r = parse_racp_response(encode_response_code(opcode, code))
    assert (r.request_opcode, r.code) == (opcode, code)


def test_racp_builder_rejects_misuse():
    with pytest.raises(ValueError):
        build_request(Opcode.REPORT_STORED_RECORDS, Operator.ALL, FilterType.SEQUENCE_NUMBER, (1,))
    with pytest.raises(ValueError):
        build_request(Opcode.RESPONSE_CODE, Operator.NULL)
    with pytest.raises(ValueError):
        build_request(Opcode.REPORT_STORED_RECORDS, Operator.WITHIN_RANGE, FilterType.SEQUENCE_NUMBER, (9, 5))
    with pytest.raises(ValueError):
        build_request(Opcode.REPORT_STORED_RECORDS, Operator.LESS_OR_EQUAL, FilterType.USER_FACING_TIME, (5,))
