"""Per-patient glucose/BP aggregates, daily profile and raw series (bucketed series: store.timeseries)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row

from vitalgate.store.targets import STANDARD, GlucoseTargets

# Time-in-range bands in mg/dL from the patient's targets (store.targets; the consensus default,
# Battelino et al., Diabetes Care 2019: very low < 54, low 54–69, in range 70–180, high 181–250,
# very high > 250). A preset without a level-2 high (pregnancy) counts everything above range as high.
_GLUCOSE_STATS = """
SELECT count(*) AS n,
       avg(glucose_mg_dl) AS mean,
       stddev_samp(glucose_mg_dl) AS sd,
       count(*) FILTER (WHERE glucose_mg_dl < %(vl)s) AS very_low,
       count(*) FILTER (WHERE glucose_mg_dl >= %(vl)s AND glucose_mg_dl < %(lo)s) AS low,
       count(*) FILTER (WHERE glucose_mg_dl >= %(lo)s AND glucose_mg_dl <= %(hi)s) AS in_range,
       count(*) FILTER (WHERE glucose_mg_dl > %(hi)s AND (%(vh)s::float8 IS NULL OR glucose_mg_dl <= %(vh)s)) AS high,
       count(*) FILTER (WHERE glucose_mg_dl > %(vh)s::float8) AS very_high,
       min(glucose_mg_dl) AS lowest, max(glucose_mg_dl) AS highest,
       count(DISTINCT (measured_at AT TIME ZONE %(tz)s)::date) AS days_with_data,
       count(DISTINCT floor(extract(epoch FROM measured_at) / 900)) AS quarter_hours_with_data,
       min(measured_at) AS first_at, max(measured_at) AS last_at
FROM readings
WHERE patient_id = %(p)s AND kind = 'glucose' AND glucose_mg_dl IS NOT NULL
  AND measured_at >= %(since)s AND measured_at < %(until)s
"""

_BP_STATS = """
SELECT count(*) AS n, avg(systolic_mmhg) AS systolic, avg(diastolic_mmhg) AS diastolic, avg(pulse_bpm) AS pulse,
       min(measured_at) AS first_at, max(measured_at) AS last_at
FROM readings
WHERE patient_id = %(p)s AND kind = 'blood_pressure' AND measured_at >= %(since)s AND measured_at < %(until)s
"""


# AGP-style daily profile: percentiles of glucose by hour of the patient's local day over the
# window, each reading in the zone valid when it was measured (or in one zone the viewer asks for).
_DAILY_PROFILE = """
SELECT extract(hour FROM measured_at AT TIME ZONE coalesce(%(tz)s::text, s.time_zone))::int AS hour, count(*) AS n,
       percentile_cont(ARRAY[0.05, 0.25, 0.5, 0.75, 0.95]) WITHIN GROUP (ORDER BY glucose_mg_dl) AS p
FROM readings r
JOIN patient_zone_spans_of(%(p)s) s ON r.measured_at >= s.valid_from AND r.measured_at < s.valid_to
WHERE patient_id = %(p)s AND kind = 'glucose' AND glucose_mg_dl IS NOT NULL
  AND measured_at >= %(since)s AND measured_at < %(until)s
GROUP BY 1 ORDER BY 1
"""


# Meter readings summarised by the meal context the meter recorded (Glucose Measurement Context:
# fasting, preprandial, postprandial, bedtime, casual); readings without one are 'unspecified'.
_MEAL_SLOTS = """
SELECT coalesce(context->>'meal', 'unspecified') AS slot, count(*) AS n,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY glucose_mg_dl) AS median,
       min(glucose_mg_dl) AS lowest, max(glucose_mg_dl) AS highest
FROM readings
WHERE patient_id = %(p)s AND kind = 'glucose' AND glucose_mg_dl IS NOT NULL
  AND measured_at >= %(since)s AND measured_at < %(until)s
GROUP BY 1 ORDER BY 1
"""


_SERIES_RAW = """
SELECT measured_at AS bucket, 1 AS n, glucose_mg_dl AS glucose_mean, glucose_mg_dl AS glucose_min,
       glucose_mg_dl AS glucose_max, systolic_mmhg AS systolic_mean, diastolic_mmhg AS diastolic_mean,
       pulse_bpm AS pulse_mean
FROM readings
WHERE patient_id = %(p)s AND kind = %(kind)s AND measured_at >= %(since)s AND measured_at < %(until)s
ORDER BY measured_at LIMIT %(limit)s
"""


async def _one(conn: psycopg.AsyncConnection, sql: str, params: dict[str, Any]) -> dict[str, Any]:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(sql, params)
        row = await cur.fetchone()
    assert row is not None
    return row


async def _all(conn: psycopg.AsyncConnection, sql: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(sql, params)
        return await cur.fetchall()


async def glucose_stats(
    conn: psycopg.AsyncConnection,
    patient_id: int,
    since: datetime,
    until: datetime,
    tz: str = "UTC",
    targets: GlucoseTargets = STANDARD,
) -> dict[str, Any]:
    """Raw glucose aggregates for a window: count, mean, sd, band counts (by the patient's `targets`),
    lowest/highest, local days with data (in zone `tz`) and 15-minute slots with data (CGM coverage)."""
    bounds = {
        "vl": targets.very_low_mg_dl,
        "lo": targets.range_low_mg_dl,
        "hi": targets.range_high_mg_dl,
        "vh": targets.very_high_mg_dl,
    }
    return await _one(conn, _GLUCOSE_STATS, {"p": patient_id, "since": since, "until": until, "tz": tz, **bounds})


async def bp_stats(conn: psycopg.AsyncConnection, patient_id: int, since: datetime, until: datetime) -> dict[str, Any]:
    """Mean systolic/diastolic/pulse over a window."""
    return await _one(conn, _BP_STATS, {"p": patient_id, "since": since, "until": until})


async def daily_profile(
    conn: psycopg.AsyncConnection, patient_id: int, since: datetime, until: datetime, tz: str | None = None
) -> list[dict[str, Any]]:
    """Glucose 5/25/50/75/95th percentiles by local hour of day (tz None: the patient's zone history)."""
    return await _all(conn, _DAILY_PROFILE, {"p": patient_id, "since": since, "until": until, "tz": tz})


async def meal_slots(
    conn: psycopg.AsyncConnection, patient_id: int, since: datetime, until: datetime
) -> list[dict[str, Any]]:
    """Glucose count, median, lowest and highest by meal context over a window."""
    return await _all(conn, _MEAL_SLOTS, {"p": patient_id, "since": since, "until": until})


async def raw_series(
    conn: psycopg.AsyncConnection, patient_id: int, kind: str, since: datetime, until: datetime, *, limit: int = 20_000
) -> list[dict[str, Any]]:
    """Single readings of one kind in a window, oldest first, shaped like store.timeseries buckets (n = 1)."""
    return await _all(
        conn, _SERIES_RAW, {"p": patient_id, "kind": kind, "since": since, "until": until, "limit": limit}
    )
