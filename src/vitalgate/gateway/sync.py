"""One sync of one registered device: run its profile driver from the cursor, commit to the outbox.

Meters: the cursor is the (sequence number, base time) of the newest record seen. A sync first
asks the meter for its newest record (RACP "report last"): if that is the cursor, there is
nothing to fetch. Otherwise it downloads from the cursor's own number, so the cursor record comes
back as an anchor, and takes the records after it. The meter's counter restarted (battery
change, reset) when the anchor is missing, when a number at or below the cursor follows it in
memory, or when the download does not end at the newest record: then the whole memory is fetched
again and the hub's known-id table keeps only what is new, in the meter's memory order.
Cuffs have no sequence numbers: the cursor is the newest timestamp on the cuff's clock; if the
cuff clock now reads earlier than the cursor (clock reset) every record is taken again.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo

import structlog

from vitalgate.contract import DeviceRef
from vitalgate.devices.errors_gatt import DeviceTimeout
from vitalgate.devices.gatt import GattClient
from vitalgate.devices.glucose import GlucoseMeasurement
from vitalgate.devices.profiles.bp import sync_blood_pressure
from vitalgate.devices.profiles.glucose import GlucoseRecord, sync_glucose
from vitalgate.domain import DeviceKind
from vitalgate.gateway.mapping import Unusable, bp_reading, glucose_reading
from vitalgate.gateway.meter_probe import SharedSubscriptions, newest_record
from vitalgate.gateway.outbox import HubStore, RegisteredDevice, dumps
from vitalgate.gateway.timing import DEFAULT_MAX_CLOCK_SKEW_HOURS, device_local_time, host_local_tz, place_records

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class SyncOutcome:
    address: str
    fetched: int
    queued: int
    rejected: int
    restarted: bool = False


def device_ref(device: RegisteredDevice) -> DeviceRef:
    return DeviceRef(
        serial=device.serial,
        kind=device.kind,
        model=device.model,
        manufacturer=device.manufacturer,
        address=device.address,
    )


def _after_anchor(
    records: Sequence[GlucoseRecord], device: RegisteredDevice, newest: GlucoseMeasurement | None
) -> list[GlucoseRecord] | None:
    """Records after the cursor record, or None when the memory no longer fits the cursor (restart)."""
    anchor = next(
        (
            i
            for i, r in enumerate(records)
            if r.measurement.sequence_number == device.cursor_seq and r.measurement.base_time == device.cursor_time
        ),
        None,
    )
    if anchor is None:
        return None  # the cursor record is gone or its number now belongs to another record
    fresh = list(records[anchor + 1 :])
    if any(r.measurement.sequence_number <= (device.cursor_seq or 0) for r in fresh):
        return None  # numbers at or below the cursor after it in memory: the counter restarted
    last = records[-1].measurement
    if newest is not None and (newest.sequence_number, newest.base_time) != (last.sequence_number, last.base_time):
        return None  # the meter's newest record was not in the download (restarted below the cursor)
    return fresh


def _raw_rejects(rejected: Iterable[tuple[bytes, str]]) -> list[tuple[str, str]]:
    return [(reason, raw.hex()) for raw, reason in rejected]


async def sync_glucose_meter(
    client: GattClient,
    store: HubStore,
    device: RegisteredDevice,
    *,
    now: datetime | None = None,
    local_tz: tzinfo | None = None,
    timeout: float = 120.0,
    max_clock_skew_hours: float = DEFAULT_MAX_CLOCK_SKEW_HOURS,
) -> SyncOutcome:
    """Fetch records after the cursor and queue new ones; the cursor moves only with the outbox write."""
    shared = SharedSubscriptions(client)
    anchored = device.cursor_seq is not None and device.cursor_time is not None
    restarted = False
    try:
        if not anchored:
            # First sync (or a step-1 cursor without base time): plain driver semantics.
            result = await sync_glucose(shared, after_sequence=device.cursor_seq, timeout=timeout)
            records, restarted = list(result.records), result.sequence_reset
        else:
            probe = await newest_record(shared, timeout=timeout)
            newest = probe.measurement  # None if it did not decode: then only the anchor checks apply
            if probe.empty or (
                newest and (newest.sequence_number, newest.base_time) == (device.cursor_seq, device.cursor_time)
            ):
                return _commit_glucose(store, device, [], None, [], now, local_tz)
            # Ask from the cursor's own number so the cursor record comes back as the anchor.
            after = device.cursor_seq - 1 if device.cursor_seq else None
            result = await sync_glucose(shared, after_sequence=after, timeout=timeout)
            fresh = None if result.sequence_reset else _after_anchor(result.records, device, newest)
            if fresh is None:
                restarted = True
                log.warning("gateway.sequence_restart", device=device.address, cursor=device.cursor_seq)
                if not result.sequence_reset:
                    result = await sync_glucose(shared, after_sequence=None, timeout=timeout)
                fresh = list(result.records)  # everything, in memory order; known ids are skipped
            records = fresh
    except DeviceTimeout as exc:
        # Keep what arrived (in order) before the meter went quiet, when it continues the cursor.
        partial = list(getattr(exc, "partial", ()))
        if partial and not anchored:
            _commit_glucose(store, device, partial, None, [], now, local_tz)
        raise
    finally:
        shared.release()
    return _commit_glucose(
        store, device, records, result.clock_offset, result.rejected, now, local_tz, restarted, max_clock_skew_hours
    )


def _commit_glucose(
    store: HubStore,
    device: RegisteredDevice,
    records: Sequence[GlucoseRecord],
    clock_offset: timedelta | None,
    rejected: Iterable[tuple[bytes, str]],
    now: datetime | None,
    local_tz: tzinfo | None,
    restarted: bool = False,
    max_skew_hours: float = DEFAULT_MAX_CLOCK_SKEW_HOURS,
) -> SyncOutcome:
    received_at = now or datetime.now(UTC)
    ref, tz = device_ref(device), local_tz or host_local_tz()
    payloads, rejects = [], _raw_rejects(rejected)
    times = [device_local_time(r.measurement.base_time, r.measurement.time_offset_minutes) for r in records]
    placement = place_records(times, clock_offset, received_at, tz, max_skew_hours)
    if placement.measured_at is not None:
        log.warning("gateway.clock_unusable", device=device.address, offset=str(clock_offset), records=len(records))
    for i, record in enumerate(records):
        try:
            reading = glucose_reading(
                record,
                ref,
                clock_offset=clock_offset,
                received_at=received_at,
                local_tz=tz,
                placed_at=placement.measured_at[i] if placement.measured_at else None,
                time_uncertain=placement.uncertain,
            )
        except Unusable as exc:
            rejects.append((f"seq {record.measurement.sequence_number}: {exc}", ""))
            continue
        payloads.append((str(reading.id), reading.model_dump_json()))
    # Memory order: the last record is the newest, even when its number restarted lower.
    newest = records[-1].measurement if records else None
    queued = store.commit_sync(
        device.address,
        payloads,
        now=received_at,
        rejected=rejects,
        cursor_seq=newest.sequence_number if newest else None,
        cursor_time=newest.base_time if newest else None,
    )
    log.info(
        "gateway.sync_done",
        device=device.address,
        kind=device.kind,
        fetched=len(records),
        queued=queued,
        rejected=len(rejects),
        cursor=newest.sequence_number if newest else device.cursor_seq,
        restarted=restarted,
    )
    return SyncOutcome(device.address, len(records), queued, len(rejects), restarted)


async def sync_bp_cuff(
    client: GattClient,
    store: HubStore,
    device: RegisteredDevice,
    *,
    now: datetime | None = None,
    local_tz: tzinfo | None = None,
    timeout: float = 120.0,
    quiet_period: float = 2.0,
    max_clock_skew_hours: float = DEFAULT_MAX_CLOCK_SKEW_HOURS,
) -> SyncOutcome:
    """Take the cuff's dump after the cursor timestamp and queue new readings."""
    shared = SharedSubscriptions(client)
    try:
        result = await sync_blood_pressure(shared, since=None, quiet_period=quiet_period, timeout=timeout)
    finally:
        shared.release()
    records = result.records
    cursor = device.cursor_time
    clock_reset = cursor is not None and result.device_time is not None and result.device_time < cursor
    if cursor is not None and not clock_reset:
        # Same-second records share an id anyway; `>=` keeps them for the known-id check.
        records = tuple(m for m in records if m.timestamp is None or m.timestamp >= cursor)
    received_at = now or datetime.now(UTC)
    ref, tz = device_ref(device), local_tz or host_local_tz()
    payloads, rejects = [], _raw_rejects(result.rejected)
    stamped = [m.timestamp for m in records if m.timestamp is not None]
    placement = place_records(stamped, result.clock_offset, received_at, tz, max_clock_skew_hours)
    placed = iter(placement.measured_at or [])
    for m in records:
        try:
            at = next(placed, None) if m.timestamp is not None else None
            reading = bp_reading(
                m,
                ref,
                clock_offset=result.clock_offset,
                received_at=received_at,
                local_tz=tz,
                placed_at=at,
                time_uncertain=placement.uncertain or m.timestamp is None,
            )
        except Unusable as exc:
            rejects.append((str(exc), ""))
            continue
        payloads.append((str(reading.id), reading.model_dump_json()))
    stamps = [m.timestamp for m in records if m.timestamp is not None]
    newest = max(stamps) if stamps else None
    if clock_reset:
        log.warning("gateway.cuff_clock_reset", device=device.address)
    queued = store.commit_sync(
        device.address, payloads, cursor_seq=None, cursor_time=newest, now=received_at, rejected=rejects
    )
    log.info(
        "gateway.sync_done",
        device=device.address,
        kind=device.kind,
        fetched=len(records),
        queued=queued,
        rejected=len(rejects),
    )
    return SyncOutcome(device.address, len(records), queued, len(rejects), clock_reset)


async def sync_device(
    client: GattClient,
    store: HubStore,
    device: RegisteredDevice,
    *,
    timeout: float = 120.0,
    max_clock_skew_hours: float = DEFAULT_MAX_CLOCK_SKEW_HOURS,
) -> SyncOutcome:
    """Dispatch on the registered kind (an explicit table, no discovery by name)."""
    if device.kind == DeviceKind.GLUCOSE_METER:
        return await sync_glucose_meter(
            client, store, device, timeout=timeout, max_clock_skew_hours=max_clock_skew_hours
        )
    if device.kind == DeviceKind.BP_CUFF:
        return await sync_bp_cuff(client, store, device, timeout=timeout, max_clock_skew_hours=max_clock_skew_hours)
    raise ValueError(f"unknown device kind {device.kind!r}")


__all__ = ["SyncOutcome", "device_ref", "dumps", "sync_bp_cuff", "sync_device", "sync_glucose_meter"]
