"""Demo data for several rule kinds: rising home BP, a data gap, fasting highs, a visit SOP.

The demo calls `seed_showcase` once, then one scheduler `tick`; every reading goes through
store.readings.write_readings (the ingest write path), so the rules see exactly what ingest stores.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import NAMESPACE_URL, uuid5

import psycopg

from vitalgate.domain import DeviceKind, MeasurementKind
from vitalgate.followup.sop import schedule_sop
from vitalgate.store import people
from vitalgate.store import readings as reading_store

DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Showcase:
    patient_ids: list[int]
    sop_instance_id: int


def _row(serial: str, kind: str, at: datetime, **values: Any) -> tuple[Any, ...]:
    context = values.pop("context", {})
    if not hasattr(reading_store, "STAGING_TYPES"):  # text COPY (older store) takes JSON text
        context = reading_store.to_json(context)
    row = {
        "id": uuid5(NAMESPACE_URL, f"showcase/{serial}/{at.isoformat()}"),
        "device_serial": serial,
        "device_kind": DeviceKind.GLUCOSE_METER if kind == MeasurementKind.GLUCOSE else DeviceKind.BP_CUFF,
        "gateway_id": "gw-showcase",
        "kind": kind,
        "measured_at": at,
        "device_time": at.replace(tzinfo=None),
        "received_at": at,
        "status": [],
        "context": context,
        **values,
    }
    return tuple(row.get(c) for c in reading_store.STAGING_COLUMNS)


async def seed_showcase(conn: psycopg.AsyncConnection, care_team_id: int, run_id: str, now: datetime) -> Showcase:
    """Three patients whose history trips a trend, a missing-data and a consecutive rule at `now`."""
    start = (now - 16 * DAY).replace(minute=0, second=0, microsecond=0)
    rows: list[tuple[Any, ...]] = []
    ids = []
    # D: home BP rising ~14 mmHg/week (mean still < 135): bp-systolic-rising, routine.
    d = await people.create_patient(
        conn, "Demo Patient D", care_team_id, external_ref=f"demo-{run_id}-d", tags=["htn", "program:home-bp"]
    )
    await people.bind_device(conn, f"VGC-{run_id}-d", DeviceKind.BP_CUFF, d, valid_from=start)
    for day in range(15):
        for hour in (7, 19):
            at = start + day * DAY + timedelta(hours=hour)
            rows.append(
                _row(
                    f"VGC-{run_id}-d",
                    MeasurementKind.BLOOD_PRESSURE,
                    at,
                    systolic_mmhg=104.0 + 2.0 * day,
                    diastolic_mmhg=76.0,
                    map_mmhg=85.0,
                    pulse_bpm=68.0,
                )
            )
    # E: measured daily, then silent for the last 4 days: no-reading-3-days, routine.
    e = await people.create_patient(
        conn, "Demo Patient E", care_team_id, external_ref=f"demo-{run_id}-e", tags=["diabetes:t2"]
    )
    await people.bind_device(conn, f"VGM-{run_id}-e", DeviceKind.GLUCOSE_METER, e, valid_from=start)
    for day in range(12):
        rows.append(
            _row(
                f"VGM-{run_id}-e", MeasurementKind.GLUCOSE, start + day * DAY + timedelta(hours=8), glucose_mg_dl=128.0
            )
        )
    # F: three fasting readings > 180 mg/dL on the last three mornings: glucose-fasting-high-3.
    f = await people.create_patient(
        conn, "Demo Patient F", care_team_id, external_ref=f"demo-{run_id}-f", tags=["diabetes:t2"]
    )
    await people.bind_device(conn, f"VGM-{run_id}-f", DeviceKind.GLUCOSE_METER, f, valid_from=start)
    for back, value in ((3, 192.0), (2, 205.0), (1, 188.0)):
        at = (now - back * DAY).replace(hour=7, minute=0, second=0, microsecond=0)
        rows.append(
            _row(f"VGM-{run_id}-f", MeasurementKind.GLUCOSE, at, glucose_mg_dl=value, context={"meal": "fasting"})
        )
    await reading_store.write_readings(conn, rows)
    ids += [d, e, f]
    # A follow-up visit for D in 10 days: the SOP chain's T-7 message fires in 3 days.
    sop = await schedule_sop(
        conn, patient_id=d, anchor_at=(now + 10 * DAY).replace(minute=0, second=0, microsecond=0), now=now
    )
    return Showcase(ids, sop.instance_id)
