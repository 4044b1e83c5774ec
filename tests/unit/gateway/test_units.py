"""Pure and SQLite-level gateway behaviour: outbox bound, id de-duplication, mapping, time rule, backoff."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from vitalgate.contract import DeviceRef, Reading
from vitalgate.core.backoff import backoff_s
from vitalgate.devices.bp import decode_bp_measurement, encode_bp_measurement
from vitalgate.devices.errors_gatt import DeviceConnectionError, DeviceNotFound
from vitalgate.devices.glucose import decode_glucose_measurement, encode_glucose_measurement
from vitalgate.devices.profiles.glucose import GlucoseRecord
from vitalgate.gateway.mapping import GLUCOSE_HI_MG_DL, GLUCOSE_LO_MG_DL, Unusable, bp_reading, glucose_reading
from vitalgate.gateway.outbox import HubStore
from vitalgate.gateway.publisher import batch_payload
from vitalgate.gateway.retry import device_backoff_s
from vitalgate.gateway.timing import to_measured_at

UTC = UTC
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
METER = DeviceRef(serial="VGM-T", kind="glucose_meter")
CUFF = DeviceRef(serial="VGC-T", kind="bp_cuff")


def _store(tmp_path, max_rows=None) -> HubStore:
    store = HubStore(tmp_path / "hub.sqlite", max_rows=max_rows)
    store.register(
        address="AA", serial="S", kind="glucose_meter", name=None, model=None, manufacturer=None, firmware=None, now=NOW
    )
    return store


def test_outbox_bound_keeps_newest_and_counts_dropped(tmp_path) -> None:
    store = _store(tmp_path, max_rows=100)
    store.commit_sync("AA", [(f"id-{i}", f'{{"n":{i}}}') for i in range(80)], cursor_seq=80, cursor_time=None, now=NOW)
    assert store.dropped() == 0
    store.commit_sync(
        "AA", [(f"id-{i}", f'{{"n":{i}}}') for i in range(80, 150)], cursor_seq=150, cursor_time=None, now=NOW
    )
    assert store.backlog() == 100
    assert store.dropped() == 50
    batch = store.next_batch(1000)
    assert [b.reading_id for b in batch] == [f"id-{i}" for i in range(50, 150)]  # newest kept, in order
    store.close()
    reopened = HubStore(tmp_path / "hub.sqlite", max_rows=100)
    assert reopened.dropped() == 50  # the loss counter is durable


def test_known_ids_are_not_queued_again_after_publish(tmp_path) -> None:
    store = _store(tmp_path)
    rows = [(f"id-{i}", "{}") for i in range(10)]
    assert store.commit_sync("AA", rows, cursor_seq=10, cursor_time=None, now=NOW) == 10
    store.mark_published(store.next_batch(100), now=NOW)
    assert store.backlog() == 10 and store.unconfirmed() == 10 and store.published() == 10
    assert store.confirm(f"id-{i}" for i in range(10)) == 10
    assert store.backlog() == 0 and store.published() == 10 and store.last_publish_at() == NOW
    assert store.commit_sync("AA", [*rows, ("id-new", "{}")], cursor_seq=11, cursor_time=None, now=NOW) == 1
    assert store.device("AA").cursor_seq == 11


def test_cursor_and_outbox_move_together_or_not_at_all(tmp_path) -> None:
    store = _store(tmp_path)

    def rows():
        yield ("id-1", "{}")
        raise RuntimeError("crash in the middle of a sync commit")

    with pytest.raises(RuntimeError):
        store.commit_sync("AA", rows(), cursor_seq=99, cursor_time=None, now=NOW)
    assert store.backlog() == 0
    assert store.device("AA").cursor_seq is None


def test_forget_keeps_queued_readings(tmp_path) -> None:
    store = _store(tmp_path)
    store.commit_sync("AA", [("id-1", "{}")], cursor_seq=1, cursor_time=None, now=NOW)
    assert store.forget("AA") and not store.forget("AA")
    assert store.devices() == [] and store.backlog() == 1


def _glucose(mg_dl: float, *, offset: int | None = 0, status=frozenset()) -> GlucoseRecord:
    raw = encode_glucose_measurement(
        sequence_number=7,
        base_time=datetime(2026, 3, 1, 8, 30),
        time_offset_minutes=offset,
        mg_dl=mg_dl,
        sample_type="capillary whole blood",
        sample_location="finger",
        sensor_status=status,
    )
    return GlucoseRecord(decode_glucose_measurement(raw))


@pytest.mark.parametrize(
    ("value", "comparator", "limit", "flag"),
    [(math.inf, ">", GLUCOSE_HI_MG_DL, "result too high"), (-math.inf, "<", GLUCOSE_LO_MG_DL, "result too low")],
)
def test_hi_lo_glucose_becomes_a_bound_with_its_flag(value, comparator, limit, flag) -> None:
    reading = glucose_reading(_glucose(value), METER, clock_offset=None, received_at=NOW, local_tz=UTC)
    q = reading.values["glucose"]
    assert (q.value, q.comparator, q.unit) == (limit, comparator, "mg/dL")
    assert flag in reading.status and reading.context["glucose_comparator"] == comparator
    Reading.model_validate_json(reading.model_dump_json())


def test_nan_glucose_is_unusable_not_silent() -> None:
    with pytest.raises(Unusable, match="concentration"):
        glucose_reading(_glucose(math.nan), METER, clock_offset=None, received_at=NOW, local_tz=UTC)


def test_glucose_time_offset_and_clock_offset_give_measured_at() -> None:
    tz = ZoneInfo("Europe/Berlin")  # UTC+1 in March before DST
    record = _glucose(104.0, offset=30)
    reading = glucose_reading(record, METER, clock_offset=timedelta(hours=3), received_at=NOW, local_tz=tz)
    assert reading.device_time == datetime(2026, 3, 1, 9, 0)  # base 08:30 + 30 min offset field
    # 09:00 device clock, 3 h fast -> 06:00 Berlin -> 05:00 UTC
    assert reading.measured_at == datetime(2026, 3, 1, 5, 0, tzinfo=UTC)
    assert reading.received_at == NOW
    assert reading.values["glucose"].value == 104.0 and reading.values["glucose"].comparator is None


def test_bp_in_kpa_is_converted_to_mm_hg() -> None:
    raw = encode_bp_measurement(120.0, 80.0, 93.3, unit="kPa", timestamp=datetime(2026, 3, 1, 7, 0), pulse_bpm=64.0)
    m = decode_bp_measurement(raw)
    assert m.unit == "kPa"
    reading = bp_reading(m, CUFF, clock_offset=None, received_at=NOW, local_tz=UTC)
    assert reading.values["systolic"].unit == "mm[Hg]" and reading.values["pulse"].unit == "/min"
    assert reading.values["systolic"].value == pytest.approx(120.0, abs=0.8)  # kPa SFLOAT has 0.1 kPa steps
    assert reading.values["diastolic"].value == pytest.approx(80.0, abs=0.8)
    assert reading.values["mean_arterial"].value == pytest.approx(93.3, abs=0.8)
    assert reading.context["original_unit"] == "kPa"


def test_implausible_bp_is_unusable() -> None:
    m = decode_bp_measurement(encode_bp_measurement(400.0, 80.0, math.nan, timestamp=datetime(2026, 3, 1, 7, 0)))
    with pytest.raises(Unusable, match="systolic"):
        bp_reading(m, CUFF, clock_offset=None, received_at=NOW, local_tz=UTC)


def test_wrong_year_clock_is_corrected() -> None:
    offset = datetime(2025, 3, 1, 12, 0) - datetime(2026, 3, 1, 12, 0)  # meter set a year back
    assert to_measured_at(datetime(2025, 3, 1, 11, 0), offset, UTC) == datetime(2026, 3, 1, 11, 0, tzinfo=UTC)


def test_backoff_is_pure_bounded_and_error_aware() -> None:
    assert [device_backoff_s(n) for n in (1, 2, 3)] == [1.0, 2.0, 4.0]
    assert device_backoff_s(50, cap_s=300) == 300
    assert device_backoff_s(1, DeviceNotFound("x")) > device_backoff_s(1, DeviceConnectionError("x"))
    assert all(0.8 <= backoff_s(1, base_s=1, cap_s=30, jitter=0.2) <= 1.2 for _ in range(50))
    assert backoff_s(30, base_s=1, cap_s=30) == 30
    # ingest's reconnect schedule: 0.5 s doubling to a 30 s cap
    assert [backoff_s(n, base_s=0.5, cap_s=30.0) for n in range(1, 9)] == [0.5, 1, 2, 4, 8, 16, 30, 30]
    with pytest.raises(ValueError):
        device_backoff_s(0)


def test_batch_payload_splices_stored_json() -> None:
    reading = glucose_reading(_glucose(99.0), METER, clock_offset=None, received_at=NOW, local_tz=UTC)
    body = batch_payload("gw-x", [reading.model_dump_json()] * 3, NOW)
    from vitalgate.contract import ReadingBatch

    batch = ReadingBatch.model_validate_json(body)
    assert len(batch.readings) == 3 and batch.readings[0] == reading
