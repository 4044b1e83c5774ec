"""Bounds-checked little-endian cursor shared by the characteristic decoders."""

from __future__ import annotations

from datetime import datetime
from struct import Struct

from vitalgate.devices.datetime_field import DATE_TIME_SIZE, decode_date_time
from vitalgate.devices.errors import DecodeError

U8 = Struct("<B")
U16 = Struct("<H")
S16 = Struct("<h")


class Reader:
    """Sequential reader whose every failure is a DecodeError naming field and offset."""

    __slots__ = ("data", "pos", "what")

    def __init__(self, data: bytes | bytearray | memoryview, what: str) -> None:
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"{what}: expected bytes, got {type(data).__name__}")
        self.data = bytes(data)
        self.pos = 0
        self.what = what

    def error(self, field: str, offset: int, detail: str) -> DecodeError:
        """Build a DecodeError in the package-wide message format."""
        return DecodeError(f"{self.what}: {detail} at offset {offset} reading {field}", field=field, offset=offset)

    def _need(self, n: int, field: str) -> int:
        have = len(self.data) - self.pos
        if have < n:
            raise DecodeError(
                f"{self.what}: truncated at offset {self.pos} reading {field} (need {n} bytes, have {have})",
                field=field,
                offset=self.pos,
            )
        start = self.pos
        self.pos += n
        return start

    def u8(self, field: str) -> int:
        value: int = U8.unpack_from(self.data, self._need(1, field))[0]
        return value

    def u16(self, field: str) -> int:
        value: int = U16.unpack_from(self.data, self._need(2, field))[0]
        return value

    def s16(self, field: str) -> int:
        value: int = S16.unpack_from(self.data, self._need(2, field))[0]
        return value

    def date_time(self, field: str) -> datetime:
        value = decode_date_time(self.data, self.pos, what=self.what, field=field)
        self.pos += DATE_TIME_SIZE
        return value

    def flags(self, field: str, size: int, defined_mask: int) -> int:
        """Read a u8/u16 bit field and reject any reserved bit."""
        offset = self.pos
        value = self.u8(field) if size == 1 else self.u16(field)
        if value & ~defined_mask:
            raise self.error(field, offset, f"reserved bits 0x{value & ~defined_mask:0{size * 2}X} set")
        return value

    def end(self, last_field: str) -> None:
        """Reject trailing bytes: the flags fully determine the length."""
        extra = len(self.data) - self.pos
        if extra:
            raise DecodeError(
                f"{self.what}: {extra} unexpected trailing byte(s) (length mismatch) at offset "
                f"{self.pos} after field {last_field}",
                field=last_field,
                offset=self.pos,
            )


def pack(st: Struct, value: int, field: str) -> bytes:
    """Encoder-side pack that reports out-of-range values as ValueError naming the field."""
    try:
        return st.pack(value)
    except Exception as exc:  # struct.error is not a ValueError
        raise ValueError(f"{field}={value!r} does not fit {st.format!r}") from exc
