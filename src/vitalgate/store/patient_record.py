"""The patient record beyond the name: demographics, conditions, language, unit, contact points, targets."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

import psycopg
from psycopg.rows import class_row, tuple_row
from psycopg.types.json import Jsonb

from vitalgate.store.record_vocab import ContactChannel


@dataclass(frozen=True, slots=True)
class Condition:
    """A coded condition (ICD-10 by default) with the fields cohorts select on."""

    code: str
    code_system: str = "ICD-10"
    type: str | None = None
    stage: str | None = None
    subtype: str | None = None
    diagnosed_on: date | None = None


@dataclass(frozen=True, slots=True)
class PatientRecord:
    id: int
    program: str
    external_id: str | None
    external_ref: str | None
    display_name: str
    care_team_id: int
    user_id: int | None
    birth_date: date | None
    birth_year: int | None
    sex: str | None
    journey_stage: str | None
    language: str
    glucose_unit: str
    phone: str | None
    email: str | None
    app_id: str | None
    preferred_channel: str | None
    target_preset: str
    targets: dict[str, Any]
    created_at: datetime
    updated_at: datetime | None
    conditions: tuple[Condition, ...] = ()

    def contact_value(self, channel: str) -> str | None:
        """The address used for a channel (sms and phone share the number)."""
        return {
            ContactChannel.SMS: self.phone,
            ContactChannel.PHONE: self.phone,
            ContactChannel.EMAIL: self.email,
            ContactChannel.APP: self.app_id,
        }.get(ContactChannel(channel))


# Columns of patients a record update may set (the name and care team have their own paths).
RECORD_FIELDS = (
    "external_id",
    "birth_date",
    "birth_year",
    "sex",
    "journey_stage",
    "language",
    "glucose_unit",
    "phone",
    "email",
    "app_id",
    "preferred_channel",
    "target_preset",
    "targets",
)
_SELECT = (
    "SELECT id, program, external_id, external_ref, display_name, care_team_id, user_id, birth_date, birth_year, sex,"
    " journey_stage, language, glucose_unit, phone, email, app_id, preferred_channel, target_preset, targets,"
    " created_at, updated_at FROM patients"
)


async def get_record(conn: psycopg.AsyncConnection, patient_id: int) -> PatientRecord | None:
    """One patient's full record with conditions."""
    async with conn.cursor(row_factory=class_row(PatientRecord)) as cur:
        await cur.execute(_SELECT + " WHERE id = %s", (patient_id,))
        record = await cur.fetchone()
    if record is None:
        return None
    return replace(record, conditions=tuple(await conditions_of(conn, patient_id)))


async def conditions_of(conn: psycopg.AsyncConnection, patient_id: int) -> list[Condition]:
    async with conn.cursor(row_factory=class_row(Condition)) as cur:
        await cur.execute(
            "SELECT code, code_system, type, stage, subtype, diagnosed_on FROM patient_conditions"
            " WHERE patient_id = %s ORDER BY code_system, code",
            (patient_id,),
        )
        return await cur.fetchall()


async def update_record(conn: psycopg.AsyncConnection, patient_id: int, values: dict[str, Any]) -> None:
    """Set some record fields (keys from RECORD_FIELDS; validated by the caller's model)."""
    unknown = set(values) - set(RECORD_FIELDS)
    if unknown:
        raise ValueError(f"not record fields: {sorted(unknown)}")
    if not values:
        return
    params = {k: Jsonb(v) if k == "targets" else v for k, v in values.items()}
    assignments = ", ".join(f"{k} = %({k})s" for k in values)
    await conn.execute(
        f"UPDATE patients SET {assignments}, updated_at = now() WHERE id = %(patient_id)s",
        {**params, "patient_id": patient_id},
    )


async def replace_conditions(conn: psycopg.AsyncConnection, patient_id: int, conditions: list[Condition]) -> None:
    """The patient's conditions become exactly this list."""
    await conn.execute("DELETE FROM patient_conditions WHERE patient_id = %s", (patient_id,))
    async with conn.cursor() as cur:
        await cur.executemany(
            "INSERT INTO patient_conditions (patient_id, code_system, code, type, stage, subtype, diagnosed_on)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s)",
            [(patient_id, c.code_system, c.code, c.type, c.stage, c.subtype, c.diagnosed_on) for c in conditions],
        )


async def find_by_external_id(conn: psycopg.AsyncConnection, program: str, external_ids: list[str]) -> dict[str, int]:
    """Patient ids of a program's external ids (those that exist)."""
    async with conn.cursor(row_factory=tuple_row) as cur:
        await cur.execute(
            "SELECT external_id, id FROM patients WHERE program = %s AND external_id = ANY(%s)", (program, external_ids)
        )
        return {str(external_id): int(pid) for external_id, pid in await cur.fetchall()}
