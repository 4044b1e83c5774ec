"""IEEE 11073-20601 SFLOAT (16-bit) and FLOAT (32-bit) medical number formats."""

from __future__ import annotations

import math
from decimal import ROUND_HALF_EVEN, Decimal

from vitalgate.devices.errors import DecodeError

__all__ = [
    "FLOAT_NAN",
    "FLOAT_NEG_INF",
    "FLOAT_NRES",
    "FLOAT_POS_INF",
    "FLOAT_RESERVED",
    "SFLOAT_MANTISSA_MAX",
    "SFLOAT_NAN",
    "SFLOAT_NEG_INF",
    "SFLOAT_NRES",
    "SFLOAT_POS_INF",
    "SFLOAT_RESERVED",
    "decode_float",
    "decode_sfloat",
    "encode_sfloat",
    "encode_sfloat_nearest",
    "sfloat_special",
]

# Special values are whole raw words (exponent 0), as listed in 11073-20601 Annex F.
SFLOAT_NAN, SFLOAT_NRES, SFLOAT_RESERVED = 0x07FF, 0x0800, 0x0801
SFLOAT_POS_INF, SFLOAT_NEG_INF = 0x07FE, 0x0802
FLOAT_NAN, FLOAT_NRES, FLOAT_RESERVED = 0x007FFFFF, 0x00800000, 0x00800001
FLOAT_POS_INF, FLOAT_NEG_INF = 0x007FFFFE, 0x00800002

_SFLOAT_SPECIALS = {
    SFLOAT_NAN: ("NaN", math.nan),
    SFLOAT_NRES: ("NRes", math.nan),
    SFLOAT_RESERVED: ("reserved", math.nan),
    SFLOAT_POS_INF: ("+INF", math.inf),
    SFLOAT_NEG_INF: ("-INF", -math.inf),
}
_FLOAT_SPECIALS = {
    FLOAT_NAN: math.nan,
    FLOAT_NRES: math.nan,
    FLOAT_RESERVED: math.nan,
    FLOAT_POS_INF: math.inf,
    FLOAT_NEG_INF: -math.inf,
}
# The encoder never emits mantissas +-2046..2048 so no exponent can alias a special.
SFLOAT_MANTISSA_MAX = 2045
_EXP_MIN, _EXP_MAX = -8, 7


def _exact(mantissa: int, exponent: int) -> float:
    """Nearest float to mantissa * 10**exponent (int true division is correctly rounded)."""
    if exponent >= 0:
        return float(mantissa * 10**exponent)
    divisor: int = 10**-exponent
    return mantissa / divisor


def sfloat_special(raw: int) -> str | None:
    """Name of the special value ("NaN", "NRes", "reserved", "+INF", "-INF") or None."""
    special = _SFLOAT_SPECIALS.get(raw)
    return special[0] if special else None


def decode_sfloat(raw: int, *, decimal_shift: int = 0) -> float:
    """Decode a 16-bit SFLOAT; decimal_shift rescales by 10**shift without float error."""
    if not 0 <= raw <= 0xFFFF:
        raise DecodeError(
            f"sfloat: raw value {raw!r} outside 16 bits at offset 0 reading sfloat", field="sfloat", offset=0
        )
    special = _SFLOAT_SPECIALS.get(raw)
    if special is not None:
        return special[1]
    exponent = (raw >> 12) - 16 if raw & 0x8000 else raw >> 12
    mantissa = raw & 0x0FFF
    if mantissa & 0x0800:
        mantissa -= 0x1000
    return _exact(mantissa, exponent + decimal_shift)


def decode_float(raw: int) -> float:
    """Decode a 32-bit FLOAT (8-bit signed exponent, 24-bit signed mantissa)."""
    if not 0 <= raw <= 0xFFFFFFFF:
        raise DecodeError(
            f"float: raw value {raw!r} outside 32 bits at offset 0 reading float", field="float", offset=0
        )
    if raw in _FLOAT_SPECIALS:
        return _FLOAT_SPECIALS[raw]
    exponent = (raw >> 24) - 256 if raw & 0x80000000 else raw >> 24
    mantissa = raw & 0xFFFFFF
    if mantissa & 0x800000:
        mantissa -= 0x1000000
    return _exact(mantissa, exponent)


def _to_decimal(value: float | Decimal) -> Decimal:
    # repr() gives the shortest round-tripping digits, so 17.1 becomes Decimal("17.1").
    return value if isinstance(value, Decimal) else Decimal(repr(float(value)))


def _pack(mantissa: int, exponent: int) -> int:
    if abs(mantissa) > SFLOAT_MANTISSA_MAX:
        raise ValueError(f"mantissa {mantissa} does not fit an SFLOAT with exponent {exponent}")
    return ((exponent & 0xF) << 12) | (mantissa & 0x0FFF)


def _special_raw(value: float | Decimal) -> int | None:
    value = float(value)
    if math.isnan(value):
        return SFLOAT_NAN
    if math.isinf(value):
        return SFLOAT_POS_INF if value > 0 else SFLOAT_NEG_INF
    return None


def encode_sfloat(value: float | Decimal, exponent: int | None = None) -> int:
    """Encode value; exponent=None picks one that is exact (else ValueError), else rounds half-even."""
    special = _special_raw(value)
    if special is not None:
        return special
    d = _to_decimal(value)
    if exponent is None:
        if d == 0:
            return 0
        d = d.normalize()
        digits_exponent = d.as_tuple().exponent
        if not isinstance(digits_exponent, int):  # NaN and infinities were handled as special values
            raise ValueError(f"{value!r} is not a finite number")
        exponent = min(digits_exponent, _EXP_MAX)  # larger exponents fold into the mantissa exactly
        if exponent < _EXP_MIN:
            raise ValueError(f"{value!r} needs more precision than an SFLOAT exponent allows")
        return _pack(int(d.scaleb(-exponent)), exponent)
    if not _EXP_MIN <= exponent <= _EXP_MAX:
        raise ValueError(f"SFLOAT exponent {exponent} outside {_EXP_MIN}..{_EXP_MAX}")
    return _pack(int(d.scaleb(-exponent).to_integral_value(rounding=ROUND_HALF_EVEN)), exponent)


def encode_sfloat_nearest(value: float | Decimal) -> int:
    """Exact shortest encoding if one exists, else the finest exponent that fits (rounds half-even)."""
    special = _special_raw(value)
    if special is not None:
        return special
    d = _to_decimal(value)
    try:
        return encode_sfloat(d)  # canonical bytes, e.g. 128 -> 0x0080 as devices send it
    except ValueError:
        pass
    for exponent in range(_EXP_MIN, _EXP_MAX + 1):
        mantissa = int(d.scaleb(-exponent).to_integral_value(rounding=ROUND_HALF_EVEN))
        if abs(mantissa) <= SFLOAT_MANTISSA_MAX:
            return _pack(mantissa, exponent)
    raise ValueError(f"{value!r} is too large for an SFLOAT")
