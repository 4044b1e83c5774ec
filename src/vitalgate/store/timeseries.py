"""Chart and overview queries over readings; the same functions on the TimescaleDB and native paths."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
from psycopg.rows import dict_row, tuple_row

from vitalgate.store.db import scalar

# Bucket origin: a Monday at midnight UTC, TimescaleDB time_bucket's default, so weekly buckets
# fall on the same boundaries whichever path ran.
BUCKET_ORIGIN = "2000-01-03 00:00:00+00"

# Buckets are cut on the patient's wall clock (a "1 day" bucket is a local day, 6 h buckets start
# at local 00/06/12/18), in the zone valid at each reading, and reported as the bucket's instant.
_SERIES = """
SELECT {bucket} AT TIME ZONE s.time_zone AS bucket, kind, count(*) AS n,
       avg(glucose_mg_dl) AS glucose_mean, min(glucose_mg_dl) AS glucose_min, max(glucose_mg_dl) AS glucose_max,
       avg(systolic_mmhg) AS systolic_mean, min(systolic_mmhg) AS systolic_min, max(systolic_mmhg) AS systolic_max,
       avg(diastolic_mmhg) AS diastolic_mean, avg(pulse_bpm) AS pulse_mean
FROM readings r
JOIN patient_zone_spans_of(%(patient)s) s ON r.measured_at >= s.valid_from AND r.measured_at < s.valid_to
WHERE patient_id = %(patient)s AND measured_at >= %(start)s AND measured_at < %(end)s
  AND (%(kind)s::text IS NULL OR kind = %(kind)s)
GROUP BY {bucket}, s.time_zone, kind
ORDER BY 1, 2
"""
_LOCAL = "(r.measured_at AT TIME ZONE s.time_zone)"
_TIME_BUCKET = f"time_bucket(%(bucket)s::interval, {_LOCAL}, timestamp '{BUCKET_ORIGIN[:19]}')"
_DATE_BIN = f"date_bin(%(bucket)s::interval, {_LOCAL}, timestamp '{BUCKET_ORIGIN[:19]}')"

# readings_daily is a continuous aggregate (TimescaleDB) or a trigger-maintained table (native);
# both hold sums so that means and the sample standard deviation are computed here alike.
_DAILY = """
SELECT day, kind, n,
       glucose_sum / NULLIF(glucose_n, 0) AS glucose_mean,
       sqrt(GREATEST(glucose_sumsq - glucose_sum * glucose_sum / glucose_n, 0) / NULLIF(glucose_n - 1, 0)) AS glucose_sd,
       glucose_min, glucose_max,
       systolic_sum / n AS systolic_mean, systolic_min, systolic_max,
       diastolic_sum / n AS diastolic_mean, diastolic_min, diastolic_max,
       pulse_sum / NULLIF(pulse_n, 0) AS pulse_mean
FROM readings_daily
WHERE patient_id = %(patient)s AND day >= %(start)s::date AND day < %(end)s::date
  AND (%(kind)s::text IS NULL OR kind = %(kind)s)
ORDER BY day, kind
"""

# Whole-day buckets (1d, 7d: a year's chart) read readings_daily instead of every reading: local
# days wholly inside the window come from the rollup (min/max kept, so a short low still shows),
# the partial first and last local days from the raw readings, so the counts and extremes equal
# _SERIES's. A rollup day is reported in the zone valid at its noon UTC; a reading in the zone valid
# when measured (they differ only on the day a patient changed zone).
_SERIES_FROM_DAILY = """
WITH s AS (SELECT * FROM patient_zone_spans_of(%(patient)s)),
days AS (
    SELECT d.day, s.time_zone, d.kind, d.n, d.glucose_n, d.glucose_sum, d.glucose_min, d.glucose_max,
           d.systolic_sum, d.systolic_min, d.systolic_max, d.diastolic_sum, d.pulse_n, d.pulse_sum
    FROM readings_daily d, s
    WHERE d.patient_id = %(patient)s AND d.day >= %(lo)s AND d.day < %(hi)s
      AND (%(kind)s::text IS NULL OR d.kind = %(kind)s)
      AND (d.day + time '12:00') AT TIME ZONE 'UTC' >= s.valid_from
      AND (d.day + time '12:00') AT TIME ZONE 'UTC' < s.valid_to
    UNION ALL
    SELECT (r.measured_at AT TIME ZONE s.time_zone)::date, s.time_zone, r.kind, count(*), count(glucose_mg_dl),
           sum(glucose_mg_dl), min(glucose_mg_dl), max(glucose_mg_dl),
           sum(systolic_mmhg), min(systolic_mmhg), max(systolic_mmhg), sum(diastolic_mmhg),
           count(pulse_bpm), sum(pulse_bpm)
    FROM readings r
    JOIN s ON r.measured_at >= s.valid_from AND r.measured_at < s.valid_to
    WHERE r.patient_id = %(patient)s AND r.measured_at >= %(start)s AND r.measured_at < %(end)s
      AND (%(kind)s::text IS NULL OR r.kind = %(kind)s)
      AND (r.measured_at < %(raw_before)s OR r.measured_at >= %(raw_after)s)
      AND NOT ((r.measured_at AT TIME ZONE s.time_zone)::date >= %(lo)s
               AND (r.measured_at AT TIME ZONE s.time_zone)::date < %(hi)s)
    GROUP BY 1, 2, 3
)
SELECT date_bin(%(bucket)s::interval, day::timestamp, timestamp '{origin}') AT TIME ZONE time_zone AS bucket,
       kind, sum(n)::bigint AS n,
       sum(glucose_sum) / NULLIF(sum(glucose_n), 0) AS glucose_mean,
       min(glucose_min) AS glucose_min, max(glucose_max) AS glucose_max,
       sum(systolic_sum) / sum(n) AS systolic_mean, min(systolic_min) AS systolic_min,
       max(systolic_max) AS systolic_max, sum(diastolic_sum) / sum(n) AS diastolic_mean,
       sum(pulse_sum) / NULLIF(sum(pulse_n), 0) AS pulse_mean
