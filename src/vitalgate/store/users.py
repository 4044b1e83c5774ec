"""Users, care-team membership and sign-in look-ups for the API."""

from __future__ import annotations

import psycopg
from psycopg.rows import class_row

from vitalgate.store.db import column, scalar
from vitalgate.store.people import create_user  # re-exported: one way to create users
from vitalgate.store.rows import CareTeam, User, UserSummary

__all__ = [
    "add_member",
    "create_user",
    "get_user",
    "get_user_by_username",
    "list_teams",
    "list_users",
    "patient_id_of_user",
    "revoke_sessions",
    "set_password",
    "team_ids",
    "touch_login",
]

_USER_COLUMNS = "u.id, u.username, u.display_name, u.role, u.password_hash, u.on_duty, u.disabled, u.created_at, u.sessions_revoked_at"


async def get_user_by_username(conn: psycopg.AsyncConnection, username: str) -> User | None:
    """One user by login name."""
    async with conn.cursor(row_factory=class_row(User)) as cur:
        await cur.execute(f"SELECT {_USER_COLUMNS} FROM users u WHERE u.username = %s", (username,))
        return await cur.fetchone()


async def get_user(conn: psycopg.AsyncConnection, user_id: int) -> User | None:
    """One user by id."""
    async with conn.cursor(row_factory=class_row(User)) as cur:
        await cur.execute(f"SELECT {_USER_COLUMNS} FROM users u WHERE u.id = %s", (user_id,))
        return await cur.fetchone()


async def list_users(conn: psycopg.AsyncConnection, limit: int = 500) -> list[UserSummary]:
    """All users with their care teams (no password hashes)."""
    async with conn.cursor(row_factory=class_row(UserSummary)) as cur:
        await cur.execute(
            """
            SELECT u.id, u.username, u.display_name, u.role, u.on_duty, u.disabled, u.created_at,
                   COALESCE(array_agg(m.care_team_id ORDER BY m.care_team_id) FILTER (WHERE m.care_team_id IS NOT NULL), '{}') AS care_team_ids
            FROM users u LEFT JOIN care_team_members m ON m.user_id = u.id
            GROUP BY u.id ORDER BY u.id LIMIT %s
            """,
            (limit,),
        )
        return await cur.fetchall()


async def set_password(conn: psycopg.AsyncConnection, user_id: int, password_hash: str) -> None:
    """Replace a user's password hash; tokens issued before it stop working (a leaked password's sessions end)."""
    await conn.execute(
        "UPDATE users SET password_hash = %s, sessions_revoked_at = clock_timestamp() WHERE id = %s",
        (password_hash, user_id),
    )


async def revoke_sessions(conn: psycopg.AsyncConnection, user_id: int) -> None:
    """End every token and session cookie of this user issued before now (sign-out)."""
    # Whole seconds, like the tokens' `iat`: a sign-in right after sign-out still works.
    await conn.execute("UPDATE users SET sessions_revoked_at = clock_timestamp() WHERE id = %s", (user_id,))


async def touch_login(conn: psycopg.AsyncConnection, user_id: int) -> None:
    """Remember the last successful sign-in."""
    await conn.execute("UPDATE users SET last_login_at = now() WHERE id = %s", (user_id,))


async def team_ids(conn: psycopg.AsyncConnection, user_id: int) -> list[int]:
    """The care teams a staff member belongs to."""
    ids = await column(
        conn, "SELECT care_team_id FROM care_team_members WHERE user_id = %s ORDER BY care_team_id", (user_id,)
    )
    return [int(i) for i in ids]


async def patient_id_of_user(conn: psycopg.AsyncConnection, user_id: int) -> int | None:
    """The patient record a patient user signs in as."""
    patient_id = await scalar(conn, "SELECT id FROM patients WHERE user_id = %s", (user_id,))
    return None if patient_id is None else int(patient_id)


async def add_member(conn: psycopg.AsyncConnection, care_team_id: int, user_id: int) -> None:
    """Put a staff member in a care team (idempotent)."""
    await conn.execute(
        "INSERT INTO care_team_members (care_team_id, user_id) VALUES (%s, %s) ON CONFLICT DO NOTHING",
        (care_team_id, user_id),
    )


async def list_teams(conn: psycopg.AsyncConnection) -> list[CareTeam]:
    """Care teams with member and patient counts."""
    async with conn.cursor(row_factory=class_row(CareTeam)) as cur:
        await cur.execute(
            """
            SELECT t.id, t.name, t.created_at,
                   (SELECT count(*) FROM care_team_members m WHERE m.care_team_id = t.id) AS members,
                   (SELECT count(*) FROM patients p WHERE p.care_team_id = t.id) AS patients
            FROM care_teams t ORDER BY t.id
            """
        )
        return await cur.fetchall()
