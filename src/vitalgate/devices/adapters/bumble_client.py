"""GattClient over a bumble central Device (virtual LocalLink radio or a real HCI controller)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from types import TracebackType
from typing import Self, TypeVar

from bumble import att, core, hci
from bumble.device import Connection, Device, Peer
from bumble.gatt import GATT_CLIENT_CHARACTERISTIC_CONFIGURATION_DESCRIPTOR
from bumble.gatt_client import CharacteristicProxy

from vitalgate.devices.adapters.bumble_passkey import PasskeySource, pairing_failure_advice, use_passkey
from vitalgate.devices.errors_gatt import (
    DeviceConnectionError,
    DeviceError,
    DeviceNotFound,
    DeviceTimeout,
    PairingError,
    missing_characteristic,
)
from vitalgate.devices.gatt import NotifyCallback

__all__ = ["BumbleGattClient", "PasskeySource"]

log = logging.getLogger(__name__)
_T = TypeVar("_T")

# ATT errors meaning "this link lacks the security the attribute demands".
_SECURITY_ATT_ERRORS = frozenset(
    {
        att.ErrorCode.INSUFFICIENT_AUTHENTICATION,
        att.ErrorCode.INSUFFICIENT_ENCRYPTION,
        att.ErrorCode.INSUFFICIENT_ENCRYPTION_KEY_SIZE,
        att.ErrorCode.INSUFFICIENT_AUTHORIZATION,
    }
)


class BumbleGattClient:
    """GattClient implementation backed by bumble's Device/Peer."""

    def __init__(
        self,
        device: Device,
        address: str,
        *,
        timeout: float = 10.0,
        passkey: PasskeySource | None = None,
    ) -> None:
        self.address = address
        # What to type when the device displays a passkey (int, or an async prompt); None = Just Works.
        self.passkey = passkey
        self._device = device
        self._timeout = timeout
        self._connection: Connection | None = None
        self._peer: Peer | None = None
        self._chars: dict[int, CharacteristicProxy[bytes]] = {}
        self._uuids: frozenset[int] | None = None

    # -- lifecycle -------------------------------------------------------------
    @property
    def is_connected(self) -> bool:
        """True while the link is up."""
        conn = self._connection
        return conn is not None and conn.handle in self._device.connections

    async def connect(self) -> None:
        """Connect to the peripheral (raises DeviceNotFound when it never shows up)."""
        if self.is_connected:
            return
        if not self._device.powered_on:
            # Powered lazily so VirtualRadio.client() can stay synchronous.
            await self._guard(self._device.power_on(), "power on the local controller")
        try:
            conn = await asyncio.wait_for(
                self._device.connect(self.address, transport=core.PhysicalTransport.LE),
                self._timeout,
            )
        except TimeoutError as exc:
            await self._cancel_pending_connect()
            raise DeviceNotFound(
                f"{self.address}: no connectable advertisement within {self._timeout:.1f}s",
                address=self.address,
            ) from exc
        except (core.BaseBumbleError, hci.HCI_Error) as exc:
            raise DeviceConnectionError(f"{self.address}: connect failed: {exc}", address=self.address) from exc
        self._connection = conn
        self._peer = Peer(conn)
        self._chars = {}
        self._uuids = None
        conn.on(conn.EVENT_DISCONNECTION, self._on_disconnection)

    async def _cancel_pending_connect(self) -> None:
        if self._device.is_le_connecting:
            try:
                await asyncio.wait_for(self._device.cancel_connection(), 2.0)
            except (TimeoutError, core.BaseBumbleError, hci.HCI_Error) as exc:
                log.debug("cancel_connection failed: %s", exc)

    def _on_disconnection(self, _reason: int) -> None:
        self._connection = None
        self._peer = None

    async def disconnect(self) -> None:
        """Disconnect (idempotent); the central Device stays powered for reuse."""
        conn = self._connection
        if conn is not None and self.is_connected:
            try:
                await asyncio.wait_for(conn.disconnect(), self._timeout)
            except (TimeoutError, core.BaseBumbleError, hci.HCI_Error) as exc:
                # The peer may already be gone; the link is dead to us either way.
                log.debug("%s: disconnect error ignored: %s", self.address, exc)
        self._connection = None
        self._peer = None

    async def __aenter__(self) -> Self:
        await self.connect()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.disconnect()

    # -- security --------------------------------------------------------------
    async def pair(self) -> None:
        """Re-encrypt with a stored bond if we have one, else pair (passkey entry or Just Works) and bond."""
        conn = self._require_connection()
        if conn.is_encrypted:
            return
        keystore = self._device.keystore
        has_bond = keystore is not None and await keystore.get(str(conn.peer_address)) is not None
        use_passkey(self._device, conn, self.passkey)
        # A person may be reading digits off a display: give SMP its own 30 s (Core Vol 3 Part H 3.4).
        timeout = self._timeout if self.passkey is None or has_bond else max(self._timeout, 30.0)
        try:
            if has_bond:
                await asyncio.wait_for(conn.encrypt(), timeout)
            else:
                await asyncio.wait_for(conn.pair(), timeout)
        except TimeoutError as exc:
            raise PairingError(f"{self.address}: pairing timed out", address=self.address) from exc
        except core.ProtocolError as exc:
            advice = pairing_failure_advice(exc.error_code) if exc.error_namespace == "smp" else None
            raise PairingError(f"{self.address}: pairing failed: {exc}", advice=advice, address=self.address) from exc
        except (core.BaseBumbleError, hci.HCI_Error) as exc:
            raise PairingError(f"{self.address}: pairing failed: {exc}", address=self.address) from exc
        finally:
            use_passkey(self._device, conn, None)

    # -- GATT ------------------------------------------------------------------
    async def discover(self) -> frozenset[int]:
        """Discover all services and characteristics; return their 16-bit UUIDs."""
        peer = self._require_peer()
        services = await self._guard(peer.discover_services(), "discover services")
        uuids: set[int] = set()
        chars: dict[int, CharacteristicProxy[bytes]] = {}
        for service in services:
            if (u := _uuid16(service.uuid)) is not None:
                uuids.add(u)
            for char in await self._guard(service.discover_characteristics(), "discover characteristics"):
                if (u := _uuid16(char.uuid)) is not None:
                    uuids.add(u)
                    # First one wins: a device exposing a UUID twice is unusual and
                    # the profiles only need the primary instance.
                    chars.setdefault(u, char)
        self._chars = chars
        self._uuids = frozenset(uuids)
        return self._uuids

    async def read(self, uuid: int) -> bytes:
        """Read a characteristic value."""
        char = await self._characteristic(uuid)
        return bytes(await self._guard(char.read_value(), f"read 0x{uuid:04X}"))

    async def write(self, uuid: int, data: bytes) -> None:
        """Write with response."""
        char = await self._characteristic(uuid)
        await self._guard(char.write_value(data, with_response=True), f"write 0x{uuid:04X}")

    async def subscribe(self, uuid: int, callback: NotifyCallback) -> None:
        """Enable notifications, or indications when that is all the characteristic offers."""
        char = await self._characteristic(uuid)
        peer = self._require_peer()
        await self._guard(peer.discover_descriptors(char), f"discover descriptors of 0x{uuid:04X}")
        if char.get_descriptor(GATT_CLIENT_CHARACTERISTIC_CONFIGURATION_DESCRIPTOR) is None:
            raise DeviceError(
                f"{self.address}: 0x{uuid:04X} has no CCCD, cannot subscribe",
                advice="The device firmware is non-standard; it is not supported.",
                address=self.address,
            )
        await self._guard(peer.subscribe(char, callback), f"subscribe 0x{uuid:04X}")

    # -- helpers ---------------------------------------------------------------
    def _require_connection(self) -> Connection:
        if self._connection is None or not self.is_connected:
            raise DeviceConnectionError(f"{self.address}: not connected", address=self.address)
        return self._connection

    def _require_peer(self) -> Peer:
        self._require_connection()
        assert self._peer is not None
        return self._peer

    async def _characteristic(self, uuid: int) -> CharacteristicProxy[bytes]:
        if self._uuids is None:
            await self.discover()
        try:
            return self._chars[uuid]
        except KeyError:
            raise missing_characteristic(self.address, uuid) from None

    async def _guard(self, aw: Awaitable[_T], what: str) -> _T:
        """Await a device operation with a timeout, mapping bumble errors to DeviceError."""
        try:
            return await asyncio.wait_for(aw, self._timeout)
        except TimeoutError as exc:
            raise DeviceTimeout(
                f"{self.address}: {what} timed out after {self._timeout:.1f}s", address=self.address
            ) from exc
        except att.ATT_Error as exc:
            if exc.error_code in _SECURITY_ATT_ERRORS:
                raise PairingError(
                    f"{self.address}: {what} refused: {exc.error_name} (link not paired/encrypted)",
                    address=self.address,
                ) from exc
            raise DeviceError(f"{self.address}: {what} failed: {exc.error_name}", address=self.address) from exc
        except (core.BaseBumbleError, hci.HCI_Error, core.ProtocolError) as exc:
            if not self.is_connected:
                raise DeviceConnectionError(f"{self.address}: link lost during {what}", address=self.address) from exc
            raise DeviceError(f"{self.address}: {what} failed: {exc}", address=self.address) from exc
        except asyncio.CancelledError:
            # bumble cancels pending GATT requests when the link drops; surface that as
            # a connection error unless *we* are being cancelled.
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise
            raise DeviceConnectionError(f"{self.address}: link lost during {what}", address=self.address) from None


def _uuid16(uuid: core.UUID) -> int | None:
    """16-bit alias of a bumble UUID, or None for 128-bit vendor UUIDs."""
    raw = uuid.to_bytes(force_128=True)
    # bumble stores UUIDs little-endian; base-UUID members differ only in bytes 12..15.
    if raw[:12] != core.UUID.BASE_UUID[:12] or raw[14:] != b"\x00\x00":
        return None
    return int.from_bytes(raw[12:14], "little")
