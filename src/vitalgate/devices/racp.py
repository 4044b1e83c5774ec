"""Record Access Control Point (0x2A52): request builders/parser and response parser/encoders."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum

from vitalgate.devices._fields import U8, U16, Reader, pack
from vitalgate.devices.datetime_field import DATE_TIME_SIZE, decode_date_time, encode_date_time
from vitalgate.devices.errors import DecodeError

__all__ = [
    "FilterType",
    "NumberOfRecordsResponse",
    "Opcode",
    "Operator",
    "RacpRequest",
    "RacpRequestError",
    "RacpResponse",
    "ResponseCode",
    "ResponseCodeResponse",
    "abort",
    "build_request",
    "delete_all",
    "delete_greater_or_equal",
    "delete_less_or_equal",
    "delete_within_range",
    "encode_number_of_records",
    "encode_response_code",
    "parse_racp_request",
    "parse_racp_response",
    "report_all",
    "report_first",
    "report_greater_or_equal",
    "report_last",
    "report_less_or_equal",
    "report_number_all",
    "report_number_greater_or_equal",
    "report_time_greater_or_equal",
    "report_time_less_or_equal",
    "report_time_within_range",
    "report_within_range",
    "response_code_name",
]


class Opcode(IntEnum):
    REPORT_STORED_RECORDS = 1
    DELETE_STORED_RECORDS = 2
    ABORT_OPERATION = 3
    REPORT_NUMBER_OF_STORED_RECORDS = 4
    NUMBER_OF_STORED_RECORDS_RESPONSE = 5
    RESPONSE_CODE = 6


class Operator(IntEnum):
    NULL = 0
    ALL = 1
    LESS_OR_EQUAL = 2
    GREATER_OR_EQUAL = 3
    WITHIN_RANGE = 4
    FIRST = 5
    LAST = 6


class FilterType(IntEnum):
    SEQUENCE_NUMBER = 1
    USER_FACING_TIME = 2


class ResponseCode(IntEnum):
    SUCCESS = 1
    OP_CODE_NOT_SUPPORTED = 2
    INVALID_OPERATOR = 3
    OPERATOR_NOT_SUPPORTED = 4
    INVALID_OPERAND = 5
    NO_RECORDS_FOUND = 6
    ABORT_UNSUCCESSFUL = 7
    PROCEDURE_NOT_COMPLETED = 8
    OPERAND_NOT_SUPPORTED = 9


_REQUEST_OPCODES = {
    Opcode.REPORT_STORED_RECORDS,
    Opcode.DELETE_STORED_RECORDS,
    Opcode.ABORT_OPERATION,
    Opcode.REPORT_NUMBER_OF_STORED_RECORDS,
}
_OPERAND_COUNT = {
    Operator.ALL: 0,
    Operator.FIRST: 0,
    Operator.LAST: 0,
    Operator.LESS_OR_EQUAL: 1,
    Operator.GREATER_OR_EQUAL: 1,
    Operator.WITHIN_RANGE: 2,
}
Operand = int | datetime
# Plain int sets: `int in IntEnumClass` is not reliable across 3.11/3.12.
_OPERATORS = {int(o) for o in Operator}
_FILTERS = {int(f) for f in FilterType}
_RESPONSE_CODES = {int(c) for c in ResponseCode}
_OPCODES = {int(o) for o in Opcode}


def _descending(low: Operand, high: Operand) -> bool:
    """True when a range's operands are the wrong way round (both sequence numbers or both times)."""
    if isinstance(low, datetime) and isinstance(high, datetime):
        return low > high
    if isinstance(low, int) and isinstance(high, int):
        return low > high
    raise ValueError("range operands must both be sequence numbers or both be times")


def response_code_name(code: int) -> str:
    """Readable name, e.g. 6 -> "no records found"; unknown codes -> "reserved (0xNN)"."""
    try:
        return ResponseCode(code).name.lower().replace("_", " ")
    except ValueError:
        return f"reserved (0x{code:02X})"


@dataclass(frozen=True, slots=True)
class RacpRequest:
    """A parsed client request (server side)."""

    opcode: Opcode
    operator: Operator
    filter_type: FilterType | None
    operands: tuple[Operand, ...]


@dataclass(frozen=True, slots=True)
class NumberOfRecordsResponse:
    """Opcode 5: number of stored records matching the request."""

    count: int


@dataclass(frozen=True, slots=True)
class ResponseCodeResponse:
    """Opcode 6: outcome of a request; request_opcode is an Opcode when known, else the raw int."""

    request_opcode: Opcode | int
    code: ResponseCode
    name: str


RacpResponse = NumberOfRecordsResponse | ResponseCodeResponse


class RacpRequestError(DecodeError):
    """Malformed request; `response_code` is what a server should answer with."""

    def __init__(
        self, message: str, *, field: str, offset: int, opcode: int | None, response_code: ResponseCode
    ) -> None:
        super().__init__(message, field=field, offset=offset)
        self.opcode = opcode
        self.response_code = response_code


