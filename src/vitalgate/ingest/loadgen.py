"""Synthetic gateway traffic for tests and benchmarks: realistic reading batches as the wire carries them."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from vitalgate.contract import SCHEMA_VERSION, reading_id
from vitalgate.domain import MEASUREMENT_OF_DEVICE, DeviceKind

# What the gateway publisher sends per MQTT message (gateway.publisher.DEFAULT_BATCH_SIZE).
READINGS_PER_MESSAGE = 500


@dataclass(frozen=True, slots=True)
class Device:
    serial: str
    kind: str  # glucose_meter | bp_cuff


def devices(prefix: str, count: int) -> list[Device]:
    """Half glucose meters, half BP cuffs, with opaque serials."""
    return [
        Device(f"{prefix}-{i:05d}", DeviceKind.GLUCOSE_METER if i % 2 == 0 else DeviceKind.BP_CUFF)
        for i in range(count)
    ]


def _values(kind: str, rng: random.Random) -> dict[str, dict[str, object]]:
    if kind == DeviceKind.GLUCOSE_METER:
        # Mostly in range; ~3 % below 70 mg/dL so alert rules have work, as in a real cohort.
        mg_dl = rng.uniform(55, 69) if rng.random() < 0.03 else rng.uniform(75, 240)
        return {"glucose": {"value": round(mg_dl, 1), "unit": "mg/dL"}}
    systolic = rng.uniform(100, 175)
    return {
        "systolic": {"value": round(systolic, 0), "unit": "mm[Hg]"},
        "diastolic": {"value": round(systolic * rng.uniform(0.55, 0.65), 0), "unit": "mm[Hg]"},
        "pulse": {"value": round(rng.uniform(55, 95), 0), "unit": "/min"},
    }


def reading_json(
    device: Device, sequence: int, measured_at: datetime, received_at: datetime, rng: random.Random
) -> dict[str, object]:
    """One reading as the gateway serialises it (device clock = UTC here, so measured_at = device time)."""
    device_time = measured_at.replace(tzinfo=None)
    return {
        "id": str(reading_id(device.serial, sequence, device_time)),
        "device": {"serial": device.serial, "kind": device.kind, "model": "SIM-1", "manufacturer": "VitalGate"},
        "kind": MEASUREMENT_OF_DEVICE[DeviceKind(device.kind)],
        "sequence_number": sequence,
        "values": _values(device.kind, rng),
        "measured_at": measured_at.isoformat(),
        "device_time": device_time.isoformat(),
        "received_at": received_at.isoformat(),
        "status": [],
        "context": {"meal": "fasting"} if device.kind == DeviceKind.GLUCOSE_METER else {},
    }


def batch_payload(gateway_id: str, readings: list[dict[str, object]], sent_at: datetime) -> bytes:
    """A ReadingBatch message body."""
    doc = {
        "schema_version": SCHEMA_VERSION,
        "gateway_id": gateway_id,
        "sent_at": sent_at.isoformat(),
        "readings": readings,
    }
    return json.dumps(doc, separators=(",", ":")).encode()


def payloads(
    gateway_id: str,
    fleet: list[Device],
    total: int,
    *,
    per_message: int = READINGS_PER_MESSAGE,
    days: int = 30,
    seed: int = 1,
    now: datetime | None = None,
) -> list[bytes]:
    """`total` distinct readings from the fleet, spread over the last `days` days, in gateway batches."""
    rng = random.Random(seed)
    now = (now or datetime.now(UTC)).replace(microsecond=0)
    per_device = -(-total // len(fleet))
    step = timedelta(days=days) / max(per_device, 1)
    readings = []
    for n in range(total):
        device = fleet[n % len(fleet)]
        sequence = n // len(fleet)
        measured = now - timedelta(days=days) + step * sequence + timedelta(seconds=n % len(fleet))
        readings.append(reading_json(device, sequence % 65536, measured.replace(microsecond=0), now, rng))
    return [batch_payload(gateway_id, readings[i : i + per_message], now) for i in range(0, total, per_message)]
