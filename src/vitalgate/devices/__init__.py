"""Pure decoders/encoders for BLE health-device GATT payloads."""

from vitalgate.devices.errors import DecodeError

__all__ = ["DecodeError"]