def _encode_operand(filter_type: FilterType, operand: Operand) -> bytes:
    if filter_type is FilterType.SEQUENCE_NUMBER:
        if not isinstance(operand, int) or isinstance(operand, bool):
            raise ValueError(f"sequence number operand must be int, not {operand!r}")
        return pack(U16, operand, "sequence number")
    if not isinstance(operand, datetime):
        raise ValueError(f"user facing time operand must be datetime, not {operand!r}")
    return encode_date_time(operand)


def build_request(
    opcode: Opcode,
    operator: Operator,
    filter_type: FilterType | None = None,
    operands: tuple[Operand, ...] | list[Operand] = (),
) -> bytes:
    """Build any client request; validates operator/operand combinations per GLS 4.x."""
    opcode, operator = Opcode(opcode), Operator(operator)
    if opcode not in _REQUEST_OPCODES:
        raise ValueError(f"{opcode.name} is a server response, not a request")
    if opcode is Opcode.ABORT_OPERATION:
        if operator is not Operator.NULL or filter_type is not None or operands:
            raise ValueError("abort takes the NULL operator and no operand")
        return bytes((opcode, operator))
    if operator is Operator.NULL:
        raise ValueError(f"{opcode.name} needs a non-NULL operator")
    count = _OPERAND_COUNT[operator]
    if len(operands) != count or (filter_type is None) != (count == 0):
        raise ValueError(f"{operator.name} takes {count} operand(s) {'with' if count else 'without'} a filter type")
    if not count:
        return bytes((opcode, operator))
    assert filter_type is not None  # count > 0 was checked to come with a filter type
    filter_type = FilterType(filter_type)
    if count == 2 and _descending(operands[0], operands[1]):
        raise ValueError("range operands must be ordered low, high")
    return bytes((opcode, operator, filter_type)) + b"".join(_encode_operand(filter_type, o) for o in operands)


def report_all() -> bytes:
    return build_request(Opcode.REPORT_STORED_RECORDS, Operator.ALL)


def report_first() -> bytes:
    return build_request(Opcode.REPORT_STORED_RECORDS, Operator.FIRST)


def report_last() -> bytes:
    return build_request(Opcode.REPORT_STORED_RECORDS, Operator.LAST)


def report_less_or_equal(seq: int) -> bytes:
    return build_request(Opcode.REPORT_STORED_RECORDS, Operator.LESS_OR_EQUAL, FilterType.SEQUENCE_NUMBER, (seq,))


def report_greater_or_equal(seq: int) -> bytes:
    return build_request(Opcode.REPORT_STORED_RECORDS, Operator.GREATER_OR_EQUAL, FilterType.SEQUENCE_NUMBER, (seq,))


def report_within_range(lo: int, hi: int) -> bytes:
    return build_request(Opcode.REPORT_STORED_RECORDS, Operator.WITHIN_RANGE, FilterType.SEQUENCE_NUMBER, (lo, hi))


def report_time_less_or_equal(t: datetime) -> bytes:
    return build_request(Opcode.REPORT_STORED_RECORDS, Operator.LESS_OR_EQUAL, FilterType.USER_FACING_TIME, (t,))


def report_time_greater_or_equal(t: datetime) -> bytes:
    return build_request(Opcode.REPORT_STORED_RECORDS, Operator.GREATER_OR_EQUAL, FilterType.USER_FACING_TIME, (t,))


def report_time_within_range(lo: datetime, hi: datetime) -> bytes:
    return build_request(Opcode.REPORT_STORED_RECORDS, Operator.WITHIN_RANGE, FilterType.USER_FACING_TIME, (lo, hi))


def delete_all() -> bytes:
    return build_request(Opcode.DELETE_STORED_RECORDS, Operator.ALL)


def delete_less_or_equal(seq: int) -> bytes:
    return build_request(Opcode.DELETE_STORED_RECORDS, Operator.LESS_OR_EQUAL, FilterType.SEQUENCE_NUMBER, (seq,))


def delete_greater_or_equal(seq: int) -> bytes:
    return build_request(Opcode.DELETE_STORED_RECORDS, Operator.GREATER_OR_EQUAL, FilterType.SEQUENCE_NUMBER, (seq,))


def delete_within_range(lo: int, hi: int) -> bytes:
    return build_request(Opcode.DELETE_STORED_RECORDS, Operator.WITHIN_RANGE, FilterType.SEQUENCE_NUMBER, (lo, hi))


def abort() -> bytes:
    return build_request(Opcode.ABORT_OPERATION, Operator.NULL)


def report_number_all() -> bytes:
    return build_request(Opcode.REPORT_NUMBER_OF_STORED_RECORDS, Operator.ALL)


def report_number_greater_or_equal(seq: int) -> bytes:
    return build_request(
        Opcode.REPORT_NUMBER_OF_STORED_RECORDS, Operator.GREATER_OR_EQUAL, FilterType.SEQUENCE_NUMBER, (seq,)
    )


