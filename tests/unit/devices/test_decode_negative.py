"""Malformed payloads: every failure is a DecodeError naming the field and offset; plus fuzzing."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vitalgate.devices import DecodeError
from vitalgate.devices.bp import decode_bp_feature, decode_bp_measurement, decode_intermediate_cuff_pressure
from vitalgate.devices.datetime_field import decode_date_time
from vitalgate.devices.glucose import decode_glucose_context, decode_glucose_feature, decode_glucose_measurement
from vitalgate.devices.racp import RacpRequestError, ResponseCode, parse_racp_request, parse_racp_response
from vitalgate.devices.sfloat import decode_float, decode_sfloat

hx = bytes.fromhex
DECODERS = [
    decode_glucose_measurement,
    decode_glucose_context,
    decode_glucose_feature,
    decode_bp_measurement,
    decode_intermediate_cuff_pressure,
    decode_bp_feature,
    parse_racp_request,
    parse_racp_response,
]


def raises(decoder, data: bytes, *needles: str) -> DecodeError:
    with pytest.raises(DecodeError) as info:
        decoder(data)
    for needle in needles:
        assert needle in str(info.value), (needle, str(info.value))
    assert "offset" in str(info.value)
    return info.value


# ---------------------------------------------------------------- truncation at every field
# (full payload, [(first byte offset of field, field name), ...])
GLUCOSE_FULL = hx("0B 2A 00 EA 07 0B 18 07 1E 00 C4 FF 78 B0 11 21 0C")
GLUCOSE_FIELDS = [
    (0, "flags"),
    (1, "sequence_number"),
    (3, "base_time"),
    (10, "time_offset"),
    (12, "concentration"),
    (14, "sample_type"),
    (15, "sensor_status"),
    (17, None),
]
BP_FULL = hx("1E 80 00 52 00 61 00 EA 07 0B 18 08 05 0A 47 00 01 04 00")
BP_FIELDS = [
    (0, "flags"),
    (1, "systolic"),
    (3, "diastolic"),
    (5, "map"),
    (7, "timestamp"),
    (14, "pulse_rate"),
    (16, "user_id"),
    (17, "measurement_status"),
    (19, None),
]
CONTEXT_FULL = hx("FF 2A 00 00 01 32 D0 01 21 10 0E 46 01 06 B0 48 F0")
CONTEXT_FIELDS = [
    (0, "flags"),
    (1, "sequence_number"),
    (3, "extended_flags"),
    (4, "carbohydrate_id"),
    (5, "carbohydrate"),
    (7, "meal"),
    (8, "tester"),
    (9, "exercise_duration"),
    (11, "exercise_intensity"),
    (12, "medication_id"),
    (13, "medication"),
    (15, "hba1c"),
    (17, None),
]


def _truncations(full, fields):
    for (start, name), (end, _) in itertools.pairwise(fields):
        for cut in range(start, end):
            yield full[:cut], name, start


@pytest.mark.parametrize(
    "decoder,full,fields",
    [
        (decode_glucose_measurement, GLUCOSE_FULL, GLUCOSE_FIELDS),
        (decode_bp_measurement, BP_FULL, BP_FIELDS),
        (decode_glucose_context, CONTEXT_FULL, CONTEXT_FIELDS),
    ],
    ids=["glucose", "bp", "context"],
)
def test_truncated_at_every_field(decoder, full, fields):
    decoder(full)  # sanity: the full payload is valid
    for data, name, start in _truncations(full, fields):
        err = raises(decoder, data, "truncated", f"reading {name}", f"at offset {start}")
        assert err.field == name and err.offset == start


@pytest.mark.parametrize(
    "decoder,data",
    [
        (decode_glucose_measurement, GLUCOSE_FULL),
        (decode_bp_measurement, BP_FULL),
        (decode_glucose_context, CONTEXT_FULL),
        (decode_glucose_feature, hx("01 00")),
        (decode_bp_feature, hx("01 00")),
        (decode_intermediate_cuff_pressure, hx("00 96 00 FF 07 FF 07")),
        (parse_racp_response, hx("05 00 0A 00")),
        (parse_racp_response, hx("06 00 01 01")),
        (decode_glucose_measurement, hx("00 01 00 EA 07 0B 18 07 1E 00")),
    ],
)
def test_trailing_byte(decoder, data):
    err = raises(decoder, data + b"\x00", "trailing", "length mismatch", f"at offset {len(data)}")
    assert err.offset == len(data)


@pytest.mark.parametrize("decoder", DECODERS)
def test_empty_input(decoder):
    raises(decoder, b"", "truncated", "at offset 0")


# ---------------------------------------------------------------- reserved bits / values
@pytest.mark.parametrize(
    "decoder,data,field",
    [
        (decode_glucose_measurement, hx("20 01 00 EA 07 0B 18 07 1E 00"), "flags"),
        (decode_glucose_measurement, hx("80 01 00 EA 07 0B 18 07 1E 00"), "flags"),
        (decode_glucose_measurement, hx("08 01 00 EA 07 0B 18 07 1E 00 00 10"), "sensor_status"),  # bit 12
        (decode_bp_measurement, hx("20 80 00 52 00 61 00"), "flags"),
        (decode_bp_measurement, hx("40 80 00 52 00 61 00"), "flags"),
        (decode_bp_measurement, hx("10 80 00 52 00 61 00 40 00"), "measurement_status"),  # bit 6
        (decode_glucose_feature, hx("00 08"), "features"),  # bit 11
        (decode_bp_feature, hx("00 02"), "features"),  # bit 9
        (decode_glucose_context, hx("80 01 00 01"), "extended_flags"),  # all extended bits are RFU
    ],
)
def test_reserved_bits(decoder, data, field):
    raises(decoder, data, "reserved", field)


def test_bp_pulse_rate_range_reserved_value():
    raises(
        decode_bp_measurement, hx("10 80 00 52 00 61 00 18 00"), "measurement_status", "pulse rate range", "offset 7"
    )


@pytest.mark.parametrize(
    "typeloc,field",
    [
        ("10", "sample_type"),
        ("1B", "sample_type"),
        ("1F", "sample_type"),
        ("01", "sample_location"),
        ("51", "sample_location"),
        ("E1", "sample_location"),
    ],
)
def test_reserved_sample_type_and_location(typeloc, field):
    raises(
        decode_glucose_measurement,
        hx(f"02 01 00 EA 07 0B 18 07 1E 00 78 B0 {typeloc}"),
        "reserved value",
        field,
        "offset 12",
    )


@pytest.mark.parametrize(
    "data,field",
    [
        ("01 01 00 00 32 D0", "carbohydrate_id"),
        ("01 01 00 08 32 D0", "carbohydrate_id"),
        ("02 01 00 00", "meal"),
        ("02 01 00 06", "meal"),
        ("04 01 00 14", "tester"),
        ("04 01 00 61", "health"),
        ("04 01 00 01", "health"),
        ("10 01 00 06 05 A0", "medication_id"),
        ("10 01 00 00 05 A0", "medication_id"),
        ("08 01 00 10 0E 65", "exercise_intensity"),
    ],
)
def test_context_reserved_values(data, field):
    raises(decode_glucose_context, hx(data), field)


# ---------------------------------------------------------------- impossible dates
BASE_PREFIX = "00 01 00"  # glucose flags 0, seq 1; base_time starts at offset 3


@pytest.mark.parametrize(
    "date_hex,sub,offset",
    [
        ("EA 07 0D 18 07 1E 00", "month", 5),  # month 13
        ("EA 07 02 1E 07 1E 00", "day", 6),  # Feb 30
        ("E9 07 02 1D 07 1E 00", "day", 6),  # Feb 29 2025 (not a leap year)
        ("EA 07 04 1F 07 1E 00", "day", 6),  # Apr 31
        ("EA 07 0B 18 18 1E 00", "hours", 7),  # hour 24
        ("EA 07 0B 18 07 3C 00", "minutes", 8),  # minute 60
        ("EA 07 0B 18 07 1E 3C", "seconds", 9),  # second 60
        ("00 00 0B 18 07 1E 00", "year", 3),  # year 0 = not known
        ("EA 07 00 18 07 1E 00", "month", 5),  # month 0 = not known
        ("EA 07 0B 00 07 1E 00", "day", 6),  # day 0 = not known
        ("DC 05 0B 18 07 1E 00", "year", 3),  # 1500 < 1582
        ("10 27 01 01 00 00 00", "year", 3),  # 10000 > 9999
    ],
)
def test_impossible_dates(date_hex, sub, offset):
    err = raises(
        decode_glucose_measurement,
        hx(f"{BASE_PREFIX} {date_hex}"),
        "impossible date",
        f"base_time.{sub}",
        f"offset {offset}",
    )
    assert err.offset == offset


def test_leap_day_is_fine():
    assert decode_glucose_measurement(hx(f"{BASE_PREFIX} E8 07 02 1D 00 00 00")).base_time.day == 29


def test_impossible_bp_timestamp():
    raises(decode_bp_measurement, hx("02 80 00 52 00 61 00 EA 07 0D 18 08 05 0A"), "timestamp.month", "offset 9")


def test_date_time_direct():
    raises(lambda d: decode_date_time(d), hx("EA 07 0B"), "truncated", "date_time")


# ---------------------------------------------------------------- RACP
@pytest.mark.parametrize(
    "data,field",
    [
        ("01 01", "opcode"),  # request op code in a response
        ("07 00 01 01", "opcode"),
        ("05 01 0A 00", "operator"),  # operator must be NULL
        ("06 00 01 00", "response_code"),
        ("06 00 01 0A", "response_code"),
        ("05 00 0A", "number_of_records"),
        ("06 00 01", "response_code"),
    ],
)
def test_racp_bad_responses(data, field):
    raises(parse_racp_response, hx(data), field)


@pytest.mark.parametrize(
    "data,field,code",
    [
        ("00 01", "opcode", ResponseCode.OP_CODE_NOT_SUPPORTED),
        ("05 00 0A 00", "opcode", ResponseCode.OP_CODE_NOT_SUPPORTED),  # a response is not a request
        ("01", "operator", ResponseCode.INVALID_OPERATOR),
        ("01 00", "operator", ResponseCode.INVALID_OPERATOR),  # NULL with report
        ("03 01", "operator", ResponseCode.INVALID_OPERATOR),  # abort needs NULL
        ("01 07", "operator", ResponseCode.OPERATOR_NOT_SUPPORTED),
        ("01 01 01", "operand", ResponseCode.INVALID_OPERAND),  # ALL takes no operand
        ("03 00 00", "operand", ResponseCode.INVALID_OPERAND),
        ("01 03", "filter_type", ResponseCode.INVALID_OPERAND),
        ("01 03 03 2B 00", "filter_type", ResponseCode.OPERAND_NOT_SUPPORTED),
        ("01 03 01 2B", "operand", ResponseCode.INVALID_OPERAND),
        ("01 03 01 2B 00 00", "operand", ResponseCode.INVALID_OPERAND),
        ("01 04 01 05 00", "operand", ResponseCode.INVALID_OPERAND),  # range needs two operands
        ("01 04 01 09 00 05 00", "operand", ResponseCode.INVALID_OPERAND),  # low > high
        ("01 02 02 EA 07 0D 01 00 00 00", "operand", ResponseCode.INVALID_OPERAND),  # month 13
    ],
)
def test_racp_bad_requests(data, field, code):
    err = raises(parse_racp_request, hx(data), field)
    assert isinstance(err, RacpRequestError) and err.response_code == code


def test_sfloat_raw_out_of_range():
    with pytest.raises(DecodeError, match="sfloat"):
        decode_sfloat(0x10000)
    with pytest.raises(DecodeError, match="float"):
        decode_float(-1)


# ---------------------------------------------------------------- fuzz: value or DecodeError, nothing else
def _value_or_decode_error(decoder, data: bytes) -> None:
    try:
        decoder(data)
    except DecodeError as exc:
        assert "offset" in str(exc) and exc.offset is not None and exc.field
    # any other exception type propagates and fails the test


@pytest.mark.parametrize("decoder", DECODERS, ids=lambda d: d.__name__)
@settings(max_examples=400, deadline=None)
@given(data=st.binary(max_size=40))
def test_fuzz_random_bytes(decoder, data):
    _value_or_decode_error(decoder, data)


@pytest.mark.parametrize(
    "decoder,first",
    [
        (decode_glucose_measurement, st.integers(0, 0x1F)),
        (decode_bp_measurement, st.integers(0, 0x1F)),
        (decode_glucose_context, st.integers(0, 0xFF)),
        (parse_racp_request, st.integers(1, 4)),
        (parse_racp_response, st.integers(5, 6)),
    ],
    ids=["glucose", "bp", "context", "racp_req", "racp_resp"],
)
@settings(max_examples=400, deadline=None)
@given(data=st.data())
def test_fuzz_valid_flags_random_body(decoder, first, data):
    # Valid leading byte so the fuzzer reaches the field parsers, not just the flags check.
    payload = bytes([data.draw(first)]) + data.draw(st.binary(max_size=40))
    _value_or_decode_error(decoder, payload)


@settings(max_examples=300, deadline=None)
@given(raw=st.integers(0, 0xFFFF))
def test_fuzz_sfloat_total(raw):
    assert isinstance(decode_sfloat(raw), float)


@pytest.mark.parametrize(
    "decoder,valid",
    [
        (decode_glucose_measurement, GLUCOSE_FULL),
        (decode_bp_measurement, BP_FULL),
        (decode_glucose_context, CONTEXT_FULL),
        (parse_racp_request, hx("01 04 02 EA 07 01 01 00 00 00 EA 07 02 01 00 00 00")),
    ],
    ids=["glucose", "bp", "context", "racp_req"],
)
@settings(max_examples=400, deadline=None)
@given(data=st.data())
def test_fuzz_mutated_valid_payloads(decoder, valid, data):
    # Start from a valid record and corrupt one byte, then cut or extend: reaches every field parser.
    payload = bytearray(valid)
    payload[data.draw(st.integers(0, len(payload) - 1))] = data.draw(st.integers(0, 255))
    payload = bytes(payload[: data.draw(st.integers(0, len(payload)))]) + data.draw(st.binary(max_size=3))
    _value_or_decode_error(decoder, payload)
