"""How a patient reaches their care team: the team's phone number (migration 0026)."""

from __future__ import annotations

import psycopg
from psycopg.rows import tuple_row


async def patient_team_phone(conn: psycopg.AsyncConnection, patient_id: int) -> str | None:
    """The phone number of the patient's care team, if the team has one."""
    async with conn.cursor(row_factory=tuple_row) as cur:
        await cur.execute(
            "SELECT c.phone FROM patients p JOIN care_teams c ON c.id = p.care_team_id WHERE p.id = %s", (patient_id,)
        )
        row = await cur.fetchone()
    return str(row[0]) if row and row[0] else None


async def set_team_phone(conn: psycopg.AsyncConnection, care_team_id: int, phone: str | None) -> None:
    await conn.execute("UPDATE care_teams SET phone = %s WHERE id = %s", (phone, care_team_id))