def parse_racp_request(data: bytes) -> RacpRequest:
    """Parse a client request; RacpRequestError (a DecodeError) carries the response code to send."""
    r = Reader(data, "racp request")
    raw_opcode = None

    def fail(field: str, offset: int, detail: str, code: ResponseCode, message: str = "") -> RacpRequestError:
        return RacpRequestError(
            message or f"racp request: {detail} at offset {offset} reading {field}",
            field=field,
            offset=offset,
            opcode=raw_opcode,
            response_code=code,
        )

    if not r.data:
        raise fail("opcode", 0, "truncated (need 1 byte, have 0)", ResponseCode.OP_CODE_NOT_SUPPORTED)
    raw_opcode = r.u8("opcode")
    if raw_opcode not in _REQUEST_OPCODES:
        raise fail("opcode", 0, f"op code {raw_opcode} is not a request", ResponseCode.OP_CODE_NOT_SUPPORTED)
    opcode = Opcode(raw_opcode)
    if len(r.data) < 2:
        raise fail("operator", 1, "truncated (need 1 byte, have 0)", ResponseCode.INVALID_OPERATOR)
    raw_operator = r.u8("operator")
    if raw_operator not in _OPERATORS:
        raise fail("operator", 1, f"reserved operator {raw_operator}", ResponseCode.OPERATOR_NOT_SUPPORTED)
    operator = Operator(raw_operator)
    if (opcode is Opcode.ABORT_OPERATION) != (operator is Operator.NULL):
        raise fail("operator", 1, f"operator {operator.name} invalid for {opcode.name}", ResponseCode.INVALID_OPERATOR)
    count = _OPERAND_COUNT.get(operator, 0)
    if not count:
        if len(r.data) > 2:
            raise fail("operand", 2, f"unexpected operand for {operator.name}", ResponseCode.INVALID_OPERAND)
        return RacpRequest(opcode, operator, None, ())
    if len(r.data) < 3:
        raise fail("filter_type", 2, "missing filter type", ResponseCode.INVALID_OPERAND)
    raw_filter = r.u8("filter_type")
    if raw_filter not in _FILTERS:
        raise fail("filter_type", 2, f"unsupported filter type {raw_filter}", ResponseCode.OPERAND_NOT_SUPPORTED)
    filter_type = FilterType(raw_filter)
    size = 2 if filter_type is FilterType.SEQUENCE_NUMBER else DATE_TIME_SIZE
    if len(r.data) != 3 + count * size:
        raise fail(
            "operand", 3, f"operand length {len(r.data) - 3}, expected {count * size}", ResponseCode.INVALID_OPERAND
        )
    operands: list[Operand] = []
    for i in range(count):
        offset = 3 + i * size
        if filter_type is FilterType.SEQUENCE_NUMBER:
            operands.append(U16.unpack_from(r.data, offset)[0])
            continue
        try:
            operands.append(decode_date_time(r.data, offset, what="racp request", field="operand"))
        except DecodeError as exc:
            raise fail("operand", exc.offset or offset, "", ResponseCode.INVALID_OPERAND, str(exc)) from exc
    if count == 2 and _descending(operands[0], operands[1]):
        raise fail("operand", 3, "range low > high", ResponseCode.INVALID_OPERAND)
    return RacpRequest(opcode, operator, filter_type, tuple(operands))


def parse_racp_response(data: bytes) -> RacpResponse:
    """Parse a server indication (opcode 5 or 6); anything else raises DecodeError."""
    r = Reader(data, "racp response")
    opcode = r.u8("opcode")
    if opcode not in (Opcode.NUMBER_OF_STORED_RECORDS_RESPONSE, Opcode.RESPONSE_CODE):
        raise r.error("opcode", 0, f"op code {opcode} is not a response")
    operator = r.u8("operator")
    if operator != Operator.NULL:
        raise r.error("operator", 1, f"operator {operator} must be NULL (0)")
    if opcode == Opcode.NUMBER_OF_STORED_RECORDS_RESPONSE:
        count = r.u16("number_of_records")
        r.end("number_of_records")
        return NumberOfRecordsResponse(count)
    request_opcode = r.u8("request_opcode")
    code = r.u8("response_code")
    if code not in _RESPONSE_CODES:
        raise r.error("response_code", 3, f"reserved response code {code}")
    r.end("response_code")
    known = Opcode(request_opcode) if request_opcode in _OPCODES else request_opcode
    return ResponseCodeResponse(known, ResponseCode(code), response_code_name(code))


def encode_number_of_records(n: int) -> bytes:
    """Server side: opcode 5 response with a u16 count."""
    return bytes((Opcode.NUMBER_OF_STORED_RECORDS_RESPONSE, Operator.NULL)) + pack(U16, n, "number_of_records")


def encode_response_code(request_opcode: int, code: ResponseCode) -> bytes:
    """Server side: opcode 6 response for request_opcode."""
    return (
        bytes((Opcode.RESPONSE_CODE, Operator.NULL))
        + pack(U8, request_opcode, "request_opcode")
        + U8.pack(ResponseCode(code))
    )
