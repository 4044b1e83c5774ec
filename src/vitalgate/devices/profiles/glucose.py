"""Glucose Profile collector: RACP-driven download of stored records over any GattClient."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from vitalgate.devices import racp
from vitalgate.devices.errors import DecodeError
from vitalgate.devices.errors_gatt import DeviceConnectionError, DeviceError, DeviceTimeout, ProcedureError
from vitalgate.devices.gatt import (
    GLUCOSE_MEASUREMENT,
    GLUCOSE_MEASUREMENT_CONTEXT,
    RACP,
    GattClient,
)
from vitalgate.devices.glucose import (
    GlucoseContext,
    GlucoseMeasurement,
    decode_glucose_context,
    decode_glucose_measurement,
)
from vitalgate.devices.profiles.cts import read_clock

__all__ = ["GlucoseRecord", "GlucoseSyncResult", "sync_glucose"]

log = logging.getLogger(__name__)
_POLL = 0.2  # how often to notice a dropped link while waiting for RACP
_ABORT_TIMEOUT = 2.0


@dataclass(frozen=True, slots=True)
class GlucoseRecord:
    """A measurement plus its optional context (matched by sequence number)."""

    measurement: GlucoseMeasurement
    context: GlucoseContext | None = None


@dataclass(frozen=True, slots=True)
class GlucoseSyncResult:
    """Outcome of one glucose download."""

    records: tuple[GlucoseRecord, ...]
    device_time: datetime | None  # meter clock read from 0x2A2B at sync start (naive)
    clock_offset: timedelta | None  # device_time - host local naive time at the same moment
    stored_count: int | None  # records in meter memory (RACP "number of stored records")
    rejected: tuple[tuple[bytes, str], ...] = ()  # raw notification + why it was rejected
    # The meter's last sequence number is below after_sequence (battery change/reset):
    # every stored record was downloaded again and the caller must de-duplicate.
    sequence_reset: bool = False

    @property
    def last_sequence(self) -> int | None:
        """Cursor for the next sync: the number of the newest record sent (memory order, not max)."""
        # After a sequence restart the newest record has a *small* number while older
        # ones keep big numbers, so max() would pin the cursor on the stale series.
        return self.records[-1].measurement.sequence_number if self.records else None


@dataclass(slots=True)
class _Collector:
    """Mutable state fed by notification callbacks during one sync."""

    measurements: list[GlucoseMeasurement] = field(default_factory=list)
    contexts: dict[int, GlucoseContext] = field(default_factory=dict)  # index -> context
    rejected: list[tuple[bytes, str]] = field(default_factory=list)
    racp: asyncio.Queue[bytes] = field(default_factory=asyncio.Queue)

    def on_measurement(self, data: bytes) -> None:
        try:
            self.measurements.append(decode_glucose_measurement(bytes(data)))
        except DecodeError as exc:
            self.rejected.append((bytes(data), f"measurement: {exc}"))

    def on_context(self, data: bytes) -> None:
        try:
            context = decode_glucose_context(bytes(data))
        except DecodeError as exc:
            self.rejected.append((bytes(data), f"context: {exc}"))
            return
        # A context follows its own measurement, so search backwards; searching by
        # position (not a seq->record dict) survives duplicate numbers after a reset.
        for index in range(len(self.measurements) - 1, -1, -1):
            if self.measurements[index].sequence_number == context.sequence_number:
                if index not in self.contexts:
                    self.contexts[index] = context
                    return
                break
        self.rejected.append((bytes(data), f"context without measurement (seq {context.sequence_number})"))

    def records(self, after_sequence: int | None) -> tuple[GlucoseRecord, ...]:
        return tuple(
            GlucoseRecord(m, self.contexts.get(i))
            for i, m in enumerate(self.measurements)
            # Some meters ignore the ">=" operand and dump everything: filter again.
            if after_sequence is None or m.sequence_number > after_sequence
        )

    def reset(self) -> None:
        self.measurements.clear()
        self.contexts.clear()


async def _request(
    client: GattClient, col: _Collector, request: bytes
) -> racp.NumberOfRecordsResponse | racp.ResponseCodeResponse:
    """Write one RACP request and wait (without a deadline of its own) for its response."""
    while not col.racp.empty():  # drop stale indications from an earlier request
        col.racp.get_nowait()
    await client.write(RACP, request)
    while True:
        try:
            raw = await asyncio.wait_for(col.racp.get(), _POLL)
        except TimeoutError:
            if not client.is_connected:
                raise DeviceConnectionError(
                    f"{client.address}: link lost during RACP procedure", address=client.address
                ) from None
            continue
        try:
            return racp.parse_racp_response(raw)
        except DecodeError as exc:
            raise ProcedureError(
                f"{client.address}: malformed RACP response {raw.hex()}: {exc}", address=client.address
            ) from exc


def _check(client: GattClient, response: object, *, allow_empty: bool) -> bool:
    """True on SUCCESS, False on NO_RECORDS_FOUND (if allowed); ProcedureError otherwise."""
    if not isinstance(response, racp.ResponseCodeResponse):
        raise ProcedureError(f"{client.address}: unexpected RACP response {response!r}", address=client.address)
    if response.code == racp.ResponseCode.SUCCESS:
        return True
    if allow_empty and response.code == racp.ResponseCode.NO_RECORDS_FOUND:
        return False
    raise ProcedureError(
        f"{client.address}: RACP request 0x{int(response.request_opcode):02X} failed: {response.name}",
        code=int(response.code),
        code_name=response.name,
        address=client.address,
    )


async def _last_sequence(client: GattClient, col: _Collector) -> int | None:
    """Sequence number of the meter's newest record (RACP 'report last record')."""
    before = len(col.measurements)
    if not _check(client, await _request(client, col, racp.report_last()), allow_empty=True):
        return None
    newest = col.measurements[before:]
    del col.measurements[before:]  # a probe, not part of the download
    for index in [i for i in col.contexts if i >= before]:
        del col.contexts[index]
    return newest[-1].sequence_number if newest else None


