"""The on-call roster per care team, staff members' alert channels, and the staff alerts sent."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time

import psycopg
from psycopg.rows import class_row

from vitalgate.store.db import column, scalar
from vitalgate.store.triage_rows import OnCallShift, StaffAlert, StaffContact, UnacknowledgedAlert


async def shifts(conn: psycopg.AsyncConnection, care_team_id: int) -> list[OnCallShift]:
    async with conn.cursor(row_factory=class_row(OnCallShift)) as cur:
        await cur.execute(
            "SELECT id, care_team_id, user_id, weekday, starts_at, ends_at, rank FROM on_call_shifts"
            " WHERE care_team_id = %s ORDER BY weekday, starts_at, rank, id",
            (care_team_id,),
        )
        return await cur.fetchall()


async def replace_shifts(
    conn: psycopg.AsyncConnection, care_team_id: int, rows: Sequence[tuple[int, int, time, time, int]]
) -> None:
    """Replace a team's whole roster: (user_id, weekday, starts_at, ends_at, rank) per shift."""
    await conn.execute("DELETE FROM on_call_shifts WHERE care_team_id = %s", (care_team_id,))
    async with conn.cursor() as cur:
        await cur.executemany(
            "INSERT INTO on_call_shifts (care_team_id, user_id, weekday, starts_at, ends_at, rank)"
            " VALUES (%s, %s, %s, %s, %s, %s)",
            [(care_team_id, *row) for row in rows],
        )


async def team_staff(conn: psycopg.AsyncConnection, care_team_id: int) -> list[StaffContact]:
    """The team's staff (no patients, admins or caregivers) with their alert channels, by id."""
    async with conn.cursor(row_factory=class_row(StaffContact)) as cur:
        await cur.execute(
            "SELECT u.id, u.display_name, u.role, u.on_duty, u.alert_medium, u.alert_address, u.language"
            " FROM care_team_members m JOIN users u ON u.id = m.user_id"
            " WHERE m.care_team_id = %s AND u.role IN ('coordinator', 'nurse', 'doctor') AND NOT u.disabled"
            " ORDER BY u.id",
            (care_team_id,),
        )
        return await cur.fetchall()


async def set_alert_channel(
    conn: psycopg.AsyncConnection, user_id: int, *, medium: str | None, address: str | None
) -> bool:
    cur = await conn.execute(
        "UPDATE users SET alert_medium = %s, alert_address = %s WHERE id = %s", (medium, address, user_id)
    )
    return cur.rowcount == 1


async def record_alert(
    conn: psycopg.AsyncConnection,
    *,
    task_id: int,
    attempt: int,
    user_id: int,
    delivery_id: int | None,
    link_path: str | None,
    notified_at: datetime,
    renotify_at: datetime,
) -> int | None:
    """Note that attempt N of a task's alert went to a user; None if that attempt was sent already."""
    value = await scalar(
        conn,
        "INSERT INTO staff_alerts (task_id, attempt, user_id, delivery_id, link_path, notified_at, renotify_at)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (task_id, attempt) DO NOTHING RETURNING id",
        (task_id, attempt, user_id, delivery_id, link_path, notified_at, renotify_at),
    )
    return None if value is None else int(value)


async def alerts_of(conn: psycopg.AsyncConnection, task_id: int) -> list[StaffAlert]:
    async with conn.cursor(row_factory=class_row(StaffAlert)) as cur:
        await cur.execute(
            "SELECT id, task_id, attempt, user_id, delivery_id, link_path, notified_at, renotify_at"
            " FROM staff_alerts WHERE task_id = %s ORDER BY attempt",
            (task_id,),
        )
        return await cur.fetchall()


async def urgent_tasks_without_alert(
    conn: psycopg.AsyncConnection, *, since: datetime, care_team_ids: Sequence[int] | None = None
) -> list[int]:
    """Open urgent tasks created since `since` whose assignee was never alerted (any producer's tasks)."""
    return [
        int(v)
        for v in await column(
            conn,
            "SELECT t.id FROM tasks t WHERE t.severity = 'urgent' AND t.status = 'open' AND t.created_at >= %s"
            " AND (%s::bigint[] IS NULL OR t.care_team_id = ANY(%s))"
            " AND NOT EXISTS (SELECT 1 FROM staff_alerts a WHERE a.task_id = t.id) ORDER BY t.created_at, t.id",
            (since, care_team_ids, care_team_ids),
        )
    ]


async def due_renotifications(
    conn: psycopg.AsyncConnection, now: datetime, *, care_team_ids: Sequence[int] | None = None
) -> list[UnacknowledgedAlert]:
    """Urgent tasks still open (not acknowledged) whose latest alert's time has passed."""
    async with conn.cursor(row_factory=class_row(UnacknowledgedAlert)) as cur:
        await cur.execute(
            """
            SELECT t.id AS task_id, t.patient_id, t.care_team_id, c.time_zone, last.attempt,
                   (SELECT array_agg(a.user_id ORDER BY a.attempt) FROM staff_alerts a WHERE a.task_id = t.id)
                       AS notified_user_ids
            FROM tasks t
            JOIN care_teams c ON c.id = t.care_team_id
            JOIN LATERAL (SELECT attempt, renotify_at FROM staff_alerts a WHERE a.task_id = t.id
                          ORDER BY attempt DESC LIMIT 1) last ON true
            WHERE t.status = 'open' AND t.severity = 'urgent' AND t.acknowledged_at IS NULL
              AND last.renotify_at <= %s AND (%s::bigint[] IS NULL OR t.care_team_id = ANY(%s))
            ORDER BY last.renotify_at, t.id
            """,
            (now, care_team_ids, care_team_ids),
        )
        return await cur.fetchall()
