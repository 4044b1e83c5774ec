"""Central-side pairing configuration for bumble: passkey entry (the device displays 6 digits)."""

from __future__ import annotations

import inspect
import weakref
from collections.abc import Awaitable, Callable

from bumble import smp
from bumble.device import Connection, Device
from bumble.pairing import PairingConfig, PairingDelegate

__all__ = ["PasskeySource", "pairing_failure_advice", "use_passkey"]

# What the user types when the device shows a passkey: a number, or an async prompt.
PasskeySource = Callable[[], Awaitable[int]] | int

_PASSKEY_ADVICE = {
    smp.ErrorCode.CONFIRM_VALUE_FAILED: (
        "The passkey did not match the one on the device's display: start pairing again and "
        "type the 6 digits the device shows now (it shows a new one each time on most meters)."
    ),
    smp.ErrorCode.PASSKEY_ENTRY_FAILED: (
        "No passkey was entered: run `vitalgate gateway pair ADDRESS --passkey NNNNNN` with the "
        "6 digits the device displays, or run it in a terminal to be asked for them."
    ),
    smp.ErrorCode.AUTHENTICATION_REQUIREMENTS: (
        "The device requires passkey pairing: run `vitalgate gateway pair ADDRESS --passkey NNNNNN` "
        "with the 6 digits it displays (or run it in a terminal to be asked for them)."
    ),
    smp.ErrorCode.DHKEY_CHECK_FAILED: (
        "The passkey did not match the one on the device's display: start pairing again and "
        "type the 6 digits the device shows now."
    ),
}


def pairing_failure_advice(reason: int | None) -> str | None:
    """Operator advice for an SMP Pairing Failed reason, when there is something specific to say."""
    try:
        return _PASSKEY_ADVICE.get(smp.ErrorCode(reason)) if reason is not None else None
    except ValueError:
        return None


class _EnterPasskey(PairingDelegate):
    """Keyboard-only central: types the passkey the peripheral displays."""

    def __init__(self, passkey: PasskeySource) -> None:
        super().__init__(io_capability=PairingDelegate.IoCapability.KEYBOARD_INPUT_ONLY)
        self._passkey = passkey

    async def get_number(self) -> int | None:
        value = self._passkey() if callable(self._passkey) else self._passkey
        number = await value if inspect.isawaitable(value) else value
        if not 0 <= int(number) <= 999_999:
            return None  # bumble answers Pairing Failed (Passkey Entry Failed)
        return int(number)


# device -> {connection handle -> config}: several clients may share one central Device (hci radio).
_configs: weakref.WeakKeyDictionary[Device, dict[int, PairingConfig]] = weakref.WeakKeyDictionary()


def use_passkey(device: Device, connection: Connection, passkey: PasskeySource | None) -> None:
    """Pair `connection` with passkey entry (or bumble's default Just Works when passkey is None)."""
    table = _configs.get(device)
    if table is None:
        table = _configs[device] = {}
        default = device.pairing_config_factory
        device.pairing_config_factory = lambda conn: table.get(conn.handle) or default(conn)
    if passkey is None:
        table.pop(connection.handle, None)
        return
    # MITM requested: with a display-capable peer SMP then selects passkey entry; a
    # Just-Works-only meter (no display) still pairs with Just Works (Core Vol 3 Part H 2.3.5.1).
    table[connection.handle] = PairingConfig(sc=True, mitm=True, bonding=True, delegate=_EnterPasskey(passkey))
