"""Reading adherence per patient: reading days in a window (remote-monitoring billing needs 16 of 30)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import psycopg
from psycopg.rows import dict_row

# CMS remote physiologic monitoring (CPT 99454) bills a 30-day period only with device data on
# at least 16 days of it.
REQUIRED_DAYS = 16
WINDOW_DAYS = 30


async def reading_days(
    conn: psycopg.AsyncConnection,
    patient_ids: Sequence[int],
    *,
    now: datetime,
    window_days: int = WINDOW_DAYS,
    required_days: int = REQUIRED_DAYS,
) -> dict[int, dict[str, Any]]:
    """{patient: {reading_days, window_start, window_end, required_days, meets_requirement, last_reading_at}}.

    A reading day is one of the patient's last `window_days` LOCAL calendar dates (today included)
    with any reading, each reading dated in the zone valid when it was measured.
    """
    # Zones are within UTC-12..+14: readings older than window_days + 1 days cannot be in the window.
    scan_from = now - timedelta(days=window_days + 1)
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            """
            WITH p AS (
                SELECT id, tz, ((%(now)s::timestamptz AT TIME ZONE tz)::date - %(window)s + 1) AS first_day
                FROM (SELECT id, patient_zone_at(id, %(now)s) AS tz FROM unnest(%(patients)s::bigint[]) AS u(id)) z
            ),
            -- Each patient's zone spans once (a LATERAL call joined per reading ran once per
            -- reading: 1.4 s for a CGM patient's 30 days), MATERIALIZED so it stays computed once.
            spans AS MATERIALIZED (
                SELECT p.id, s.time_zone, s.valid_from, s.valid_to FROM p, LATERAL patient_zone_spans_of(p.id) s
                WHERE s.valid_to > %(scan)s
            ),
            days AS (
                SELECT r.patient_id, (r.measured_at AT TIME ZONE s.time_zone)::date AS day, max(r.measured_at) AS last_at
                FROM readings r
                JOIN spans s ON s.id = r.patient_id AND r.measured_at >= s.valid_from AND r.measured_at < s.valid_to
                WHERE r.patient_id = ANY(%(patients)s::bigint[]) AND r.measured_at >= %(scan)s AND r.measured_at <= %(now)s
                GROUP BY 1, 2
            )
            SELECT p.id AS patient_id, (p.first_day::timestamp AT TIME ZONE p.tz) AS window_start,
                   count(d.day) FILTER (WHERE d.day >= p.first_day) AS days,
                   max(d.last_at) AS last_reading_at
            FROM p LEFT JOIN days d ON d.patient_id = p.id
            GROUP BY p.id, p.tz, p.first_day
            """,
            {"patients": list(patient_ids), "scan": scan_from, "now": now, "window": window_days},
        )
        rows = await cur.fetchall()
    return {
        int(r["patient_id"]): {
            "reading_days": int(r["days"]),
            "window_start": r["window_start"],
            "window_end": now,
            "required_days": required_days,
            "meets_requirement": int(r["days"]) >= required_days,
            "last_reading_at": r["last_reading_at"],
        }
        for r in rows
    }
