"""Passkey-display pairing for virtual peripherals (a meter showing 6 digits on its screen)."""

from __future__ import annotations

import asyncio
import logging

from bumble import smp
from bumble.device import Connection, Device
from bumble.pairing import PairingConfig, PairingDelegate

__all__ = ["install_passkey_display"]

log = logging.getLogger(__name__)


class _DisplayPasskey(PairingDelegate):
    """Display-only responder that insists on an authenticated (MITM) pairing."""

    def __init__(self, device: Device, connection: Connection, passkey: int) -> None:
        super().__init__(io_capability=PairingDelegate.IoCapability.DISPLAY_OUTPUT_ONLY)
        self._device, self._connection, self._passkey = device, connection, passkey

    async def generate_passkey(self) -> int:
        """The number on the meter's display (fixed, so tests and demos can type it)."""
        return self._passkey

    async def display_number(self, number: int, digits: int) -> None:
        log.debug("virtual device displays a %d-digit passkey", digits)

    async def key_distribution_response(
        self, peer_initiator_key_distribution: int, peer_responder_key_distribution: int
    ) -> tuple[int, int]:
        # bumble picks the method (from both IO capabilities) just before asking for the key
        # distribution; a MITM-only device must refuse Just Works here with "Authentication
        # Requirements" (Core Vol 3 Part H 2.3.5.1/3.5.5), as real passkey meters do.
        session = self._device.smp_manager.sessions.get(self._connection.handle)
        if session is not None and session.pairing_method == smp.PairingMethod.JUST_WORKS:
            session.send_pairing_failed(smp.ErrorCode.AUTHENTICATION_REQUIREMENTS)
            # Ends bumble's pairing-request task quietly (an exception would be logged as a crash).
            raise asyncio.CancelledError("Just Works refused: passkey entry required")
        return await super().key_distribution_response(peer_initiator_key_distribution, peer_responder_key_distribution)


def install_passkey_display(device: Device, passkey: int) -> None:
    """Make `device` pair only with passkey entry of `passkey` (Secure Connections, bonding, MITM)."""
    if not 0 <= passkey <= 999_999:
        raise ValueError(f"a passkey has 6 decimal digits (0..999999), got {passkey}")
    device.pairing_config_factory = lambda connection: PairingConfig(
        sc=True, mitm=True, bonding=True, delegate=_DisplayPasskey(device, connection, passkey)
    )
