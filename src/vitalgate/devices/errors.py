"""Error type raised by every decoder in the devices package."""

from __future__ import annotations

__all__ = ["DecodeError"]


class DecodeError(ValueError):
    """Malformed GATT payload; the message names the field and byte offset."""

    def __init__(self, message: str, *, field: str | None = None, offset: int | None = None) -> None:
        super().__init__(message)
        self.field = field
        self.offset = offset
