"""Who a delivery reaches and where: languages for templates, addresses read at send time."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import psycopg
from psycopg.rows import tuple_row

from vitalgate.domain import Medium, RecipientKind


@dataclass(frozen=True, slots=True)
class Reach:
    """One recipient's contact points and their patient's program (which decides channels and content)."""

    kind: RecipientKind
    id: int
    phone: str | None
    email: str | None
    app_id: str | None
    program: str
    active: bool = True  # a caregiver the patient removed receives nothing more
    sms_opted_out: bool = False  # a caregiver who replied STOP (caregivers.sms_opted_out_at, migration 0022)

    def address(self, medium: Medium) -> str | None:
        """The address a message on `medium` goes to (None: the recipient has none for it)."""
        if medium in (Medium.SMS, Medium.VOICE, Medium.CALL):
            return self.phone
        if medium == Medium.EMAIL:
            return self.email
        return self.app_id


async def patient_language(conn: psycopg.AsyncConnection, patient_id: int) -> str:
    async with conn.cursor(row_factory=tuple_row) as cur:
        await cur.execute("SELECT language FROM patients WHERE id = %s", (patient_id,))
        row = await cur.fetchone()
    return str(row[0]) if row else "en"


async def reach_of(
    conn: psycopg.AsyncConnection, recipients: Sequence[tuple[RecipientKind, int]]
) -> dict[tuple[RecipientKind, int], Reach]:
    """Contact points of patients and caregivers in one round trip (staff are addressed by their producer)."""
    patients = sorted({i for k, i in recipients if k == RecipientKind.PATIENT})
    caregivers = sorted({i for k, i in recipients if k == RecipientKind.CAREGIVER})
    out: dict[tuple[RecipientKind, int], Reach] = {}
    async with conn.cursor(row_factory=tuple_row) as cur:
        await cur.execute(
            "SELECT 'patient', id, phone, email, app_id, program, true, false FROM patients WHERE id = ANY(%s)"
            " UNION ALL SELECT 'caregiver', c.id, c.phone, c.email, c.app_id, p.program, c.active,"
            " c.sms_opted_out_at IS NOT NULL"
            " FROM caregivers c JOIN patients p ON p.id = c.patient_id WHERE c.id = ANY(%s)",
            (patients, caregivers),
        )
        for kind, rid, phone, email, app_id, program, active, opted_out in await cur.fetchall():
            key = (RecipientKind(kind), int(rid))
            out[key] = Reach(key[0], key[1], phone, email, app_id, program, bool(active), bool(opted_out))
    return out


async def display_names(
    conn: psycopg.AsyncConnection, recipients: Sequence[tuple[RecipientKind, int]]
) -> dict[tuple[RecipientKind, int], str]:
    """Recipients' names for a person's screen (the demo's table, staff pages); never for logs."""
    out: dict[tuple[RecipientKind, int], str] = {}
    queries = {
        RecipientKind.PATIENT: "SELECT id, display_name FROM patients WHERE id = ANY(%s)",
        RecipientKind.CAREGIVER: "SELECT id, name FROM caregivers WHERE id = ANY(%s)",
        RecipientKind.STAFF: "SELECT id, display_name FROM users WHERE id = ANY(%s)",
    }
    async with conn.cursor(row_factory=tuple_row) as cur:
        for kind, query in queries.items():
            ids = sorted({i for k, i in recipients if k == kind})
            if ids:
                await cur.execute(query, (ids,))
                out |= {(kind, int(i)): str(name) for i, name in await cur.fetchall()}
    return out
