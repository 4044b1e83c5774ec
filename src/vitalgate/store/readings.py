"""Readings: batched idempotent writes (COPY to staging, one merge) and the queries over them."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import psycopg
from psycopg.rows import class_row, tuple_row

from vitalgate.store.holds import HeldReading, ReviewReason, TimeWindow, hold_staged_sql
from vitalgate.store.rows import Reading, UnboundDevice

# Columns the ingest path provides, in COPY order, and their types: the COPY is binary (about
# half the cost of text COPY per row, measured), so context must be a dict, not JSON text.
STAGING_TYPES = (
    "uuid",
    "text",
    "text",
    "text",
    "text",
    "text",
    "text",
    "timestamptz",
    "timestamp",
    "timestamptz",
    "int4",
    "float8",
    "float8",
    "float8",
    "float8",
    "float8",
    "text[]",
    "jsonb",
)
STAGING_COLUMNS = (
    "id",
    "device_serial",
    "device_kind",
    "device_model",
    "device_manufacturer",
    "gateway_id",
    "kind",
    "measured_at",
    "device_time",
    "received_at",
    "sequence_number",
    "glucose_mg_dl",
    "systolic_mmhg",
    "diastolic_mmhg",
    "map_mmhg",
    "pulse_bpm",
    "status",
    "context",
)

# What a reading says, as one 64-bit fingerprint (reading_keys.value_hash): the same reading id with
# another fingerprint is a conflicting duplicate. float8::text is the shortest exact form (PG >= 12).
# {p} is the table alias prefix ("s." or "").
VALUE_HASH_SQL = (
    "hashtextextended(concat_ws('|', {p}kind, coalesce({p}glucose_mg_dl::text, '-'),"
    " coalesce({p}systolic_mmhg::text, '-'), coalesce({p}diastolic_mmhg::text, '-'),"
    " coalesce({p}map_mmhg::text, '-'), coalesce({p}pulse_bpm::text, '-')), 0)"
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

# Months present in the batch get their partition first (native path; a no-op with TimescaleDB).
_ENSURE_PARTITIONS = """
SELECT readings_ensure_months(array_agg(DISTINCT date_trunc('month', measured_at, 'UTC'))) FROM readings_staging
"""

# A device's model and manufacturer are filled when missing, never overwritten (a spoofed reading
# once renamed a bound meter); its hub is set once, by the first hub whose reading is stored, unless
# a pairing claim (store.claims) or staff (store.hub_ownership.move_device) set it.
# last_seen_at moves at most once a minute: rewriting every device row on every batch would bloat
# the table and make concurrent ingest processes queue on the same rows. Devices seen within the
# minute are filtered by a plain index probe, cheaper than ON CONFLICT's speculative insert.
# Sorted: stable row-lock order across concurrent writers.
_UPSERT_DEVICES = """
INSERT INTO devices AS d (serial, kind, model, manufacturer, hub_id, hub_since, first_seen_at, last_seen_at)
SELECT s.device_serial, s.device_kind, s.device_model, s.device_manufacturer, s.gateway_id, now(), now(), now()
FROM (SELECT DISTINCT ON (device_serial) device_serial, device_kind, device_model, device_manufacturer, gateway_id
      FROM readings_staging ORDER BY device_serial) s
WHERE NOT EXISTS (
    SELECT 1 FROM devices e
    WHERE e.serial = s.device_serial AND e.last_seen_at >= now() - interval '1 minute' AND e.hub_id IS NOT NULL
      AND (e.model IS NOT NULL OR s.device_model IS NULL)
      AND (e.manufacturer IS NOT NULL OR s.device_manufacturer IS NULL)
)
ORDER BY s.device_serial
ON CONFLICT (serial) DO UPDATE SET last_seen_at = now(),
    model = COALESCE(d.model, EXCLUDED.model),
    manufacturer = COALESCE(d.manufacturer, EXCLUDED.manufacturer),
    hub_since = CASE WHEN d.hub_id IS NULL THEN now() ELSE d.hub_since END,
    hub_id = COALESCE(d.hub_id, EXCLUDED.hub_id)
