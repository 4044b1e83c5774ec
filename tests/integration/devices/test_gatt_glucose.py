"""Glucose sync over real bumble GATT on an in-process LocalLink (no radio hardware)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest

from vitalgate.devices import racp
from vitalgate.devices.errors_gatt import DeviceError, DeviceNotFound, DeviceTimeout, PairingError
from vitalgate.devices.gatt import GLUCOSE_SERVICE, RACP, GattClient
from vitalgate.devices.profiles import read_current_time, read_device_information, sync_glucose, write_current_time
from vitalgate.devices.virtual import StoredGlucoseRecord, VirtualGlucoseMeter, VirtualRadio

T0 = datetime(2026, 1, 1, 7, 0, 0)
MEALS = ("preprandial", "postprandial", None)


def make_records(n: int, start_seq: int = 1) -> list[StoredGlucoseRecord]:
    return [
        StoredGlucoseRecord(
            sequence_number=start_seq + i,
            base_time=T0 + timedelta(hours=2 * i),
            mg_dl=float(70 + (i * 7) % 180),
            meal=MEALS[i % 3],
        )
        for i in range(n)
    ]


@pytest.fixture
async def radio() -> AsyncIterator[VirtualRadio]:
    async with VirtualRadio() as r:
        yield r


async def paired(radio: VirtualRadio, address: str) -> GattClient:
    client = radio.client(address, timeout=5.0)
    await client.connect()
    await client.pair()
    return client


async def test_bonded_full_sync_of_500_records(radio: VirtualRadio) -> None:
    meter = VirtualGlucoseMeter(records=make_records(500), clock_skew=timedelta(minutes=-7))
    address = await radio.add(meter)
    async with radio.client(address) as client:
        await client.pair()
        started = time.perf_counter()
        result = await sync_glucose(client, timeout=20.0)
        elapsed = time.perf_counter() - started
    print(f"\nsynced {len(result.records)} glucose records in {elapsed:.3f}s")

    assert [r.measurement.sequence_number for r in result.records] == list(range(1, 501))
    assert result.last_sequence == 500
    assert result.stored_count == 500
    assert result.rejected == ()
    assert result.sequence_reset is False
    for i, rec in enumerate(result.records):
        assert rec.measurement.mg_dl == pytest.approx(70 + (i * 7) % 180, abs=0.6)
        assert rec.measurement.base_time == T0 + timedelta(hours=2 * i)
        assert rec.measurement.context_follows is (MEALS[i % 3] is not None)
        if MEALS[i % 3] is None:
            assert rec.context is None
        else:
            assert rec.context is not None and rec.context.sequence_number == i + 1
            assert rec.context.meal == MEALS[i % 3]
    assert result.clock_offset is not None
    assert abs(result.clock_offset - timedelta(minutes=-7)) < timedelta(seconds=3)
    assert elapsed < 10


async def test_incremental_sync_returns_only_new_records(radio: VirtualRadio) -> None:
    meter = VirtualGlucoseMeter(records=make_records(500))
    address = await radio.add(meter)
    async with radio.client(address) as client:
        await client.pair()
        first = await sync_glucose(client)
    last = first.records[-1].measurement.sequence_number
    meter.add_record(142.0, meal="postprandial")
    meter.add_record(99.0)
    # A new gateway session (fresh central) must pair again and only get the new ones.
    async with radio.client(address) as client:
        await client.pair()
        second = await sync_glucose(client, after_sequence=last)
        nothing = await sync_glucose(client, after_sequence=last + 2)
    assert [r.measurement.sequence_number for r in second.records] == [501, 502]
    assert second.records[0].context is not None
    assert second.records[0].measurement.mg_dl == pytest.approx(142.0, abs=0.6)
    assert second.stored_count == 502
    assert nothing.records == () and nothing.sequence_reset is False


async def test_unpaired_client_is_refused_by_bonding_meter(radio: VirtualRadio) -> None:
    address = await radio.add(VirtualGlucoseMeter(records=make_records(3)))
    async with radio.client(address) as client:
        with pytest.raises(PairingError) as info:
            await sync_glucose(client)
    assert "pair" in info.value.advice.lower()
    assert isinstance(info.value, DeviceError)


async def test_meter_without_bonding_syncs_unpaired(radio: VirtualRadio) -> None:
    address = await radio.add(VirtualGlucoseMeter(records=make_records(4), require_bonding=False))
    async with radio.client(address) as client:
        result = await sync_glucose(client)
    assert len(result.records) == 4


async def test_no_records_found_gives_empty_result(radio: VirtualRadio) -> None:
    address = await radio.add(VirtualGlucoseMeter())
    client = await paired(radio, address)
    try:
        result = await sync_glucose(client)
        again = await sync_glucose(client, after_sequence=10)
    finally:
        await client.disconnect()
    assert result.records == () and result.stored_count == 0
    assert again.records == () and again.sequence_reset is False


async def test_sequence_restart_after_battery_change_is_detected(radio: VirtualRadio) -> None:
    meter = VirtualGlucoseMeter(records=make_records(5, start_seq=40))
    address = await radio.add(meter)
    meter.restart_sequence()
    meter.add_record(111.0)
    client = await paired(radio, address)
    try:
        result = await sync_glucose(client, after_sequence=44)
    finally:
        await client.disconnect()
    assert result.sequence_reset is True
    assert sorted(r.measurement.sequence_number for r in result.records) == [1, 40, 41, 42, 43, 44]
    assert result.last_sequence == 1  # newest record, not max(): the next cursor


async def test_malformed_notification_is_rejected_not_fatal(radio: VirtualRadio) -> None:
    meter = VirtualGlucoseMeter(records=make_records(6))
    meter.malformed_sequences = {2}
    address = await radio.add(meter)
    client = await paired(radio, address)
    try:
        result = await sync_glucose(client)
    finally:
        await client.disconnect()
    assert [r.measurement.sequence_number for r in result.records] == [1, 3, 4, 5, 6]
    # seq 2 had a meal: its (well-formed) context is orphaned and rejected too.
    assert [reason.split(":")[0] for _, reason in result.rejected] == [
        "measurement",
        "context without measurement (seq 2)",
    ]
    raw, reason = result.rejected[0]
    assert len(raw) == 5 and "truncated" in reason


async def test_timeout_aborts_and_keeps_partial_records(radio: VirtualRadio) -> None:
    meter = VirtualGlucoseMeter(records=make_records(200))
    meter.record_delay = 0.01
    address = await radio.add(meter)
    client = await paired(radio, address)
    try:
        with pytest.raises(DeviceTimeout) as info:
            await sync_glucose(client, timeout=0.4)
        await asyncio.sleep(0.05)
        assert meter.requests[-1] == racp.abort()
        # The meter answered the abort and is usable again right away.
        result = await sync_glucose(client, after_sequence=190)
    finally:
        await client.disconnect()
    assert 0 < len(info.value.partial) < 200
    assert [r.measurement.sequence_number for r in result.records] == list(range(191, 201))


async def test_racp_error_responses(radio: VirtualRadio) -> None:
    address = await radio.add(VirtualGlucoseMeter(records=make_records(2)))
    client = await paired(radio, address)
    responses: asyncio.Queue[bytes] = asyncio.Queue()
    try:
        await client.subscribe(RACP, responses.put_nowait)
        for request, expected in (
            (bytes([0x7F, 0x00]), racp.ResponseCode.OP_CODE_NOT_SUPPORTED),
            (bytes([racp.Opcode.REPORT_STORED_RECORDS, racp.Operator.NULL]), racp.ResponseCode.INVALID_OPERATOR),
            (bytes([racp.Opcode.REPORT_STORED_RECORDS, 0x09]), racp.ResponseCode.OPERATOR_NOT_SUPPORTED),
            (
                bytes([racp.Opcode.REPORT_STORED_RECORDS, racp.Operator.WITHIN_RANGE, 1, 5, 0, 2, 0]),
                racp.ResponseCode.INVALID_OPERAND,
            ),
        ):
            await client.write(RACP, request)
            response = racp.parse_racp_response(await asyncio.wait_for(responses.get(), 2))
            assert isinstance(response, racp.ResponseCodeResponse), request.hex()
            assert response.code == expected, request.hex()
        await client.write(RACP, bytes([racp.Opcode.DELETE_STORED_RECORDS, racp.Operator.FIRST]))
        deleted = racp.parse_racp_response(await asyncio.wait_for(responses.get(), 2))
        assert isinstance(deleted, racp.ResponseCodeResponse) and deleted.code == racp.ResponseCode.SUCCESS
    finally:
        await client.disconnect()


async def test_device_information_and_serial_fallback(radio: VirtualRadio) -> None:
    full = await radio.add(VirtualGlucoseMeter(serial="SN-42", model="VG-2", firmware="2.1"))
    bare = await radio.add(VirtualGlucoseMeter(name="Cheap", omit_optional=True))
    async with radio.client(full) as client:
        info = await read_device_information(client)
    async with radio.client(bare) as client:
        bare_info = await read_device_information(client)
    assert (info.manufacturer, info.model, info.serial, info.firmware) == ("VitalGate Virtual", "VG-2", "SN-42", "2.1")
    assert info.serial_from_address is False
    assert bare_info.serial == bare and bare_info.serial_from_address is True
    assert bare_info.firmware is None and bare_info.model == "VG-1"


async def test_current_time_read_and_write(radio: VirtualRadio) -> None:
    meter = VirtualGlucoseMeter(clock_skew=timedelta(hours=3))
    address = await radio.add(meter)
    client = await paired(radio, address)
    try:
        before = await read_current_time(client)
        assert await write_current_time(client, datetime.now()) is True
        after = await read_current_time(client)
    finally:
        await client.disconnect()
    assert before is not None and after is not None
    assert abs(before - datetime.now() - timedelta(hours=3)) < timedelta(seconds=3)
    assert abs(after - datetime.now()) < timedelta(seconds=3)


async def test_scan_finds_meters_by_service_uuid(radio: VirtualRadio) -> None:
    a = await radio.add(VirtualGlucoseMeter(name="Meter A"))
    b = await radio.add(VirtualGlucoseMeter(name="Meter B"))
    found = await radio.scan(timeout=0.2)
    assert {(ad.name, ad.address) for ad in found} == {("Meter A", a), ("Meter B", b)}
    assert all(GLUCOSE_SERVICE in ad.service_uuids for ad in found)
    assert await radio.scan(timeout=0.1, service_uuids=(0x180D,)) == []


async def test_concurrent_clients_on_several_meters(radio: VirtualRadio) -> None:
    units = ("kg/L", "mol/L", "kg/L")
    meters = [VirtualGlucoseMeter(name=f"M{i}", records=make_records(50 + i), unit=units[i]) for i in range(3)]
    addresses = [await radio.add(m) for m in meters]

    async def one(address: str) -> tuple[int, str | None, float | None]:
        async with radio.client(address) as client:
            await client.pair()
            records = (await sync_glucose(client)).records
            return len(records), records[0].measurement.unit, records[0].measurement.mg_dl

    results = await asyncio.gather(*(one(a) for a in addresses))
    assert [n for n, _, _ in results] == [50, 51, 52]
    assert [u for _, u, _ in results] == ["kg/L", "mol/L", "kg/L"]
    # mmol/L meters round to 0.1 mmol/L (~1.8 mg/dL) on the wire.
    assert all(mg == pytest.approx(70.0, abs=1.0) for _, _, mg in results)


async def test_bonded_reconnect_reencrypts_without_new_pairing(radio: VirtualRadio) -> None:
    address = await radio.add(VirtualGlucoseMeter(records=make_records(2)))
    client = radio.client(address)
    async with client:
        await client.pair()
    async with client:
        await client.pair()  # stored LTK -> encryption, no SMP pairing
        assert len((await sync_glucose(client)).records) == 2


async def test_unknown_address_raises_device_not_found(radio: VirtualRadio) -> None:
    client = radio.client("C0:DE:00:00:0F:FF", timeout=0.3)
    with pytest.raises(DeviceNotFound):
        await client.connect()
    assert not client.is_connected
