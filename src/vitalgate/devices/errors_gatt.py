"""Typed device-communication errors carrying operator-facing advice."""

from __future__ import annotations

__all__ = [
    "DeviceConnectionError",
    "DeviceError",
    "DeviceNotFound",
    "DeviceTimeout",
    "PairingError",
    "ProcedureError",
    "missing_characteristic",
]


class DeviceError(Exception):
    """Base class for every failure talking to a BLE medical device."""

    default_advice = "Retry the sync; if it keeps failing, power-cycle the device."

    def __init__(self, message: str, *, advice: str | None = None, address: str | None = None) -> None:
        super().__init__(message)
        self.advice = advice or self.default_advice
        self.address = address

    def __str__(self) -> str:
        # Operators read logs: keep the advice next to the technical message.
        return f"{super().__str__()} (advice: {self.advice})"


def missing_characteristic(address: str, uuid: int) -> DeviceError:
    """The error both adapters raise when a device lacks a characteristic the profile needs."""
    return DeviceError(
        f"{address}: characteristic 0x{uuid:04X} not present",
        advice="This device model does not support the requested feature.",
        address=address,
    )


class DeviceNotFound(DeviceError):
    """The device was not seen / is not reachable at its address."""

    default_advice = (
        "Wake the device (take a reading or press its Bluetooth button) and keep it within 2 m of the gateway."
    )


class DeviceConnectionError(DeviceError):
    """Connecting failed or the link dropped mid-operation."""

    default_advice = (
        "Keep the device close to the gateway and retry; replace the device battery if the link keeps dropping."
    )


class DeviceTimeout(DeviceError):
    """The device did not answer in time; `partial` holds the records that arrived before it stopped."""

    default_advice = "The device stopped answering; retry the sync with the device awake and nearby."
    partial: tuple[object, ...] = ()


class PairingError(DeviceError):
    """Pairing/bonding failed or the device demands a bond we do not have."""

    default_advice = (
        "Put the device in pairing mode and pair it with the gateway again "
        "(remove the old bond on the device first if it has one)."
    )


class ProcedureError(DeviceError):
    """A GATT procedure (e.g. RACP) returned a non-success response code."""

    default_advice = "The device rejected the request; check its firmware version and retry."

    def __init__(
        self,
        message: str,
        *,
        code: int | None = None,
        code_name: str | None = None,
        advice: str | None = None,
        address: str | None = None,
    ) -> None:
        super().__init__(message, advice=advice, address=address)
        self.code = code
        self.code_name = code_name