"""

# One statement: claim the ids in reading_keys (the only unique index on readings' identity, see
# 0002_timeseries.sql for why it cannot live on the partitioned table), then insert exactly the
# claimed rows. The binding valid at the time of measurement decides the patient, so readings of a
# re-assigned device land on the right patient; no binding leaves patient_id NULL (kept, listed by
# unbound_devices). Keys are claimed in id order so concurrent writers lock in the same order.
_MERGE = """
WITH src AS MATERIALIZED (
    SELECT DISTINCT ON (s.id) s.id, b.patient_id, s.device_serial, s.gateway_id, s.kind, s.measured_at,
           s.device_time, s.received_at, s.sequence_number, s.glucose_mg_dl, s.systolic_mmhg, s.diastolic_mmhg,
           s.map_mmhg, s.pulse_bpm, s.status, s.context
    FROM readings_staging s
    LEFT JOIN device_bindings b
           ON b.device_serial = s.device_serial
          AND s.measured_at >= b.valid_from
          AND (b.valid_to IS NULL OR s.measured_at < b.valid_to)
    ORDER BY s.id, b.valid_from DESC
), claimed AS (
    INSERT INTO reading_keys (id, measured_at, value_hash)
    SELECT id, measured_at, {value_hash} FROM src ORDER BY id
    ON CONFLICT (id) DO NOTHING
    RETURNING id
)
INSERT INTO readings (id, patient_id, device_serial, gateway_id, kind, measured_at, device_time, received_at,
                      sequence_number, glucose_mg_dl, systolic_mmhg, diastolic_mmhg, map_mmhg, pulse_bpm,
                      status, context)
SELECT src.* FROM src JOIN claimed USING (id)
RETURNING id, patient_id, kind
""".replace("{value_hash}", VALUE_HASH_SQL.format(p=""))


@dataclass(frozen=True, slots=True)
class StoredReading:
    """What the merge actually inserted (duplicates are not returned)."""

    id: UUID
    patient_id: int | None
    kind: str


async def write_readings(conn: psycopg.AsyncConnection, rows: list[tuple[Any, ...]]) -> list[StoredReading]:
    """COPY rows (in STAGING_COLUMNS order) to staging and merge, holding nothing; caller owns the transaction."""
    return (await write_readings_held(conn, rows, None))[0]


async def write_readings_held(
    conn: psycopg.AsyncConnection, rows: list[tuple[Any, ...]], window: TimeWindow | None
) -> tuple[list[StoredReading], list[HeldReading]]:
    """COPY rows to staging, move those outside `window` or before their binding to the review queue, merge the rest.

    With a window, partitions are created only for months inside it (store.holds). Caller owns the transaction.
    """
    if not rows:
        return [], []
    async with conn.cursor(row_factory=tuple_row) as cur:
        # A second call in the same transaction must not see the first call's rows again.
        await cur.execute(_CREATE_STAGING + "; DELETE FROM readings_staging")
        async with cur.copy(f"COPY readings_staging ({', '.join(STAGING_COLUMNS)}) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(STAGING_TYPES)
            for row in rows:
                await copy.write_row(row)
        # One round trip for the statements (no parameters: simple query protocol), so a busy
        # event loop in the caller cannot leave the server idle between them.
        hold = "" if window is None else hold_staged_sql(window) + ";"
        await cur.execute(f"{hold}{_ENSURE_PARTITIONS};{_UPSERT_DEVICES};{_MERGE}")
        held: list[HeldReading] = []
        if window is not None:
            held = [HeldReading(row[0], ReviewReason(row[1])) for row in await cur.fetchall()]
            cur.nextset()
        cur.nextset()
        cur.nextset()
        inserted = await cur.fetchall()
    return [StoredReading(*row) for row in inserted], held


async def patient_readings(
    conn: psycopg.AsyncConnection,
    patient_id: int,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    kind: str | None = None,
    limit: int = 1000,
) -> list[Reading]:
    """A patient's readings, newest first."""
    async with conn.cursor(row_factory=class_row(Reading)) as cur:
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


