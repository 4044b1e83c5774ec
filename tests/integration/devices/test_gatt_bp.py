"""Blood pressure sync over real bumble GATT on an in-process LocalLink."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest

from vitalgate.devices.errors_gatt import DeviceTimeout, PairingError
from vitalgate.devices.gatt import BLOOD_PRESSURE_SERVICE
from vitalgate.devices.profiles import (
    read_current_time,
    read_device_information,
    sync_blood_pressure,
    write_current_time,
)
from vitalgate.devices.virtual import StoredBpReading, VirtualBpCuff, VirtualGlucoseMeter, VirtualRadio

T0 = datetime(2026, 3, 1, 8, 0, 0)


def make_readings(n: int) -> list[StoredBpReading]:
    return [
        StoredBpReading(
            timestamp=T0 + timedelta(hours=12 * i),
            systolic_mmhg=float(110 + i % 40),
            diastolic_mmhg=float(70 + i % 20),
            map_mmhg=float(85 + i % 25),
            pulse_bpm=float(60 + i % 30),
            user_id=1,
            status=frozenset({"irregular pulse"}) if i % 10 == 0 else frozenset(),
        )
        for i in range(n)
    ]


@pytest.fixture
async def radio() -> AsyncIterator[VirtualRadio]:
    async with VirtualRadio() as r:
        yield r


@pytest.mark.parametrize("bonded", [False, True])
async def test_kpa_cuff_dumps_50_readings_then_disconnects(radio: VirtualRadio, bonded: bool) -> None:
    cuff = VirtualBpCuff(readings=make_readings(50), unit="kPa", require_bonding=bonded)
    address = await radio.add(cuff)
    async with radio.client(address) as client:
        if bonded:
            await client.pair()
        started = time.perf_counter()
        result = await sync_blood_pressure(client, quiet_period=1.0, timeout=10.0)
        elapsed = time.perf_counter() - started
        assert not client.is_connected  # the cuff hung up, not the quiet timer
    assert elapsed < 1.0
    assert len(result.records) == 50 and result.rejected == ()
    for i, m in enumerate(result.records):
        assert m.unit == "kPa"
        assert m.systolic_mmhg == pytest.approx(110 + i % 40, abs=0.6)
        assert m.diastolic_mmhg == pytest.approx(70 + i % 20, abs=0.6)
        assert m.map_mmhg == pytest.approx(85 + i % 25, abs=0.6)
        assert m.pulse_bpm == pytest.approx(60 + i % 30)
        assert m.timestamp == T0 + timedelta(hours=12 * i)
        assert ("irregular pulse" in m.status) is (i % 10 == 0)
    assert result.clock_offset is not None and abs(result.clock_offset) < timedelta(seconds=3)


async def test_bonding_cuff_refuses_unpaired_client(radio: VirtualRadio) -> None:
    address = await radio.add(VirtualBpCuff(readings=make_readings(2), require_bonding=True))
    async with radio.client(address) as client:
        with pytest.raises(PairingError):
            await sync_blood_pressure(client, quiet_period=0.3, timeout=5.0)


async def test_since_filter_returns_only_newer_readings(radio: VirtualRadio) -> None:
    cuff = VirtualBpCuff(readings=make_readings(50))
    address = await radio.add(cuff)
    since = T0 + timedelta(hours=12 * 44)
    async with radio.client(address) as client:
        result = await sync_blood_pressure(client, since=since, quiet_period=1.0)
    assert [m.timestamp for m in result.records] == [T0 + timedelta(hours=12 * i) for i in range(45, 50)]
    assert result.skipped_old == 45


async def test_missing_optional_fields(radio: VirtualRadio) -> None:
    readings = [
        StoredBpReading(timestamp=T0, systolic_mmhg=121, diastolic_mmhg=79),  # no MAP/pulse/user
        StoredBpReading(timestamp=None, systolic_mmhg=135, diastolic_mmhg=88, map_mmhg=104, pulse_bpm=72),
    ]
    cuff = VirtualBpCuff(readings=readings, omit_optional=True)
    address = await radio.add(cuff)
    async with radio.client(address) as client:
        info = await read_device_information(client)
        assert await read_current_time(client) is None
        assert await write_current_time(client, datetime.now()) is False
        result = await sync_blood_pressure(client, since=T0 + timedelta(days=1), quiet_period=0.5)
    assert info.serial_from_address and info.firmware is None
    assert result.device_time is None and result.clock_offset is None
    # The timestamp-less reading cannot be filtered by `since`, so it is kept.
    assert len(result.records) == 1
    only = result.records[0]
    assert only.timestamp is None and only.pulse_bpm is None and only.user_id is None
    assert only.map_mmhg == pytest.approx(104)


async def test_quiet_cuff_that_stays_connected_ends_after_quiet_period(radio: VirtualRadio) -> None:
    cuff = VirtualBpCuff(readings=make_readings(3), disconnect_when_done=False, intermediate_pressures=(40, 120, 180))
    address = await radio.add(cuff)
    pressures: list[float] = []
    async with radio.client(address) as client:
        started = time.perf_counter()
        result = await sync_blood_pressure(
            client, quiet_period=0.3, on_intermediate=lambda m: pressures.append(m.systolic_mmhg)
        )
        assert client.is_connected
    assert 0.3 <= time.perf_counter() - started < 1.5
    assert len(result.records) == 3
    assert pressures == pytest.approx([40, 120, 180], abs=0.6)


async def test_malformed_indication_is_rejected_and_timeout_keeps_partial(radio: VirtualRadio) -> None:
    cuff = VirtualBpCuff(readings=make_readings(5))
    cuff.malformed_indexes = {1}
    slow = VirtualBpCuff(name="Slow", readings=make_readings(100))
    slow.reading_delay = 0.02
    address, slow_address = await radio.add(cuff), await radio.add(slow)
    async with radio.client(address) as client:
        result = await sync_blood_pressure(client, quiet_period=0.5)
    assert len(result.records) == 4 and len(result.rejected) == 1
    assert "truncated" in result.rejected[0][1]
    async with radio.client(slow_address) as client:
        with pytest.raises(DeviceTimeout) as info:
            await sync_blood_pressure(client, quiet_period=0.5, timeout=0.5)
    assert 0 < len(info.value.partial) < 100


async def test_scan_tells_cuffs_and_meters_apart(radio: VirtualRadio) -> None:
    cuff = await radio.add(VirtualBpCuff(name="Cuff"))
    await radio.add(VirtualGlucoseMeter(name="Meter"))
    found = await radio.scan(timeout=0.2, service_uuids=(BLOOD_PRESSURE_SERVICE,))
    assert [(a.name, a.address, a.service_uuids) for a in found] == [("Cuff", cuff, (BLOOD_PRESSURE_SERVICE,))]