FROM days
GROUP BY date_bin(%(bucket)s::interval, day::timestamp, timestamp '{origin}'), time_zone, kind
ORDER BY 1, 2
""".format(origin=BUCKET_ORIGIN[:19])

# Buckets of whole quarter hours (15 min to 6 h: charts of a week to three months) read
# readings_quarter_hourly (UTC quarters; every zone's offset is a multiple of 15 minutes, so a local
# bucket is a union of them); the partial quarters at the window's edges come from raw readings.
_SERIES_FROM_QUARTERS = """
WITH s AS (SELECT * FROM patient_zone_spans_of(%(patient)s)),
parts AS (
    SELECT r.bucket AS at, r.kind, r.n, r.glucose_n, r.glucose_sum, r.glucose_min, r.glucose_max,
           r.systolic_sum, r.systolic_min, r.systolic_max, r.diastolic_sum, r.pulse_n, r.pulse_sum
    FROM readings_quarter_hourly r
    WHERE r.patient_id = %(patient)s AND r.bucket >= %(lo)s AND r.bucket < %(hi)s
      AND (%(kind)s::text IS NULL OR r.kind = %(kind)s)
    UNION ALL
    SELECT r.measured_at, r.kind, 1, (r.glucose_mg_dl IS NOT NULL)::int, r.glucose_mg_dl, r.glucose_mg_dl,
           r.glucose_mg_dl, r.systolic_mmhg, r.systolic_mmhg, r.systolic_mmhg, r.diastolic_mmhg,
           (r.pulse_bpm IS NOT NULL)::int, r.pulse_bpm
    FROM readings r
    WHERE r.patient_id = %(patient)s AND r.measured_at >= %(start)s AND r.measured_at < %(end)s
      AND (%(kind)s::text IS NULL OR r.kind = %(kind)s)
      AND (r.measured_at < %(lo)s OR r.measured_at >= %(hi)s)
)
SELECT date_bin(%(bucket)s::interval, p.at AT TIME ZONE s.time_zone, timestamp '{origin}') AT TIME ZONE s.time_zone
           AS bucket,
       p.kind, sum(p.n)::bigint AS n,
       sum(p.glucose_sum) / NULLIF(sum(p.glucose_n), 0) AS glucose_mean,
       min(p.glucose_min) AS glucose_min, max(p.glucose_max) AS glucose_max,
       sum(p.systolic_sum) / sum(p.n) AS systolic_mean, min(p.systolic_min) AS systolic_min,
       max(p.systolic_max) AS systolic_max, sum(p.diastolic_sum) / sum(p.n) AS diastolic_mean,
       sum(p.pulse_sum) / NULLIF(sum(p.pulse_n), 0) AS pulse_mean
FROM parts p JOIN s ON p.at >= s.valid_from AND p.at < s.valid_to
GROUP BY date_bin(%(bucket)s::interval, p.at AT TIME ZONE s.time_zone, timestamp '{origin}'), s.time_zone, p.kind
ORDER BY 1, 2
""".format(origin=BUCKET_ORIGIN[:19])

# One index probe per (patient, kind) on readings_patient_time_idx, however long the history.
_LATEST = """
SELECT p.patient_id, r.id, k.kind, r.measured_at, r.device_serial, r.glucose_mg_dl, r.systolic_mmhg,
       r.diastolic_mmhg, r.map_mmhg, r.pulse_bpm, r.status, r.context
