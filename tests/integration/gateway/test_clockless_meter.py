"""A meter without a usable clock (issue 12, item 3): its readings are placed by reception time and flagged.

Regression (failed before): a meter without Current Time whose clock was a year behind sent its
45 mg/dL, measured now, stamped a year back — filed out of sight with no alert.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from vitalgate.app.fleet import VirtualHubRadio
from vitalgate.devices.virtual import VirtualGlucoseMeter, VirtualRadio
from vitalgate.gateway.outbox import HubStore
from vitalgate.gateway.pairing import pair_device
from vitalgate.gateway.sync import sync_device


async def _sync(meter: VirtualGlucoseMeter, store: HubStore) -> list[dict]:
    async with VirtualRadio() as vr:
        radio = VirtualHubRadio(vr)
        address = await vr.add(meter)
        await pair_device(radio, store, address)
        client = radio.client(address)
        async with client:
            await client.pair()
            await sync_device(client, store, store.device(address))
    return [json.loads(i.payload) for i in store.next_batch(1000)]


async def test_a_year_behind_meter_without_cts_files_its_readings_at_reception(tmp_path) -> None:
    meter = VirtualGlucoseMeter(serial="VGM-NOCTS", omit_optional=True, clock_skew=timedelta(days=-365))
    device_now = meter.now().replace(microsecond=0)
    meter.add_record(120.0, base_time=device_now - timedelta(hours=3))
    meter.add_record(45.0, base_time=device_now)
    payloads = await _sync(meter, HubStore(tmp_path / "hub.sqlite"))
    now = datetime.now(UTC)
    measured = [datetime.fromisoformat(p["measured_at"]) for p in payloads]
    assert abs(measured[1] - now) < timedelta(seconds=10)  # the newest at reception
    assert measured[1] - measured[0] == timedelta(hours=3)  # spacing kept from device time
    assert all("time_uncertain" in p["status"] for p in payloads)
    # device_time stays as the meter reported it.
    assert datetime.fromisoformat(payloads[1]["device_time"]) == device_now


async def test_a_meter_without_cts_and_a_plausible_clock_keeps_its_times_but_is_flagged(tmp_path) -> None:
    meter = VirtualGlucoseMeter(serial="VGM-NOCTS2", omit_optional=True)
    at = meter.now().replace(microsecond=0) - timedelta(hours=2)
    meter.add_record(101.0, base_time=at)
    [payload] = await _sync(meter, HubStore(tmp_path / "hub.sqlite"))
    assert datetime.fromisoformat(payload["device_time"]) == at
    assert abs(datetime.fromisoformat(payload["measured_at"]) - (datetime.now(UTC) - timedelta(hours=2))) < timedelta(
        seconds=10
    )
    assert payload["status"] == ["time_uncertain"]


async def test_a_meter_with_cts_within_the_limit_is_not_flagged(tmp_path) -> None:
    meter = VirtualGlucoseMeter(serial="VGM-CTS", clock_skew=timedelta(hours=5))
    meter.add_record(101.0, base_time=meter.now().replace(microsecond=0) - timedelta(minutes=30))
    [payload] = await _sync(meter, HubStore(tmp_path / "hub.sqlite"))
    assert "time_uncertain" not in payload["status"]
