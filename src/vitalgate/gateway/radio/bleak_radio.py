"""BleakRadio: real hardware through the OS Bluetooth stack (bleak + bleak-retry-connector).

On Linux the radio owns the hub's BlueZ pairing agent (bluez_agent): every client tells the agent
which device it pairs (and its passkey), and a failed pairing is explained from what BlueZ asked.
"""

from __future__ import annotations

from vitalgate.devices.advertising import SUPPORTED_SERVICES
from vitalgate.devices.errors_gatt import PairingError
from vitalgate.devices.gatt import Advertisement, GattClient
from vitalgate.gateway.client_proxy import GattClientProxy
from vitalgate.gateway.radio.bluez_agent import Asked, BluezAgent, Capability
from vitalgate.gateway.radio.port import Passkey, radio_unavailable

_PASSKEY_FLAG = "`vitalgate gateway pair {address} --passkey NNNNNN` (the 6 digits on its display)"


def pairing_advice(agent: BluezAgent | None, address: str, *, passkey_given: bool) -> str:
    """Operator advice for a failed BlueZ pairing, from what BlueZ asked the hub's agent."""
    if agent is None or not agent.registered:
        reason = agent.unavailable if agent is not None and agent.unavailable else "none registered"
        return (
            f"The gateway has no BlueZ pairing agent ({reason}), and BlueZ refuses Just Works and passkey "
            "pairing without one. Check that bluetoothd runs and that the gateway's user may talk to org.bluez "
            "on the system bus (D-Bus policy), leave VITALGATE_GATEWAY_BLUEZ_AGENT on, and pair again."
        )
    asked = agent.asked(address)
    if asked is Asked.PASSKEY_MISSING:
        return (
            f"The device wants the passkey it displays and none was given: run {_PASSKEY_FLAG.format(address=address)}."
        )
    if asked is Asked.PASSKEY_ENTERED or (asked is Asked.CANCELED and passkey_given):
        return (
            "The device rejected the passkey: check the 6 digits on its display (some devices show a new "
            f"number on every attempt), put it back in pairing mode and run {_PASSKEY_FLAG.format(address=address)} again."
        )
    if asked is Asked.REJECTED_UNKNOWN:
        return "BlueZ asked about a device this hub was not pairing; pair again and keep other devices out of pairing mode."
    return (
        "Just Works pairing failed: put the device in pairing mode; if it was bonded before (to this or another "
        f"hub), delete that bond on the device and run `bluetoothctl remove {address}` on the gateway, then pair "
        f"again. If the device displays a passkey, pair it with {_PASSKEY_FLAG.format(address=address)}."
    )


class _AgentPairing(GattClientProxy):
    """Registers the device (and its passkey) with the agent before pairing; explains a failure."""

    def __init__(self, client: GattClient, agent: BluezAgent | None, passkey: Passkey | None) -> None:
        super().__init__(client)
        self._agent, self._passkey = agent, passkey

    async def pair(self) -> None:
        if self._agent is not None:
            self._agent.expect(self.address, self._passkey)
            if self._passkey is not None:
                await self._agent.use(Capability.KEYBOARD_DISPLAY)
        try:
            await self._client.pair()
        except PairingError as exc:
            advice = pairing_advice(self._agent, self.address, passkey_given=self._passkey is not None)
            raise PairingError(str(exc.args[0]), advice=advice, address=self.address) from exc


class BleakRadio:
    """Real hardware through bleak + bleak-retry-connector (devices.adapters.bleak_client)."""

    name = "bleak"

    def __init__(
        self, *, connect_attempts: int = 3, connect_timeout_s: float = 20.0, agent: BluezAgent | None = None
    ) -> None:
        self._attempts, self._timeout = connect_attempts, connect_timeout_s
        self.agent = agent

    async def scan(self, timeout: float) -> list[Advertisement]:
        from vitalgate.devices.adapters.bleak_client import bleak_scan  # bleak only when real hardware is used

        try:
            return await bleak_scan(timeout, SUPPORTED_SERVICES)
        except OSError as exc:  # e.g. no /run/dbus/system_bus_socket
            raise radio_unavailable("scanner", exc) from exc

    def client(self, address: str, *, passkey: Passkey | None = None) -> GattClient:
        from vitalgate.devices.adapters.bleak_client import BleakGattClient

        inner = BleakGattClient(address, max_attempts=self._attempts, timeout=self._timeout)
        return _AgentPairing(inner, self.agent, passkey)
