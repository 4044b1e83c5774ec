"""Readings: batched idempotent writes (COPY to staging, one merge) and the queries over them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import psycopg

# Columns the ingest path provides, in COPY order.
STAGING_COLUMNS = (
    "id", "device_serial", "device_kind", "device_model", "device_manufacturer", "gateway_id", "kind",
    "measured_at", "device_time", "received_at", "sequence_number", "glucose_mg_dl", "systolic_mmhg",
    "diastolic_mmhg", "map_mmhg", "pulse_bpm", "status", "context",
)

_CREATE_STAGING = """
CREATE TEMP TABLE IF NOT EXISTS readings_staging (
    id uuid, device_serial text, device_kind text, device_model text, device_manufacturer text,
    gateway_id text, kind text, measured_at timestamptz, device_time timestamp, received_at timestamptz,
    sequence_number integer, glucose_mg_dl double precision, systolic_mmhg double precision,
    diastolic_mmhg double precision, map_mmhg double precision, pulse_bpm double precision,
    status text[], context jsonb
) ON COMMIT DELETE ROWS
"""

_UPSERT_DEVICES = """
INSERT INTO devices (serial, kind, model, manufacturer, first_seen_at, last_seen_at)
SELECT DISTINCT ON (device_serial) device_serial, device_kind, device_model, device_manufacturer, now(), now()
FROM readings_staging ORDER BY device_serial
ON CONFLICT (serial) DO UPDATE SET last_seen_at = now(),
    model = COALESCE(EXCLUDED.model, devices.model),
    manufacturer = COALESCE(EXCLUDED.manufacturer, devices.manufacturer)
"""

# The binding valid at the time of measurement decides the patient (re-assigned devices file right).
_MERGE = """
INSERT INTO readings (id, patient_id, device_serial, gateway_id, kind, measured_at, device_time, received_at,
                      sequence_number, glucose_mg_dl, systolic_mmhg, diastolic_mmhg, map_mmhg, pulse_bpm,
                      status, context)
SELECT DISTINCT ON (s.id) s.id, b.patient_id, s.device_serial, s.gateway_id, s.kind, s.measured_at, s.device_time,
       s.received_at, s.sequence_number, s.glucose_mg_dl, s.systolic_mmhg, s.diastolic_mmhg, s.map_mmhg,
       s.pulse_bpm, s.status, s.context
FROM readings_staging s
LEFT JOIN device_bindings b
       ON b.device_serial = s.device_serial
      AND s.measured_at >= b.valid_from
      AND (b.valid_to IS NULL OR s.measured_at < b.valid_to)
ORDER BY s.id
ON CONFLICT (id) DO NOTHING
RETURNING id, patient_id, kind
"""


@dataclass(frozen=True, slots=True)
class StoredReading:
    """What the merge actually inserted (duplicates are not returned)."""

    id: UUID
    patient_id: int | None
    kind: str


async def write_readings(conn: psycopg.AsyncConnection, rows: list[tuple[Any, ...]]) -> list[StoredReading]:
    """COPY rows (in STAGING_COLUMNS order) to staging and merge; caller owns the transaction."""
    if not rows:
        return []
    async with conn.cursor() as cur:
        await cur.execute(_CREATE_STAGING)
        async with cur.copy(f"COPY readings_staging ({', '.join(STAGING_COLUMNS)}) FROM STDIN") as copy:
            for row in rows:
                await copy.write_row(row)
        await cur.execute(_UPSERT_DEVICES)
        await cur.execute(_MERGE)
        inserted = await cur.fetchall()
    return [StoredReading(_get(r, "id", 0), _get(r, "patient_id", 1), _get(r, "kind", 2)) for r in inserted]


def _get(row: Any, key: str, index: int) -> Any:
    return row[key] if isinstance(row, dict) else row[index]


async def patient_readings(
    conn: psycopg.AsyncConnection,
    patient_id: int,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    kind: str | None = None,
    limit: int = 1000,
) -> list[dict[str, Any]]:
    """A patient's readings, newest first."""
    async with conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
        await cur.execute(
            """
            SELECT id, kind, measured_at, device_time, received_at, device_serial, sequence_number,
                   glucose_mg_dl, systolic_mmhg, diastolic_mmhg, map_mmhg, pulse_bpm, status, context
            FROM readings
            WHERE patient_id = %(patient_id)s
              AND (%(since)s::timestamptz IS NULL OR measured_at >= %(since)s)
              AND (%(until)s::timestamptz IS NULL OR measured_at < %(until)s)
              AND (%(kind)s::text IS NULL OR kind = %(kind)s)
            ORDER BY measured_at DESC
            LIMIT %(limit)s
            """,
            {"patient_id": patient_id, "since": since, "until": until, "kind": kind, "limit": limit},
        )
        return await cur.fetchall()


async def record_dead_letter(conn: psycopg.AsyncConnection, topic: str, payload: bytes, reason: str) -> None:
    """Keep bad input for inspection."""
    await conn.execute(
        "INSERT INTO dead_letters (topic, payload, reason) VALUES (%s, %s, %s)", (topic, payload, reason[:2000])
    )


async def list_dead_letters(conn: psycopg.AsyncConnection, limit: int = 50) -> list[dict[str, Any]]:
    """Newest dead letters first."""
    async with conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
        await cur.execute(
            "SELECT id, topic, reason, received_at, payload FROM dead_letters ORDER BY id DESC LIMIT %s", (limit,)
        )
        return await cur.fetchall()


def to_json(value: Any) -> str:
    """JSON for jsonb columns in COPY."""
    return json.dumps(value, separators=(",", ":"), default=str)
