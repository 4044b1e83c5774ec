"""What a person reads pages in: their own language and glucose unit, and the patient record's (migration 0012)."""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
from psycopg.rows import class_row

from vitalgate.domain import GlucoseUnit, Language


@dataclass(frozen=True, slots=True)
class ViewerPrefs:
    """A user's own settings (None: not set) and the language and unit of the record they are:
    a patient user's patient record, a caregiver login's caregiver record (language only)."""

    language: str | None
    glucose_unit: str | None
    patient_language: str | None
    patient_glucose_unit: str | None


async def viewer_prefs(conn: psycopg.AsyncConnection, user_id: int) -> ViewerPrefs:
    """The settings of a user (and of the patient record they sign in as, if any)."""
    async with conn.cursor(row_factory=class_row(ViewerPrefs)) as cur:
        await cur.execute(
            """
            SELECT u.language, u.glucose_unit,
                   COALESCE(p.language, (SELECT c.language FROM caregivers c WHERE c.user_id = u.id AND c.active
                                         ORDER BY c.id LIMIT 1)) AS patient_language,
                   p.glucose_unit AS patient_glucose_unit
            FROM users u LEFT JOIN patients p ON p.user_id = u.id
            WHERE u.id = %s
            """,
            (user_id,),
        )
        row = await cur.fetchone()
    return row or ViewerPrefs(None, None, None, None)


async def set_viewer_prefs(
    conn: psycopg.AsyncConnection, user_id: int, *, language: Language | None, glucose_unit: GlucoseUnit | None
) -> None:
    """Set (or clear, with None) a user's own language and glucose unit."""
    await conn.execute(
        "UPDATE users SET language = %s, glucose_unit = %s WHERE id = %s",
        (None if language is None else str(language), None if glucose_unit is None else str(glucose_unit), user_id),
    )


async def patient_language(conn: psycopg.AsyncConnection, patient_id: int) -> str | None:
    """The language of a patient's record (messages to the patient, their own pages)."""
    async with conn.cursor() as cur:
        await cur.execute("SELECT language FROM patients WHERE id = %s", (patient_id,))
        row = await cur.fetchone()
    return None if row is None else str(row[0])
