"""The facts the program KPIs are computed from, in bulk for one program and period (issue 17 item 6).

Each query aggregates in SQL per patient (and UTC month where a trend needs it) so the dashboard
reads a few thousand rows, not a year of events. Readings come from the materialized
program_reading_days (patient-local days; refresh_reading_days keeps it fresh).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date, datetime

import psycopg
from psycopg.rows import class_row, tuple_row

# Patient-facing touchpoint channels (the others are staff steps: phone call, doctor, coordinator).
PATIENT_CHANNELS = ["message", "questionnaire", "voice"]


@dataclass(frozen=True, slots=True)
class CohortPatient:
    patient_id: int
    arm: str | None
    segment: str | None
    care_team_id: int
    enrolled_at: datetime
    steps: list[str]
    ats: list[datetime]
    baseline: dict[str, object] | None


@dataclass(frozen=True, slots=True)
class MonthCount:
    patient_id: int
    month: date
    total: int
    hits: int


@dataclass(frozen=True, slots=True)
class UrgentTask:
    patient_id: int
    month: date
    created_at: datetime
    first_contact_at: datetime | None


@dataclass(frozen=True, slots=True)
class RecentReadings:
    """The 30 patient-local days up to the period's end."""

    patient_id: int
    reading_days: int
    glucose_n: int
    glucose_in_range_n: int
    systolic_n: int
    systolic_sum: float | None


async def cohort(conn: psycopg.AsyncConnection, program_id: str, until: datetime) -> list[CohortPatient]:
    """Every patient enrolled in the program by `until`, with their funnel steps up to `until`."""
    async with conn.cursor(row_factory=class_row(CohortPatient)) as cur:
        await cur.execute(
            """
            WITH e AS (
                SELECT patient_id, array_agg(step ORDER BY at, id) AS steps, array_agg(at ORDER BY at, id) AS ats,
                       min(at) FILTER (WHERE step = 'enrolled') AS enrolled_at,
                       (array_agg(segment ORDER BY at DESC, id DESC) FILTER (WHERE segment IS NOT NULL))[1] AS segment
                FROM program_enrolment_events WHERE program_id = %(p)s AND at < %(until)s GROUP BY patient_id
            )
            SELECT e.patient_id, a.arm, e.segment, p.care_team_id, e.enrolled_at, e.steps, e.ats,
                   a.covariates AS baseline
            FROM e JOIN patients p ON p.id = e.patient_id
            LEFT JOIN program_allocations a ON a.program_id = %(p)s AND a.patient_id = e.patient_id
            WHERE e.enrolled_at IS NOT NULL ORDER BY e.patient_id
            """,
            {"p": program_id, "until": until},
        )
        return await cur.fetchall()


async def _month_counts(conn: psycopg.AsyncConnection, sql: str, params: dict[str, object]) -> list[MonthCount]:
    async with conn.cursor(row_factory=class_row(MonthCount)) as cur:
        await cur.execute(sql, params)
        return await cur.fetchall()


def _params(ids: list[int], start: datetime, end: datetime) -> dict[str, object]:
    return {"ids": ids, "from": start, "to": end, "channels": PATIENT_CHANNELS}


_MONTH = "(date_trunc('month', {col} AT TIME ZONE 'UTC'))::date AS month"


async def touchpoints(
    conn: psycopg.AsyncConnection, ids: list[int], start: datetime, end: datetime
) -> list[MonthCount]:
    """Patient-facing touchpoints fired in the period; hits: the patient responded to the task after it fired."""
    return await _month_counts(
        conn,
        f"""
        SELECT t.patient_id, {_MONTH.format(col="tp.fired_at")}, count(*)::int AS total,
               count(*) FILTER (WHERE t.patient_responded_at >= tp.fired_at)::int AS hits
        FROM touchpoints tp JOIN tasks t ON t.id = tp.task_id
        WHERE t.patient_id = ANY(%(ids)s::bigint[]) AND tp.fired_at >= %(from)s AND tp.fired_at < %(to)s
          AND tp.channel = ANY(%(channels)s::text[])
        GROUP BY 1, 2
        """,
        _params(ids, start, end),
    )


async def checkins(conn: psycopg.AsyncConnection, program_id: str, start: datetime, end: datetime) -> list[MonthCount]:
    """Check-in questionnaires sent in the period; hits: completed."""
    return await _month_counts(
        conn,
        f"""
        SELECT patient_id, {_MONTH.format(col="sent_at")}, count(*)::int AS total,
               count(completed_at)::int AS hits
        FROM program_module_items
        WHERE program_id = %(p)s AND item_kind = 'checkin' AND sent_at >= %(from)s AND sent_at < %(to)s
        GROUP BY 1, 2
        """,
        {"p": program_id, "from": start, "to": end},
    )


async def contacts(conn: psycopg.AsyncConnection, ids: list[int], start: datetime, end: datetime) -> list[MonthCount]:
    """Tasks with a contact attempt (an outcome recorded by a person) in the period; hits: one was 'reached'."""
    return await _month_counts(
        conn,
        f"""
        SELECT t.patient_id, {_MONTH.format(col="min(e.at)")}, 1 AS total,
               (bool_or(e.detail ->> 'outcome' = 'reached'))::int AS hits
        FROM task_events e JOIN tasks t ON t.id = e.task_id
        WHERE t.patient_id = ANY(%(ids)s::bigint[]) AND e.kind = 'outcome' AND e.at >= %(from)s AND e.at < %(to)s
        GROUP BY t.patient_id, t.id
        """,
        _params(ids, start, end),
    )


