"""Demo devices for `--virtual`: deterministic meters and cuffs, identical in every process.

Every CLI invocation builds the same fleet (same addresses, serials, records), so `pair` in one
process and `run` in another see the same devices, and a restarted hub re-syncs the same records.
Lives in the composition root: the production radios (`vitalgate.gateway.radio`) never import
virtual-device code; `vitalgate.app.radios.open_hub_radio` chooses between them and this fleet.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

from vitalgate.devices.adapters.bumble_client import BumbleGattClient
from vitalgate.devices.advertising import SUPPORTED_SERVICES
from vitalgate.devices.gatt import Advertisement, GattClient
from vitalgate.devices.virtual import (
    StoredBpReading,
    StoredGlucoseRecord,
    VirtualBpCuff,
    VirtualGlucoseMeter,
    VirtualRadio,
)
from vitalgate.gateway.config import HubConfig
from vitalgate.gateway.radio import Passkey

RECORD_SPACING = timedelta(minutes=5)


def fleet_epoch() -> datetime:
    """Newest record time: the start of today (device clock), stable within a day across processes."""
    return datetime.now().replace(hour=0, minute=0, second=0, microsecond=0)


def demo_meter(index: int, records: int, epoch: datetime) -> VirtualGlucoseMeter:
    """Meter #index with `records` readings 5 minutes apart, the newest at `epoch`."""
    stored = [
        StoredGlucoseRecord(
            sequence_number=seq,
            base_time=epoch - RECORD_SPACING * (records - seq),
            # A smooth, repeatable spread over 70-219 mg/dL.
            mg_dl=float(70 + (seq * 37 + index * 11) % 150),
        )
        for seq in range(1, records + 1)
    ]
    return VirtualGlucoseMeter(name=f"VG Meter {index}", serial=f"VGM-DEMO-{index:03d}", records=stored)


def demo_cuff(index: int, records: int, epoch: datetime) -> VirtualBpCuff:
    """Cuff #index with `records` readings 5 minutes apart, the newest at `epoch`."""
    stored = [
        StoredBpReading(
            timestamp=epoch - RECORD_SPACING * (records - n),
            systolic_mmhg=float(110 + (n * 7 + index) % 50),
            diastolic_mmhg=float(70 + (n * 3 + index) % 25),
            map_mmhg=None,
            pulse_bpm=float(60 + n % 30),
        )
        for n in range(1, records + 1)
    ]
    return VirtualBpCuff(name=f"VG Cuff {index}", serial=f"VGC-DEMO-{index:03d}", readings=stored)


async def add_demo_fleet(radio: VirtualRadio, *, meters: int, cuffs: int, records: int) -> list[str]:
    """Add meters first, then cuffs, to a VirtualRadio; returns their addresses in that order."""
    epoch = fleet_epoch()
    addresses = []
    for i in range(1, meters + 1):
        addresses.append(await radio.add(demo_meter(i, records, epoch)))
    for i in range(1, cuffs + 1):
        addresses.append(await radio.add(demo_cuff(i, records, epoch)))
    return addresses


class VirtualHubRadio:
    """A HubRadio over a VirtualRadio; one central per device address, reused so long runs do not grow the link."""

    name = "virtual"

    def __init__(self, radio: VirtualRadio, *, connect_timeout_s: float = 10.0) -> None:
        self.radio = radio
        self._timeout = connect_timeout_s
        self._clients: dict[str, BumbleGattClient] = {}

    async def scan(self, timeout: float) -> list[Advertisement]:
        return await self.radio.scan(timeout, SUPPORTED_SERVICES)

    def client(self, address: str, *, passkey: Passkey | None = None) -> GattClient:
        if address not in self._clients:
            self._clients[address] = self.radio.client(address, timeout=self._timeout)
        client = self._clients[address]
        if passkey is not None:
            client.passkey = passkey
        return client


@contextlib.asynccontextmanager
async def open_virtual_radio(config: HubConfig) -> AsyncIterator[VirtualHubRadio]:
    """A VirtualRadio holding the configured demo fleet, as a HubRadio, for the life of the context."""
    async with VirtualRadio() as radio:
        await add_demo_fleet(
            radio, meters=config.virtual_meters, cuffs=config.virtual_cuffs, records=config.virtual_records
        )
        yield VirtualHubRadio(radio, connect_timeout_s=config.connect_timeout_s)
