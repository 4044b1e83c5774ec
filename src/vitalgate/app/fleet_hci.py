"""Serve the demo fleet to another process over HCI on TCP (`python -m vitalgate.app.fleet_hci --port N`).

Each TCP client gets its own controller on the fleet's LocalLink, i.e. a virtual Bluetooth
dongle: a hub with `VITALGATE_GATEWAY_RADIO=hci VITALGATE_GATEWAY_HCI_TRANSPORT=tcp-client:127.0.0.1:N`
then talks to the virtual devices exactly as to a USB controller, from its own process. Packets
are fed to the controller as they are read: several may arrive in one TCP read (e.g. an indication
confirmation plus the next RACP write), which the virtual devices handle as real ones must.
"""

from __future__ import annotations

import argparse
import asyncio
import struct
from collections.abc import AsyncIterator

from vitalgate.app.fleet import add_demo_fleet
from vitalgate.core.shutdown import run_until_signalled

_H4_COMMAND, _H4_ACL, _H4_SCO = 0x01, 0x02, 0x03


async def h4_packets(reader: asyncio.StreamReader) -> AsyncIterator[bytes]:
    """Split an H4 byte stream (host -> controller) into whole packets."""
    while True:
        kind = (await reader.readexactly(1))[0]
        if kind in (_H4_COMMAND, _H4_SCO):
            head = await reader.readexactly(3)
            length = head[2]
        elif kind == _H4_ACL:
            head = await reader.readexactly(4)
            length = struct.unpack_from("<H", head, 2)[0]
        else:
            raise ValueError(f"unexpected H4 packet type 0x{kind:02X} from the host")
        yield bytes([kind]) + head + await reader.readexactly(length)


class _Sink:
    """Controller -> host: write packets to the TCP stream as they come."""

    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self._writer = writer

    def on_packet(self, packet: bytes) -> None:
        self._writer.write(bytes(packet))


async def serve_fleet(
    port: int,
    *,
    meters: int,
    cuffs: int,
    records: int,
    ready: asyncio.Event | None = None,
    stop: asyncio.Event | None = None,
) -> None:
    """Run the fleet and accept hub connections on 127.0.0.1:port until `stop` (or cancelled)."""
    from bumble.controller import Controller

    from vitalgate.devices.virtual import VirtualRadio

    async with VirtualRadio() as radio:
        await add_demo_fleet(radio, meters=meters, cuffs=cuffs, records=records)

        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            controller = Controller(f"dongle-{port}", host_sink=_Sink(writer), link=radio.link)
            try:
                async for packet in h4_packets(reader):
                    controller.on_packet(packet)
            except (asyncio.IncompleteReadError, ConnectionError, ValueError):
                pass  # the hub went away (or spoke garbage): drop its dongle
            finally:
                radio.link.remove_controller(controller)
                writer.close()

        server = await asyncio.start_server(handle, "127.0.0.1", port)
        async with server:
            if ready is not None:
                ready.set()
            print(f"fleet ready on tcp-client:127.0.0.1:{port}", flush=True)
            await (stop or asyncio.Event()).wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--meters", type=int, default=1)
    parser.add_argument("--cuffs", type=int, default=1)
    parser.add_argument("--records", type=int, default=5)
    args = parser.parse_args()
    run_until_signalled(
        lambda stop: serve_fleet(args.port, meters=args.meters, cuffs=args.cuffs, records=args.records, stop=stop)
    )


if __name__ == "__main__":
    main()
