"""GattClient implementations: bumble (virtual LocalLink / raw HCI) and bleak (OS Bluetooth stack).

Imported lazily: a hub on real hardware uses bleak only and should not pay for bumble (~29 MB RSS),
and the virtual devices do not need bleak.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "BleakGattClient": "vitalgate.devices.adapters.bleak_client",
    "bleak_scan": "vitalgate.devices.adapters.bleak_client",
    "classify_bleak_error": "vitalgate.devices.adapters.bleak_client",
    "BumbleGattClient": "vitalgate.devices.adapters.bumble_client",
    "PasskeySource": "vitalgate.devices.adapters.bumble_passkey",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(module), name)
