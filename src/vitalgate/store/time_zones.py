"""Patients' and teams' IANA zones, zone history and quiet hours (migration 0011)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any

import psycopg
from psycopg.rows import tuple_row

from vitalgate.core.localtime import UnknownZoneError, ZoneHistory, check_zone
from vitalgate.store.db import scalar


@dataclass(frozen=True, slots=True)
class PatientClock:
    """What local time means for one patient: zone history, own zone (None: the team's), quiet hours."""

    patient_id: int
    history: ZoneHistory
    own_zone: str | None
    team_zone: str
    quiet_start: time
    quiet_end: time

    @property
    def zone_name(self) -> str:
        """The zone in force now (the last of the history)."""
        return self.history.current


_SPANS = """
SELECT s.patient_id, s.time_zone, CASE WHEN isfinite(s.valid_from) THEN s.valid_from END AS valid_from
FROM patient_zone_spans s WHERE s.patient_id = ANY(%s::bigint[])
ORDER BY s.patient_id, s.valid_from
"""

_CLOCKS = """
SELECT p.id, p.time_zone, t.time_zone AS team_zone, p.quiet_start, p.quiet_end
FROM patients p JOIN care_teams t ON t.id = p.care_team_id WHERE p.id = ANY(%s::bigint[])
"""


async def check_server_zone(conn: psycopg.AsyncConnection, zone_name: str) -> str:
    """The zone must be known to Python's tz database and to PostgreSQL's (the rollups use it)."""
    check_zone(zone_name)
    row = await (await conn.execute("SELECT 1 FROM pg_timezone_names WHERE name = %s", (zone_name,))).fetchone()
    if row is None:
        raise UnknownZoneError(f"unknown time zone {zone_name!r}")
    return zone_name


async def zone_histories(conn: psycopg.AsyncConnection, patient_ids: Sequence[int]) -> dict[int, ZoneHistory]:
    """{patient: zone history} for existing patients."""
    spans: dict[int, list[tuple[str, datetime | None]]] = {}
    for pid, zone_name, valid_from in await _tuples(conn, _SPANS, (list(patient_ids),)):
        spans.setdefault(int(pid), []).append((str(zone_name), valid_from))
    return {pid: ZoneHistory.of(s) for pid, s in spans.items()}


async def patient_clocks(conn: psycopg.AsyncConnection, patient_ids: Sequence[int]) -> dict[int, PatientClock]:
    """{patient: PatientClock} for existing patients."""
    histories = await zone_histories(conn, patient_ids)
    out = {}
    for pid, own, team, q_start, q_end in await _tuples(conn, _CLOCKS, (list(patient_ids),)):
        out[int(pid)] = PatientClock(int(pid), histories[int(pid)], own, str(team), q_start, q_end)
    return out


async def patient_clock(conn: psycopg.AsyncConnection, patient_id: int) -> PatientClock | None:
    return (await patient_clocks(conn, [patient_id])).get(patient_id)


async def set_patient_time_zone(
    conn: psycopg.AsyncConnection,
    patient_id: int,
    zone_name: str | None,
    *,
    valid_from: datetime,
    now: datetime,
    actor: str,
) -> None:
    """The patient lives in `zone_name` (None: follows the team) from `valid_from` (<= now) on.

    Readings before `valid_from` keep the local time of the zone they were measured in; a
    backdated move re-labels the readings since then (the native rollup is re-aggregated by a
    trigger; the TimescaleDB view needs nothing).
    """
    if zone_name is not None:
        await check_server_zone(conn, zone_name)
    if valid_from > now:
        raise ValueError("a zone change cannot start in the future; set it when the patient moves")
    async with conn.transaction():
        rows = await _tuples(
            conn,
            "SELECT t.time_zone, patient_zone_at(p.id, %s) FROM patients p JOIN care_teams t"
            " ON t.id = p.care_team_id WHERE p.id = %s FOR UPDATE OF p",
            (valid_from, patient_id),
        )
        if not rows:
            raise LookupError(f"patient {patient_id} does not exist")
        team_zone, before = rows[0]
        effective = zone_name or str(team_zone)
        # The zone before the change keeps the past (only written when the patient had no history).
        await conn.execute(
            "INSERT INTO patient_zone_history (patient_id, valid_from, time_zone, recorded_by)"
            " SELECT %s, '-infinity', %s, %s"
            " WHERE NOT EXISTS (SELECT 1 FROM patient_zone_history WHERE patient_id = %s)",
            (patient_id, before, actor, patient_id),
        )
        # Spans after a backdated start describe what is now known to be wrong: replaced.
        await conn.execute(
            "DELETE FROM patient_zone_history WHERE patient_id = %s AND valid_from > %s", (patient_id, valid_from)
        )
        await conn.execute(
            "INSERT INTO patient_zone_history (patient_id, valid_from, time_zone, recorded_by) VALUES (%s, %s, %s, %s)"
            " ON CONFLICT (patient_id, valid_from) DO UPDATE SET time_zone = EXCLUDED.time_zone,"
            " recorded_by = EXCLUDED.recorded_by, recorded_at = now()",
            (patient_id, valid_from, effective, actor),
        )
        await conn.execute("UPDATE patients SET time_zone = %s WHERE id = %s", (zone_name, patient_id))


async def set_quiet_hours(conn: psycopg.AsyncConnection, patient_id: int, start: time, end: time) -> None:
    """Local wall-clock quiet hours (start = end: none)."""
    cur = await conn.execute(
        "UPDATE patients SET quiet_start = %s, quiet_end = %s WHERE id = %s", (start, end, patient_id)
    )
    if cur.rowcount == 0:
        raise LookupError(f"patient {patient_id} does not exist")


async def set_team_time_zone(conn: psycopg.AsyncConnection, care_team_id: int, zone_name: str) -> None:
    """A team's zone; its patients without their own zone follow from now on (history kept by trigger)."""
    await check_server_zone(conn, zone_name)
    await conn.execute("UPDATE care_teams SET time_zone = %s WHERE id = %s", (zone_name, care_team_id))


async def user_time_zone(conn: psycopg.AsyncConnection, user_id: int) -> str | None:
    """A staff user's own display zone (None: show the patient's / the team's)."""
    zone = await scalar(conn, "SELECT time_zone FROM users WHERE id = %s", (user_id,))
    return None if zone is None else str(zone)


async def team_time_zone(conn: psycopg.AsyncConnection, care_team_id: int) -> str | None:
    zone = await scalar(conn, "SELECT time_zone FROM care_teams WHERE id = %s", (care_team_id,))
    return None if zone is None else str(zone)


async def set_user_time_zone(conn: psycopg.AsyncConnection, user_id: int, zone_name: str | None) -> None:
    if zone_name is not None:
        await check_server_zone(conn, zone_name)
    await conn.execute("UPDATE users SET time_zone = %s WHERE id = %s", (zone_name, user_id))


async def _tuples(conn: psycopg.AsyncConnection, query: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    async with conn.cursor(row_factory=tuple_row) as cur:
        await cur.execute(query, params)
        return await cur.fetchall()