# (topic, raw payload, reason)
DeadLetter = tuple[str, bytes, str]

# A dead letter keeps this much of its payload (a 1,000-reading message is ~500 kB; this shows its
# envelope and first ~30 readings) plus the full length and SHA-256, to match it against a hub's copy.
DEAD_LETTER_KEEP_BYTES = 16 * 1024


def _dead_letter_row(topic: str, payload: bytes, reason: str) -> tuple[str, bytes, str, int, bytes]:
    return topic, payload[:DEAD_LETTER_KEEP_BYTES], reason[:2000], len(payload), hashlib.sha256(payload).digest()


_INSERT_DEAD_LETTER = (
    "INSERT INTO dead_letters (topic, payload, reason, payload_bytes, payload_sha256) VALUES (%s, %s, %s, %s, %s)"
)


async def record_dead_letters(conn: psycopg.AsyncConnection, letters: list[DeadLetter]) -> None:
    """Keep bad input for inspection, truncated (one round trip for the whole list)."""
    if not letters:
        return
    async with conn.cursor() as cur:
        await cur.executemany(_INSERT_DEAD_LETTER, [_dead_letter_row(*letter) for letter in letters])


async def record_dead_letter(conn: psycopg.AsyncConnection, topic: str, payload: bytes, reason: str) -> None:
    """Keep bad input for inspection, truncated."""
    await conn.execute(_INSERT_DEAD_LETTER, _dead_letter_row(topic, payload, reason))


async def list_dead_letters(conn: psycopg.AsyncConnection, limit: int = 50) -> list[dict[str, Any]]:
    """Newest dead letters first (payload: the kept prefix; payload_bytes, payload_sha256: of the whole)."""
    async with conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
        await cur.execute(
            "SELECT id, topic, reason, received_at, payload, payload_bytes, payload_sha256"
            " FROM dead_letters ORDER BY id DESC LIMIT %s",
            (limit,),
        )
        return await cur.fetchall()


_CONFLICTS = f"""
SELECT DISTINCT s.id FROM readings_staging s JOIN reading_keys k ON k.id = s.id
WHERE k.value_hash IS NOT NULL AND k.value_hash <> {VALUE_HASH_SQL.format(p="s.")}
"""


async def conflicting_duplicates(conn: psycopg.AsyncConnection) -> set[UUID]:
    """Ids in the last write_readings whose stored reading says something else (same transaction).

    Runs after the merge, in its own snapshot: a key another writer committed meanwhile is seen too.
    """
    async with conn.cursor(row_factory=tuple_row) as cur:
        await cur.execute(_CONFLICTS)
        return {row[0] for row in await cur.fetchall()}


async def unbound_devices(conn: psycopg.AsyncConnection, limit: int = 200) -> list[UnboundDevice]:
    """Devices whose readings are stored without a patient (no binding at measured_at), newest first."""
    async with conn.cursor(row_factory=class_row(UnboundDevice)) as cur:
        await cur.execute(
            """
            SELECT r.device_serial AS serial, d.kind, d.model, d.manufacturer, count(*) AS readings,
                   min(r.measured_at) AS first_measured_at, max(r.measured_at) AS last_measured_at,
                   (array_agg(r.gateway_id ORDER BY r.measured_at DESC))[1] AS last_gateway_id
            FROM readings r LEFT JOIN devices d ON d.serial = r.device_serial
            WHERE r.patient_id IS NULL
            GROUP BY r.device_serial, d.kind, d.model, d.manufacturer
            ORDER BY max(r.measured_at) DESC
            LIMIT %s
            """,
            (limit,),
        )
        return await cur.fetchall()


def to_json(value: Any) -> str:
    """JSON for jsonb columns in COPY."""
    return json.dumps(value, separators=(",", ":"), default=str)