FROM unnest(%(patients)s::bigint[]) AS p(patient_id)
CROSS JOIN (VALUES ('glucose'), ('blood_pressure')) AS k(kind)
CROSS JOIN LATERAL (
    SELECT * FROM readings r
    WHERE r.patient_id = p.patient_id AND r.kind = k.kind
    ORDER BY r.measured_at DESC LIMIT 1
) r
ORDER BY p.patient_id, k.kind
"""


async def timeseries_backend(conn: psycopg.AsyncConnection) -> str:
    """'timescaledb' or 'native': the path `vitalgate db upgrade` chose for this database."""
    backend = await scalar(conn, "SELECT timeseries FROM store_backend")
    if backend is None:
        raise LookupError("store_backend is empty: run `vitalgate db upgrade`")
    return str(backend)


async def patient_series(
    conn: psycopg.AsyncConnection,
    patient_id: int,
    start: datetime,
    end: datetime,
    bucket: timedelta,
    *,
    kind: str | None = None,
) -> list[dict[str, Any]]:
    """A patient's readings in [start, end) per time bucket and kind: count, mean/min/max in stored units."""
    if bucket <= timedelta(0):
        raise ValueError("bucket must be a positive duration")
    params: dict[str, Any] = {"patient": patient_id, "start": start, "end": end, "bucket": bucket, "kind": kind}
    # The rollup bounds are constants of the query, so the planner turns them into index ranges.
    if bucket % timedelta(days=1) == timedelta(0):
        sql = _SERIES_FROM_DAILY
        days = await _whole_local_days(conn, patient_id, start, end)
        if days is None:
            return []  # no such patient
        params.update(days)
    elif bucket % _QUARTER == timedelta(0):
        sql = _SERIES_FROM_QUARTERS
        lo = _ORIGIN + (start - _ORIGIN) // _QUARTER * _QUARTER
        params.update(lo=lo if lo == start else lo + _QUARTER, hi=_ORIGIN + (end - _ORIGIN) // _QUARTER * _QUARTER)
    else:
        expr = _TIME_BUCKET if await timeseries_backend(conn) == "timescaledb" else _DATE_BIN
        sql = _SERIES.format(bucket=expr)
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(sql, params)
        return await cur.fetchall()


_QUARTER = timedelta(minutes=15)
_ORIGIN = datetime.fromisoformat(BUCKET_ORIGIN)


async def _whole_local_days(
    conn: psycopg.AsyncConnection, patient_id: int, start: datetime, end: datetime
) -> dict[str, Any] | None:
    """[lo, hi): the patient's local days wholly inside [start, end); raw readings before/after are the edges."""
    async with conn.cursor(row_factory=tuple_row) as cur:
        await cur.execute(
            "SELECT patient_zone_at(%(p)s, %(s)s), patient_zone_at(%(p)s, %(e)s)",
            {"p": patient_id, "s": start, "e": end},
        )
        zones = await cur.fetchone()
    if zones is None or None in zones:
        return None
    lo = start.astimezone(ZoneInfo(zones[0])).date() + timedelta(days=1)
    hi = end.astimezone(ZoneInfo(zones[1])).date()
    # Zones lie within UTC-12..+14, so a day outside [lo, hi) ends or starts within a day of these instants.
    return {
        "lo": lo,
        "hi": hi,
        "raw_before": datetime.combine(lo + timedelta(days=1), time(), UTC),
        "raw_after": datetime.combine(hi - timedelta(days=1), time(), UTC),
    }


async def daily_stats(
    conn: psycopg.AsyncConnection,
    patient_id: int,
    start: date,
    end: date,
    *,
    kind: str | None = None,
) -> list[dict[str, Any]]:
    """Per patient-LOCAL day in [start, end) and kind: count, glucose mean/sd/min/max (mg/dL), BP (mmHg), pulse.

    `day` is the patient's local date, in the zone valid when each reading was measured.
    """
    if isinstance(start, datetime) or isinstance(end, datetime):
        raise TypeError("daily_stats takes the patient's local dates, not instants")
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(_DAILY, {"patient": patient_id, "start": start, "end": end, "kind": kind})
        return await cur.fetchall()


async def latest_readings(conn: psycopg.AsyncConnection, patient_ids: Sequence[int]) -> list[dict[str, Any]]:
    """The newest reading of each kind for each of the given patients (patients without any are absent)."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(_LATEST, {"patients": list(patient_ids)})
        return await cur.fetchall()
