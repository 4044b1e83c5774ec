"""Raw material of the visit reports: one local day's glucose curve per day, home BP readings.

Figures (statistics, profile) come from store.patient_stats; this module adds what only the
reports draw: the daily mini-charts and the home-BP protocol's readings in the patient's zone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import psycopg
from psycopg.rows import class_row


@dataclass(frozen=True, slots=True)
class DayPoint:
    """Mean glucose of one 30-minute slot of a local day (the mini-charts' resolution)."""

    day: date
    slot: int  # 0..47, half hours since local midnight
    mean_mg_dl: float
    low_mg_dl: float


@dataclass(frozen=True, slots=True)
class LocalBp:
    """A home BP reading with its local wall-clock time."""

    measured_at: datetime
    local: datetime  # naive, the patient's wall clock
    systolic_mmhg: float
    diastolic_mmhg: float
    pulse_bpm: float | None


_DAY_POINTS = """
SELECT (measured_at AT TIME ZONE %(tz)s)::date AS day,
       (extract(hour FROM measured_at AT TIME ZONE %(tz)s) * 2
        + (extract(minute FROM measured_at AT TIME ZONE %(tz)s) >= 30)::int)::int AS slot,
       avg(glucose_mg_dl) AS mean_mg_dl, min(glucose_mg_dl) AS low_mg_dl
FROM readings
WHERE patient_id = %(p)s AND kind = 'glucose' AND glucose_mg_dl IS NOT NULL
  AND measured_at >= %(since)s AND measured_at < %(until)s
GROUP BY 1, 2 ORDER BY 1, 2
"""

_BP = """
SELECT measured_at, measured_at AT TIME ZONE %(tz)s AS local, systolic_mmhg, diastolic_mmhg, pulse_bpm
FROM readings
WHERE patient_id = %(p)s AND kind = 'blood_pressure' AND systolic_mmhg IS NOT NULL AND diastolic_mmhg IS NOT NULL
  AND measured_at >= %(since)s AND measured_at < %(until)s
ORDER BY measured_at
"""


async def day_points(
    conn: psycopg.AsyncConnection, patient_id: int, since: datetime, until: datetime, tz: str
) -> list[DayPoint]:
    """Half-hour means (and lows, so a short low is not averaged away) per local day."""
    async with conn.cursor(row_factory=class_row(DayPoint)) as cur:
        await cur.execute(_DAY_POINTS, {"p": patient_id, "since": since, "until": until, "tz": tz})
        return await cur.fetchall()


async def home_bp(
    conn: psycopg.AsyncConnection, patient_id: int, since: datetime, until: datetime, tz: str
) -> list[LocalBp]:
    """Blood-pressure readings of a window, oldest first, with the patient's local time."""
    async with conn.cursor(row_factory=class_row(LocalBp)) as cur:
        await cur.execute(_BP, {"p": patient_id, "since": since, "until": until, "tz": tz})
        return await cur.fetchall()
