"""BleakRadio: real hardware through the OS Bluetooth stack (bleak + bleak-retry-connector)."""

from __future__ import annotations

from vitalgate.devices.advertising import SUPPORTED_SERVICES
from vitalgate.devices.gatt import Advertisement, GattClient
from vitalgate.gateway.radio.port import Passkey, radio_unavailable


class BleakRadio:
    """Real hardware through bleak + bleak-retry-connector (devices.adapters.bleak_client)."""

    name = "bleak"

    def __init__(self, *, connect_attempts: int = 3, connect_timeout_s: float = 20.0) -> None:
        self._attempts, self._timeout = connect_attempts, connect_timeout_s

    async def scan(self, timeout: float) -> list[Advertisement]:
        from vitalgate.devices.adapters.bleak_client import bleak_scan  # bleak only when real hardware is used

        try:
            return await bleak_scan(timeout, SUPPORTED_SERVICES)
        except OSError as exc:  # e.g. no /run/dbus/system_bus_socket
            raise radio_unavailable("scanner", exc) from exc

    def client(self, address: str, *, passkey: Passkey | None = None) -> GattClient:
        from vitalgate.devices.adapters.bleak_client import BleakGattClient

        # BlueZ asks its own agent for passkeys; the client explains that when pairing fails.
        return BleakGattClient(address, max_attempts=self._attempts, timeout=self._timeout, passkey=passkey)
