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

    A reading day is a UTC calendar-length slice of the window ending at `now` with any reading.
    """
    since = now - timedelta(days=window_days)
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            """
            SELECT p.id AS patient_id,
                   count(DISTINCT floor(extract(epoch FROM r.measured_at - %(since)s) / 86400)) AS days,
                   max(r.measured_at) AS last_reading_at
            FROM unnest(%(patients)s::bigint[]) AS p(id)
            LEFT JOIN readings r ON r.patient_id = p.id AND r.measured_at >= %(since)s AND r.measured_at <= %(now)s
            GROUP BY p.id
            """,
            {"patients": list(patient_ids), "since": since, "now": now},
        )
        rows = await cur.fetchall()
    return {
        int(r["patient_id"]): {
            "reading_days": int(r["days"]),
            "window_start": since,
            "window_end": now,
            "required_days": required_days,
            "meets_requirement": int(r["days"]) >= required_days,
            "last_reading_at": r["last_reading_at"],
        }
        for r in rows
    }
