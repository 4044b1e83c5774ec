"""One sync of one registered device: run its profile driver from the cursor, commit to the outbox."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone, tzinfo

import structlog

from contract import DeviceRef
from devices.gatt import GattClient
from devices.profiles.glucose import sync_glucose
from gateway.mapping import glucose_reading
from gateway.outbox import HubStore, RegisteredDevice, dumps
from gateway.timing import host_local_tz

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class SyncOutcome:
    address: str
    fetched: int
    queued: int
    rejected: int


def device_ref(device: RegisteredDevice) -> DeviceRef:
    return DeviceRef(
        serial=device.serial, kind=device.kind, model=device.model,  # type: ignore[arg-type]
        manufacturer=device.manufacturer, address=device.address,
    )


async def sync_glucose_meter(
    client: GattClient,
    store: HubStore,
    device: RegisteredDevice,
    *,
    now: datetime | None = None,
    local_tz: tzinfo | None = None,
) -> SyncOutcome:
    """Fetch records after the cursor and queue them; the cursor moves only with the outbox write."""
    result = await sync_glucose(client, after_sequence=device.cursor_seq)
    received_at = now or datetime.now(timezone.utc)
    ref = device_ref(device)
    tz = local_tz or host_local_tz()
    payloads = []
    unusable = 0
    for record in result.records:
        reading = glucose_reading(record, ref, clock_offset=result.clock_offset, received_at=received_at, local_tz=tz)
        if reading is None:
            unusable += 1
            continue
        payloads.append((str(reading.id), reading.model_dump_json()))
    last_seq = max((r.measurement.sequence_number for r in result.records), default=device.cursor_seq)
    queued = store.commit_sync(device.address, payloads, cursor_seq=last_seq, cursor_time=None, now=received_at)
    rejected = len(getattr(result, "rejected", ())) + unusable
    log.info(
        "gateway.sync_done", device=device.address, kind=device.kind, fetched=len(result.records),
        queued=queued, rejected=rejected, cursor=last_seq,
    )
    return SyncOutcome(device.address, len(result.records), queued, rejected)


__all__ = ["SyncOutcome", "sync_glucose_meter", "dumps"]