async def alerts_and_tasks(
    conn: psycopg.AsyncConnection, ids: list[int], start: datetime, end: datetime
) -> tuple[list[MonthCount], list[MonthCount]]:
    """Alerts opened (total) and tasks created (total) per patient and month in the period."""
    alerts = await _month_counts(
        conn,
        f"""SELECT patient_id, {_MONTH.format(col="opened_at")}, count(*)::int AS total, 0 AS hits FROM alerts
        WHERE patient_id = ANY(%(ids)s::bigint[]) AND opened_at >= %(from)s AND opened_at < %(to)s GROUP BY 1, 2""",
        _params(ids, start, end),
    )
    tasks = await _month_counts(
        conn,
        f"""SELECT patient_id, {_MONTH.format(col="created_at")}, count(*)::int AS total, 0 AS hits FROM tasks
        WHERE patient_id = ANY(%(ids)s::bigint[]) AND created_at >= %(from)s AND created_at < %(to)s GROUP BY 1, 2""",
        _params(ids, start, end),
    )
    return alerts, tasks


async def urgent_tasks(
    conn: psycopg.AsyncConnection, ids: list[int], start: datetime, end: datetime
) -> list[UrgentTask]:
    """Urgent tasks created in the period with the first contact attempt by a person (an outcome event)."""
    async with conn.cursor(row_factory=class_row(UrgentTask)) as cur:
        await cur.execute(
            f"""
            SELECT t.patient_id, {_MONTH.format(col="t.created_at")}, t.created_at,
                   (SELECT min(e.at) FROM task_events e WHERE e.task_id = t.id AND e.kind = 'outcome'
                      AND e.actor NOT IN ('system', 'patient')) AS first_contact_at
            FROM tasks t
            WHERE t.patient_id = ANY(%(ids)s::bigint[]) AND t.severity = 'urgent'
              AND t.created_at >= %(from)s AND t.created_at < %(to)s
            """,
            _params(ids, start, end),
        )
        return await cur.fetchall()


async def staff_per_team(conn: psycopg.AsyncConnection, team_ids: list[int]) -> dict[int, int]:
    async with conn.cursor(row_factory=tuple_row) as cur:
        await cur.execute(
            "SELECT m.care_team_id, count(*) FROM care_team_members m JOIN users u ON u.id = m.user_id"
            " WHERE m.care_team_id = ANY(%s::bigint[]) AND u.role IN ('coordinator', 'nurse', 'doctor')"
            " GROUP BY 1",
            (team_ids,),
        )
        return {int(t): int(n) for t, n in await cur.fetchall()}


async def recent_readings(conn: psycopg.AsyncConnection, ids: list[int], until: datetime) -> list[RecentReadings]:
    """Per patient, the 30 local days ending with the local date of `until` (from program_reading_days)."""
    async with conn.cursor(row_factory=class_row(RecentReadings)) as cur:
        await cur.execute(
            """
            WITH z AS (
                -- The zone at `until` (as patient_zone_at: the latest span started by then, else the first
                -- span, else the patient's or team's zone), set-based instead of one function call a patient.
                SELECT u.id, coalesce(
                    (SELECT h.time_zone FROM patient_zone_history h WHERE h.patient_id = u.id
                       AND h.valid_from <= %(until)s ORDER BY h.valid_from DESC LIMIT 1),
                    (SELECT h.time_zone FROM patient_zone_history h WHERE h.patient_id = u.id
                       ORDER BY h.valid_from LIMIT 1),
                    pt.time_zone, t.time_zone) AS tz
                FROM unnest(%(ids)s::bigint[]) AS u(id)
                JOIN patients pt ON pt.id = u.id JOIN care_teams t ON t.id = pt.care_team_id
            ), p AS (
                SELECT id, ((%(until)s::timestamptz AT TIME ZONE tz)::date) AS last_day FROM z
            )
            SELECT p.id AS patient_id, count(d.local_day)::int AS reading_days,
                   coalesce(sum(d.glucose_n), 0)::int AS glucose_n,
                   coalesce(sum(d.glucose_in_range_n), 0)::int AS glucose_in_range_n,
                   coalesce(sum(d.systolic_n), 0)::int AS systolic_n, sum(d.systolic_sum) AS systolic_sum
            FROM p LEFT JOIN program_reading_days d
                   ON d.patient_id = p.id AND d.local_day > p.last_day - 30 AND d.local_day <= p.last_day
            GROUP BY p.id
            """,
            {"ids": ids, "until": until},
        )
        return await cur.fetchall()


async def refresh_reading_days(conn: psycopg.AsyncConnection, now: datetime) -> float:
    """Recompute program_reading_days (CONCURRENTLY: readers keep the old rows meanwhile); returns ms taken."""
    started = time.perf_counter()
    await conn.execute("REFRESH MATERIALIZED VIEW CONCURRENTLY program_reading_days")
    took = (time.perf_counter() - started) * 1000
    await conn.execute(
        "INSERT INTO program_kpi_refreshes (view_name, refreshed_at, took_ms) VALUES ('program_reading_days', %s, %s)"
        " ON CONFLICT (view_name) DO UPDATE SET refreshed_at = EXCLUDED.refreshed_at, took_ms = EXCLUDED.took_ms",
        (now, took),
    )
    return took


async def last_refresh(conn: psycopg.AsyncConnection) -> datetime | None:
    async with conn.cursor(row_factory=tuple_row) as cur:
        await cur.execute("SELECT refreshed_at FROM program_kpi_refreshes WHERE view_name = 'program_reading_days'")
        row = await cur.fetchone()
    return None if row is None else row[0]
