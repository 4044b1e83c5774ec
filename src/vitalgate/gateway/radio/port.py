"""The hub's radio port: what pairing and the sync loop need from a radio (implementations beside it)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

from vitalgate.devices.errors_gatt import DeviceConnectionError
from vitalgate.devices.gatt import Advertisement, GattClient

# What the user types when a device displays a passkey: the digits, or an async prompt for them.
Passkey = Callable[[], Awaitable[int]] | int


_NO_STACK_ADVICE = (
    "The Bluetooth stack is not reachable (no D-Bus system bus or bluetoothd): start bluetoothd, "
    "check `bluetoothctl show`, or use --virtual for the demo devices."
)


def radio_unavailable(address: str, exc: OSError) -> DeviceConnectionError:
    """An OS-level failure reaching the Bluetooth stack, as a DeviceError with advice."""
    return DeviceConnectionError(
        f"{address}: Bluetooth stack unavailable: {exc}", advice=_NO_STACK_ADVICE, address=address
    )


class HubRadio(Protocol):
    """What pairing and the sync loop need from a radio."""

    name: str

    async def scan(self, timeout: float) -> list[Advertisement]:
        """Advertisers offering a supported service."""
        ...

    def client(self, address: str, *, passkey: Passkey | None = None) -> GattClient:
        """A (not yet connected) GATT client for `address`; may be reused across syncs.

        `passkey`: what to enter if the device displays one (a radio that cannot enter passkeys has
        no such parameter; pairing checks with `supports_passkey` before passing one).
        """
        ...
