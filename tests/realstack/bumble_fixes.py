"""Three places where bumble 0.0.236's virtual controller deviates from the spec in ways a Linux host
trips over, fixed by subclassing (bumble itself is not patched). Checked with BUMBLE_VERSION only:
conftest.py refuses another version rather than run with fixes that may no longer fit.

1. `LocalLink.send_acl_data` labels LE ACL data with the sender controller's *random* address. Linux
   scans with a private random address and then connects with its public one, so the peripheral,
   which keys the connection by the initiator's address, drops every packet ("no connection for").
   Fix: label the data with the address the sender's connection actually uses.
2. The controller advertises the LL Privacy and LE Extended Advertising feature bits. Linux then
   uses LE Extended Create Connection and waits for LE Enhanced Connection Complete, which bumble
   never sends, times out and cancels; bumble answers LE Create Connection Cancel with "success" but
   no Connection Complete, and the kernel (so bleak's disconnect) waits forever. Fix: clear the two
   bits (legacy commands and events) and answer the cancel per spec (Core Vol 4 Part E 7.8.13: a
   Connection Complete with Unknown Connection Identifier after the Command Complete; Command
   Disallowed when nothing is pending).
3. It ignores the host's Filter_Duplicates flag and reports every advertising PDU: with several
   peripherals the guest's UART is flooded. Fix: filter duplicates while the flag is set (and the
   peripherals advertise at >= 100 ms, see host_radio.py).
"""

from __future__ import annotations

import asyncio

from bumble import core, hci, ll
from bumble.controller import Controller
from bumble.link import LocalLink

BUMBLE_VERSION = "0.0.236"


class ConnectionAddressedLink(LocalLink):
    """Fix 1: LE ACL data carries the sending connection's own address."""

    def send_acl_data(
        self, sender_controller: Controller, destination_address: hci.Address, transport: int, data: bytes
    ) -> None:
        connection = sender_controller.le_connections.get(destination_address)
        destination = self.find_le_controller(destination_address)
        if transport != core.PhysicalTransport.LE or connection is None or destination is None:
            super().send_acl_data(sender_controller, destination_address, transport, data)  # type: ignore[arg-type]
            return
        source = connection.self_address
        asyncio.get_running_loop().call_soon(lambda: destination.on_link_acl_data(source, transport, data))  # type: ignore[arg-type]


class LinuxHostController(Controller):
    """The controller the guest's kernel drives (fixes 2 and 3)."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.le_features = self.le_features & ~(
            hci.LeFeatureMask.LL_PRIVACY | hci.LeFeatureMask.LE_EXTENDED_ADVERTISING
        )
        self._reported: set[tuple[bytes, bytes]] = set()

    def on_hci_le_create_connection_cancel_command(
        self, _command: hci.HCI_LE_Create_Connection_Cancel_Command
    ) -> hci.HCI_StatusReturnParameters:
        pending, self.pending_le_connection = self.pending_le_connection, None
        if pending is None:
            return hci.HCI_StatusReturnParameters(hci.HCI_ErrorCode.COMMAND_DISALLOWED_ERROR)
        failed = hci.HCI_LE_Connection_Complete_Event(
            status=hci.HCI_ErrorCode.UNKNOWN_CONNECTION_IDENTIFIER_ERROR,
            connection_handle=0,
            role=hci.Role.CENTRAL,
            peer_address_type=pending.peer_address.address_type,
            peer_address=pending.peer_address,
            connection_interval=0,
            peripheral_latency=0,
            supervision_timeout=0,
            central_clock_accuracy=0,
        )
        # send_hci_packet queues with call_soon: queue this one after the Command Complete.
        asyncio.get_running_loop().call_soon(self.send_hci_packet, failed)
        return hci.HCI_StatusReturnParameters(hci.HCI_ErrorCode.SUCCESS)

    def on_hci_le_set_scan_enable_command(
        self, command: hci.HCI_LE_Set_Scan_Enable_Command
    ) -> hci.HCI_StatusReturnParameters:
        if command.le_scan_enable:
            self._reported.clear()  # each scan reports every advertiser once again
        return super().on_hci_le_set_scan_enable_command(command)

    def on_advertising_pdu(self, pdu: ll.AdvInd | ll.AdvExtInd) -> None:
        key = (bytes(pdu.advertiser_address), bytes(pdu.data))
        if self.le_scan_enable and self.filter_duplicates:
            if key in self._reported:
                pending = self.pending_le_connection
                if pending is not None and pending.peer_address == pdu.advertiser_address:
                    self.create_le_connection(pdu.advertiser_address)  # connecting needs no report
                return
            self._reported.add(key)
        super().on_advertising_pdu(pdu)
