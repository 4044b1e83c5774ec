"""Bulk enrolment: validated patients (+ conditions, caregivers, consents) in COPY batches, idempotent by external id.

The caller owns the transaction: every batch of one import commits together or not at all.
Patients already enrolled in the program (same external id) are left exactly as they are.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import psycopg
from psycopg.rows import tuple_row
from psycopg.types.json import Jsonb

from vitalgate.store.patient_record import Condition


@dataclass(frozen=True, slots=True)
class EnrolCaregiver:
    name: str
    relationship: str
    phone: str | None = None
    email: str | None = None
    app_id: str | None = None
    preferred_channel: str | None = None
    language: str = "en"
    alert_severities: tuple[str, ...] = ("urgent",)
    receives_reminders: bool = False


@dataclass(frozen=True, slots=True)
class EnrolConsent:
    purpose: str
    decision: str
    text_version: str
    effective_at: datetime
    given_by: str = "patient"
    given_by_name: str | None = None
    channel: str | None = None
    caregiver_name: str | None = None  # share_caregiver: the caregiver of this row with that name


@dataclass(frozen=True, slots=True)
class EnrolPatient:
    external_id: str
    display_name: str
    care_team_id: int
    program: str = "default"
    tags: tuple[str, ...] = ()
    birth_date: date | None = None
    birth_year: int | None = None
    sex: str | None = None
    journey_stage: str | None = None
    language: str = "en"
    glucose_unit: str = "mg/dL"
    time_zone: str | None = None
    phone: str | None = None
    email: str | None = None
    app_id: str | None = None
    preferred_channel: str | None = None
    target_preset: str = "standard"
    targets: dict[str, Any] = field(default_factory=dict)
    conditions: tuple[Condition, ...] = ()
    caregivers: tuple[EnrolCaregiver, ...] = ()
    consents: tuple[EnrolConsent, ...] = ()


_STAGE_COLUMNS = (
    "ord", "external_id", "display_name", "care_team_id", "program", "tags", "birth_date", "birth_year", "sex",
    "journey_stage", "language", "glucose_unit", "time_zone", "phone", "email", "app_id", "preferred_channel",
    "target_preset", "targets",
)  # fmt: skip
_STAGE = """
CREATE TEMP TABLE IF NOT EXISTS enrol_stage (
    ord int, external_id text, display_name text, care_team_id bigint, program text, tags text[], birth_date date,
    birth_year smallint, sex text, journey_stage text, language text, glucose_unit text, time_zone text, phone text,
    email text, app_id text, preferred_channel text, target_preset text, targets jsonb
) ON COMMIT DROP
"""
_PATIENT_COLUMNS = ", ".join(c for c in _STAGE_COLUMNS if c != "ord")


async def existing(conn: psycopg.AsyncConnection, program: str, external_ids: Sequence[str]) -> set[str]:
    """Which of these external ids the program already has."""
    async with conn.cursor(row_factory=tuple_row) as cur:
        await cur.execute(
            "SELECT external_id FROM patients WHERE program = %s AND external_id = ANY(%s)",
            (program, list(external_ids)),
        )
        return {str(r[0]) for r in await cur.fetchall()}


async def care_teams_by_name(conn: psycopg.AsyncConnection) -> dict[str, int]:
    async with conn.cursor(row_factory=tuple_row) as cur:
        await cur.execute("SELECT name, id FROM care_teams")
        return {str(name): int(tid) for name, tid in await cur.fetchall()}


async def enrol_batch(
    conn: psycopg.AsyncConnection, patients: Sequence[EnrolPatient], *, recorded_by: str
) -> dict[str, int]:
    """Insert one batch by COPY; returns external id -> new patient id (already enrolled ones are skipped)."""
    async with conn.cursor(row_factory=tuple_row) as cur:
        await cur.execute(_STAGE)
        await cur.execute("TRUNCATE enrol_stage")
        async with cur.copy(f"COPY enrol_stage ({', '.join(_STAGE_COLUMNS)}) FROM STDIN") as copy:
            for ord_, p in enumerate(patients):
                await copy.write_row(
                    (ord_, p.external_id, p.display_name, p.care_team_id, p.program, list(p.tags), p.birth_date,
                     p.birth_year, p.sex, p.journey_stage, p.language, p.glucose_unit, p.time_zone, p.phone, p.email,
                     p.app_id, p.preferred_channel, p.target_preset, Jsonb(p.targets))
                )  # fmt: skip
        await cur.execute(
            f"INSERT INTO patients ({_PATIENT_COLUMNS}) SELECT {_PATIENT_COLUMNS} FROM enrol_stage ORDER BY ord"
            " ON CONFLICT (program, external_id) WHERE external_id IS NOT NULL DO NOTHING RETURNING external_id, id"
        )
        created = {str(e): int(i) for e, i in await cur.fetchall()}
        fresh = [p for p in patients if p.external_id in created]
        await _copy_children(cur, fresh, created, recorded_by)
    return created


async def _copy_children(
    cur: psycopg.AsyncCursor[Any], fresh: list[EnrolPatient], ids: dict[str, int], recorded_by: str
) -> None:
    async with cur.copy(
        "COPY patient_conditions (patient_id, code_system, code, type, stage, subtype, diagnosed_on) FROM STDIN"
    ) as copy:
        for p in fresh:
            for c in p.conditions:
                await copy.write_row((ids[p.external_id], c.code_system, c.code, c.type, c.stage, c.subtype,
                                      c.diagnosed_on))  # fmt: skip
    async with cur.copy(
        "COPY caregivers (patient_id, name, relationship, phone, email, app_id, preferred_channel, language,"
        " alert_severities, receives_reminders) FROM STDIN"
    ) as copy:
        for p in fresh:
            for g in p.caregivers:
                await copy.write_row((ids[p.external_id], g.name, g.relationship, g.phone, g.email, g.app_id,
                                      g.preferred_channel, g.language, list(g.alert_severities),
                                      g.receives_reminders))  # fmt: skip
    caregiver_ids: dict[tuple[int, str], int] = {}
    if any(p.caregivers for p in fresh):
        await cur.execute(
            "SELECT patient_id, name, id FROM caregivers WHERE patient_id = ANY(%s)",
            ([ids[p.external_id] for p in fresh if p.caregivers],),
        )
        caregiver_ids = {(int(pid), str(name)): int(cid) for pid, name, cid in await cur.fetchall()}
    async with cur.copy(
        "COPY consent_records (patient_id, purpose, channel, caregiver_id, decision, text_version, effective_at,"
        " given_by, given_by_name, recorded_by) FROM STDIN"
    ) as copy:
        for p in fresh:
            pid = ids[p.external_id]
            for k in p.consents:
                caregiver = caregiver_ids[(pid, k.caregiver_name)] if k.caregiver_name else None
                await copy.write_row((pid, k.purpose, k.channel, caregiver, k.decision, k.text_version,
                                      k.effective_at, k.given_by, k.given_by_name, recorded_by))  # fmt: skip
