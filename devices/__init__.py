"""Pure decoders/encoders for BLE health-device GATT payloads."""

from devices.errors import DecodeError

__all__ = ["DecodeError"]
