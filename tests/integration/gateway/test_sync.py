"""Incremental sync over bumble virtual devices: cursors, sequence restarts, clocks, cuffs, HI/LO."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta

import pytest

from vitalgate.app.fleet import VirtualHubRadio
from vitalgate.devices.virtual import StoredBpReading, VirtualBpCuff, VirtualGlucoseMeter, VirtualRadio
from vitalgate.gateway.config import HubConfig
from vitalgate.gateway.hub import run_hub
from vitalgate.gateway.outbox import HubStore
from vitalgate.gateway.pairing import pair_device
from vitalgate.gateway.status import build_status
from vitalgate.gateway.sync import sync_device

UTC = UTC


def _payloads(store: HubStore) -> list[dict]:
    return [json.loads(i.payload) for i in store.next_batch(100_000)]


async def _pair_and_sync(radio: VirtualHubRadio, store: HubStore, address: str):
    if store.device(address) is None:
        await pair_device(radio, store, address)
    client = radio.client(address)
    async with client:
        await client.pair()
        return await sync_device(client, store, store.device(address))


def _meter(n: int, *, skew: timedelta = timedelta(0), serial: str = "VGM-S1") -> VirtualGlucoseMeter:
    meter = VirtualGlucoseMeter(serial=serial, clock_skew=skew)
    start = meter.now().replace(microsecond=0) - timedelta(hours=n)
    for i in range(n):
        meter.add_record(100.0 + i, base_time=start + timedelta(hours=i))
    return meter


async def test_incremental_sync_and_resync_adds_no_new_ids(tmp_path) -> None:
    store = HubStore(tmp_path / "hub.sqlite")
    meter = _meter(20)
    async with VirtualRadio() as vr:
        radio = VirtualHubRadio(vr)
        address = await vr.add(meter)
        first = await _pair_and_sync(radio, store, address)
        assert (first.fetched, first.queued) == (20, 20)
        again = await _pair_and_sync(radio, store, address)
        assert (again.fetched, again.queued) == (0, 0)  # newest record is the cursor: no download
        meter.add_record(250.0)
        meter.add_record(251.0)
        third = await _pair_and_sync(radio, store, address)
    assert third.queued == 2
    payloads = _payloads(store)
    assert [p["sequence_number"] for p in payloads] == list(range(1, 23))
    assert len({p["id"] for p in payloads}) == 22
    assert store.device(address).cursor_seq == 22


async def test_sequence_restart_with_few_new_records_keeps_them_in_order(tmp_path) -> None:
    """Battery change: counter restarts at 1, old records stay; the newest number is below the cursor."""
    store = HubStore(tmp_path / "hub.sqlite")
    meter = _meter(30)
    async with VirtualRadio() as vr:
        radio = VirtualHubRadio(vr)
        address = await vr.add(meter)
        await _pair_and_sync(radio, store, address)
        meter.restart_sequence()
        new = [
            meter.add_record(60.0 + i, base_time=meter.now().replace(microsecond=0) + timedelta(minutes=i))
            for i in range(3)
        ]
        outcome = await _pair_and_sync(radio, store, address)
        assert outcome.restarted and outcome.queued == 3
        # The next sync after the restart is quiet again.
        assert (await _pair_and_sync(radio, store, address)).queued == 0
    tail = _payloads(store)[-3:]
    assert [(p["sequence_number"], p["values"]["glucose"]["value"]) for p in tail] == [
        (r.sequence_number, r.mg_dl) for r in new
    ]
    assert store.device(address).cursor_seq == 3


async def test_sequence_restart_that_overtakes_the_cursor_is_detected(tmp_path) -> None:
    """After a restart the meter took more readings than the old cursor: numbers overlap, base times differ."""
    store = HubStore(tmp_path / "hub.sqlite")
    meter = _meter(5)
    async with VirtualRadio() as vr:
        radio = VirtualHubRadio(vr)
        address = await vr.add(meter)
        await _pair_and_sync(radio, store, address)
        meter.restart_sequence()
        base = meter.now().replace(microsecond=0)
        new = [
            meter.add_record(150.0 + i, base_time=base + timedelta(minutes=i)) for i in range(8)
        ]  # seq 1..8 > cursor 5
        outcome = await _pair_and_sync(radio, store, address)
    assert outcome.restarted
    assert outcome.queued == 8, "seq 1..5 after the restart must not be mistaken for the old 1..5"
    tail = _payloads(store)[-8:]
    assert [p["values"]["glucose"]["value"] for p in tail] == [r.mg_dl for r in new]
    assert len({p["id"] for p in _payloads(store)}) == 13


@pytest.mark.parametrize("skew", [timedelta(hours=5), timedelta(hours=-9), timedelta(days=-365), timedelta(days=366)])
async def test_measured_at_corrects_device_clock_skew(tmp_path, skew) -> None:
    store = HubStore(tmp_path / "hub.sqlite")
    meter = VirtualGlucoseMeter(serial="VGM-SKEW", clock_skew=skew)
    meter.add_record(111.0, base_time=(meter.now() - timedelta(minutes=40)).replace(microsecond=0))
    async with VirtualRadio() as vr:
        radio = VirtualHubRadio(vr)
        address = await vr.add(meter)
        await _pair_and_sync(radio, store, address)
    (payload,) = _payloads(store)
    measured = datetime.fromisoformat(payload["measured_at"])
    truth = datetime.now(UTC) - timedelta(minutes=40)
    assert abs(measured - truth) < timedelta(seconds=5)
    device_time = datetime.fromisoformat(payload["device_time"])
    # device_time stays as the device reported it (skewed).
    assert abs((device_time - datetime.now()) - (skew - timedelta(minutes=40))) < timedelta(seconds=5)


async def test_hi_and_lo_results_travel_with_comparators(tmp_path) -> None:
    store = HubStore(tmp_path / "hub.sqlite")
    meter = VirtualGlucoseMeter(serial="VGM-HILO")
    t = meter.now().replace(microsecond=0)
    meter.add_record(math.inf, base_time=t - timedelta(minutes=2), sensor_status=frozenset({"result too high"}))
    meter.add_record(-math.inf, base_time=t - timedelta(minutes=1), sensor_status=frozenset({"result too low"}))
    meter.add_record(95.0, base_time=t)
    async with VirtualRadio() as vr:
        radio = VirtualHubRadio(vr)
        address = await vr.add(meter)
        outcome = await _pair_and_sync(radio, store, address)
    assert (outcome.queued, outcome.rejected) == (3, 0)
    values = [p["values"]["glucose"] for p in _payloads(store)]
    assert [(v["value"], v["comparator"]) for v in values] == [(500.0, ">"), (20.0, "<"), (95.0, None)]


async def test_bp_cuff_in_kpa_resync_and_clock_reset(tmp_path) -> None:
    store = HubStore(tmp_path / "hub.sqlite")
    cuff = VirtualBpCuff(serial="VGC-KPA", unit="kPa")
    t = cuff.now().replace(microsecond=0)
    for i in range(4):
        cuff.add_reading(StoredBpReading(t - timedelta(hours=4 - i), 130.0 + i, 85.0, pulse_bpm=70.0))
    async with VirtualRadio() as vr:
        radio = VirtualHubRadio(vr)
        address = await vr.add(cuff)
        first = await _pair_and_sync(radio, store, address)
        assert first.queued == 4
        assert (await _pair_and_sync(radio, store, address)).queued == 0
        cuff.add_reading(StoredBpReading(t, 142.0, 91.0, pulse_bpm=80.0))
        assert (await _pair_and_sync(radio, store, address)).queued == 1
        # Battery change: the cuff clock restarts in 2000; new readings carry old timestamps.
        cuff.clock.skew = datetime(2000, 1, 1) - datetime.now()
        cuff.add_reading(StoredBpReading(cuff.now().replace(microsecond=0), 118.0, 76.0))
        after_reset = await _pair_and_sync(radio, store, address)
    assert after_reset.queued == 1 and after_reset.restarted
    payloads = _payloads(store)
    assert [p["values"]["systolic"]["unit"] for p in payloads] == ["mm[Hg]"] * 6
    assert [round(p["values"]["systolic"]["value"]) for p in payloads] == [130, 131, 132, 133, 142, 118]
    assert payloads[0]["context"]["original_unit"] == "kPa" and payloads[0]["sequence_number"] is None


async def test_several_devices_sync_concurrently_and_overflow_is_loud(tmp_path) -> None:
    config = HubConfig(radio="virtual", max_concurrent_syncs=3, outbox_max_rows=100)
    store = HubStore(tmp_path / "hub.sqlite", max_rows=config.outbox_max_rows)
    async with VirtualRadio() as vr:
        radio = VirtualHubRadio(vr)
        for i in range(4):
            address = await vr.add(_meter(40, serial=f"VGM-C{i}"))
            await pair_device(radio, store, address)
        run = await run_hub(store, radio, config, publisher=None, once=True)
    assert len(run.outcomes) == 4 and not run.failures
    assert sum(o.queued for o in run.outcomes) == 160
    status = build_status(store, "gw-t", online=True)
    assert status.backlog == 100 and status.dropped == 60
    assert all(d.last_sync_at is not None for d in status.devices)


async def test_an_absent_device_is_recorded_and_does_not_stop_the_others(tmp_path) -> None:
    config = HubConfig(radio="virtual", connect_attempts=1, connect_timeout_s=0.5)
    store = HubStore(tmp_path / "hub.sqlite")
    async with VirtualRadio() as vr:
        radio = VirtualHubRadio(vr, connect_timeout_s=0.5)
        present = await vr.add(_meter(3, serial="VGM-HERE"))
        await pair_device(radio, store, present)
        store.register(
            address="C0:DE:00:00:0F:FF",
            serial="VGM-GONE",
            kind="glucose_meter",
            name=None,
            model=None,
            manufacturer=None,
            firmware=None,
            now=datetime.now(UTC),
        )
        run = await run_hub(store, radio, config, publisher=None, once=True)
    assert [o.queued for o in run.outcomes] == [3]
    assert list(run.failures) == ["C0:DE:00:00:0F:FF"]
    gone = store.device("C0:DE:00:00:0F:FF")
    assert gone.last_error.startswith("DeviceNotFound") and gone.cursor_seq is None
    assert store.device(present).last_error is None


async def test_a_garbled_record_is_kept_as_rejected_and_does_not_block_the_sync(tmp_path) -> None:
    store = HubStore(tmp_path / "hub.sqlite")
    meter = _meter(5)
    async with VirtualRadio() as vr:
        radio = VirtualHubRadio(vr)
        address = await vr.add(meter)
        await _pair_and_sync(radio, store, address)
        meter.add_record(120.0)
        bad = meter.add_record(121.0)
        meter.malformed_sequences.add(bad.sequence_number)  # the newest record arrives truncated
        outcome = await _pair_and_sync(radio, store, address)
    assert (outcome.queued, outcome.rejected) == (1, 1)
    assert store.device(address).cursor_seq == 6
    (row,) = store.rejected()
    assert row[0] == address and "measurement" in row[1] and row[2]  # reason and raw bytes kept
