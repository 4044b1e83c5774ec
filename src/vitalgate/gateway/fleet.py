"""Demo devices for `--virtual`: deterministic meters and cuffs, identical in every process.

Every CLI invocation builds the same fleet (same addresses, serials, records), so `pair` in one
process and `run` in another see the same devices, and a restarted hub re-syncs the same records.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from vitalgate.devices.virtual import StoredBpReading, StoredGlucoseRecord, VirtualBpCuff, VirtualGlucoseMeter

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


async def add_demo_fleet(radio: object, *, meters: int, cuffs: int, records: int) -> list[str]:
    """Add meters first, then cuffs, to a VirtualRadio; returns their addresses in that order."""
    epoch = fleet_epoch()
    addresses = []
    for i in range(1, meters + 1):
        addresses.append(await radio.add(demo_meter(i, records, epoch)))  # type: ignore[attr-defined]
    for i in range(1, cuffs + 1):
        addresses.append(await radio.add(demo_cuff(i, records, epoch)))  # type: ignore[attr-defined]
    return addresses