async def _sync(client: GattClient, col: _Collector, after_sequence: int | None) -> GlucoseSyncResult:
    available = await client.discover()
    if GLUCOSE_MEASUREMENT not in available or RACP not in available:
        raise DeviceError(
            f"{client.address}: no Glucose Measurement/RACP characteristic",
            advice="This device does not implement the standard Glucose Service; it needs a vendor-specific integration.",
            address=client.address,
        )
    await client.subscribe(GLUCOSE_MEASUREMENT, col.on_measurement)
    if GLUCOSE_MEASUREMENT_CONTEXT in available:
        await client.subscribe(GLUCOSE_MEASUREMENT_CONTEXT, col.on_context)
    await client.subscribe(RACP, col.racp.put_nowait)

    clock = await read_clock(client, available)
    if clock.rejected is not None:  # a bad clock must not block the download
        col.rejected.append(clock.rejected)

    count = await _request(client, col, racp.report_number_all())
    stored_count = count.count if isinstance(count, racp.NumberOfRecordsResponse) else None

    if after_sequence is None:
        request = racp.report_all()
    else:
        # Clamp: 0xFFFF is the largest sequence number; the client-side filter drops it.
        request = racp.report_greater_or_equal(min(after_sequence + 1, 0xFFFF))
    found = _check(client, await _request(client, col, request), allow_empty=True)

    sequence_reset = False
    if after_sequence is not None and not found and stored_count != 0:
        newest = await _last_sequence(client, col)
        if newest is not None and newest < after_sequence:
            log.warning(
                "%s: sequence numbers restarted (%d < %d); re-downloading all", client.address, newest, after_sequence
            )
            sequence_reset = True
            col.reset()
            _check(client, await _request(client, col, racp.report_all()), allow_empty=True)

    return GlucoseSyncResult(
        records=col.records(None if sequence_reset else after_sequence),
        device_time=clock.device_time,
        clock_offset=clock.clock_offset,
        stored_count=stored_count,
        rejected=tuple(col.rejected),
        sequence_reset=sequence_reset,
    )


async def sync_glucose(
    client: GattClient, *, after_sequence: int | None = None, timeout: float = 10.0
) -> GlucoseSyncResult:
    """Download records newer than `after_sequence` (all when None) from a connected, paired meter."""
    col = _Collector()
    try:
        async with asyncio.timeout(timeout):
            return await _sync(client, col, after_sequence)
    except TimeoutError:
        await _abort(client)
        error = DeviceTimeout(
            f"{client.address}: glucose sync did not finish within {timeout:.1f}s", address=client.address
        )
        # Keep what arrived so the gateway can still store it (records are idempotent by seq).
        error.partial = col.records(after_sequence)
        raise error from None


async def _abort(client: GattClient) -> None:
    """Best-effort RACP abort so the meter stops streaming; failures are only logged."""
    if not client.is_connected:
        return
    try:
        await asyncio.wait_for(client.write(RACP, racp.abort()), _ABORT_TIMEOUT)
    except (DeviceError, TimeoutError) as exc:
        log.info("%s: RACP abort failed: %s", client.address, exc)
