"""GATT Date Time (0x2A08 layout): year u16, month, day, hours, minutes, seconds."""

from __future__ import annotations

import calendar
from datetime import datetime
from struct import Struct

from vitalgate.devices.errors import DecodeError

__all__ = ["DATE_TIME", "DATE_TIME_SIZE", "decode_date_time", "encode_date_time"]

DATE_TIME = Struct("<HBBBBB")
DATE_TIME_SIZE = DATE_TIME.size  # 7
_YEAR_MIN, _YEAR_MAX = 1582, 9999  # range the GATT Supplement allows


def decode_date_time(data: bytes, offset: int = 0, *, what: str = "date time", field: str = "date_time") -> datetime:
    """Decode 7 bytes at offset into a naive datetime (device clock)."""
    have = len(data) - offset
    if have < DATE_TIME_SIZE:
        raise DecodeError(
            f"{what}: truncated at offset {offset} reading {field} (need {DATE_TIME_SIZE} bytes, have {max(have, 0)})",
            field=field,
            offset=offset,
        )
    year, month, day, hour, minute, second = DATE_TIME.unpack_from(data, offset)

    def bad(sub: str, rel: int, detail: str) -> DecodeError:
        return DecodeError(
            f"{what}: impossible date at offset {offset + rel} reading {field}.{sub} ({detail})",
            field=f"{field}.{sub}",
            offset=offset + rel,
        )

    # The spec lets year/month/day be 0 = "not known". A glucose or BP reading with no
    # date cannot be ordered, deduplicated or alerted on, so we reject it as impossible.
    if year == 0:
        raise bad("year", 0, "year 0 = not known")
    if not _YEAR_MIN <= year <= _YEAR_MAX:
        raise bad("year", 0, f"year {year} outside {_YEAR_MIN}..{_YEAR_MAX}")
    if not 1 <= month <= 12:
        raise bad("month", 2, "month 0 = not known" if month == 0 else f"month {month}")
    if not 1 <= day <= calendar.monthrange(year, month)[1]:
        raise bad("day", 3, "day 0 = not known" if day == 0 else f"day {day} of {year:04d}-{month:02d}")
    if hour > 23:
        raise bad("hours", 4, f"hour {hour}")
    if minute > 59:
        raise bad("minutes", 5, f"minute {minute}")
    if second > 59:
        raise bad("seconds", 6, f"second {second}")
    return datetime(year, month, day, hour, minute, second)


def encode_date_time(value: datetime) -> bytes:
    """Encode a naive datetime as 7 bytes; sub-second precision is dropped (field has none)."""
    if value.tzinfo is not None:
        # Date Time carries device wall-clock only; refuse to silently drop a zone.
        raise ValueError("encode_date_time needs a naive (device-clock) datetime")
    if not _YEAR_MIN <= value.year <= _YEAR_MAX:
        raise ValueError(f"year {value.year} outside {_YEAR_MIN}..{_YEAR_MAX}")
    return DATE_TIME.pack(value.year, value.month, value.day, value.hour, value.minute, value.second)
