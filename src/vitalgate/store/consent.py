"""Consent records (append-only) and the one question every contact asks first: is this allowed now?

Semantics (README "Consent"): the record with the latest `effective_at <= at` (then the highest id)
holds for a (purpose, channel | caregiver). Monitoring and contact are given at enrolment, so they
hold unless withdrawn (a patient enrolled before consent records existed has none: allowed);
contact on a channel also needs monitoring. Sharing with a caregiver and research need an explicit
"given" record (opt-in). Withdrawal is effective at `effective_at`, which the API sets to now.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import psycopg
from psycopg.rows import class_row, tuple_row

from vitalgate.store.record_vocab import ConsentDecision, ConsentPurpose

# Purposes that hold without a record (enrolment implies them); the others need an explicit "given".
_OPT_OUT = frozenset({ConsentPurpose.MONITORING, ConsentPurpose.CONTACT})


@dataclass(frozen=True, slots=True)
class ConsentRecord:
    id: int
    patient_id: int
    purpose: str
    channel: str | None
    caregiver_id: int | None
    decision: str
    text_version: str
    effective_at: datetime
    given_by: str
    given_by_name: str | None
    recorded_by: str
    recorded_at: datetime


@dataclass(frozen=True, slots=True)
class NewConsent:
    purpose: ConsentPurpose
    decision: ConsentDecision
    text_version: str
    effective_at: datetime
    given_by: str
    recorded_by: str
    channel: str | None = None
    caregiver_id: int | None = None
    given_by_name: str | None = None


@dataclass(frozen=True, slots=True)
class Verdict:
    """Whether a purpose is allowed at an instant, and the words to record when it is not."""

    allowed: bool
    reason: str
    record_id: int | None = None


_COLUMNS = (
    "id, patient_id, purpose, channel, caregiver_id, decision, text_version, effective_at, given_by, given_by_name,"
    " recorded_by, recorded_at"
)
INSERT_SQL = (
    "INSERT INTO consent_records (patient_id, purpose, channel, caregiver_id, decision, text_version, effective_at,"
    " given_by, given_by_name, recorded_by) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
)


def insert_params(patient_id: int, c: NewConsent) -> tuple[object, ...]:
    """One row's parameters for INSERT_SQL (shared with the bulk importer)."""
    return (
        patient_id,
        str(c.purpose),
        c.channel,
        c.caregiver_id,
        str(c.decision),
        c.text_version,
        c.effective_at,
        c.given_by,
        c.given_by_name,
        c.recorded_by,
    )


async def record(conn: psycopg.AsyncConnection, patient_id: int, consent: NewConsent) -> ConsentRecord:
    """Append one decision (never an update: the table refuses UPDATE and DELETE)."""
    async with conn.cursor(row_factory=class_row(ConsentRecord)) as cur:
        await cur.execute(INSERT_SQL + f" RETURNING {_COLUMNS}", insert_params(patient_id, consent))
        row = await cur.fetchone()
    assert row is not None
    return row


async def history(conn: psycopg.AsyncConnection, patient_id: int) -> list[ConsentRecord]:
    """Every decision of a patient, oldest first (the export)."""
    async with conn.cursor(row_factory=class_row(ConsentRecord)) as cur:
        await cur.execute(
            f"SELECT {_COLUMNS} FROM consent_records WHERE patient_id = %s ORDER BY effective_at, id", (patient_id,)
        )
        return await cur.fetchall()


async def _latest(
    conn: psycopg.AsyncConnection,
    patient_id: int,
    purpose: ConsentPurpose,
    at: datetime,
    channel: str | None,
    caregiver_id: int | None,
) -> ConsentRecord | None:
    async with conn.cursor(row_factory=class_row(ConsentRecord)) as cur:
        await cur.execute(
            f"SELECT {_COLUMNS} FROM consent_records WHERE patient_id = %s AND purpose = %s AND effective_at <= %s"
            " AND channel IS NOT DISTINCT FROM %s AND caregiver_id IS NOT DISTINCT FROM %s"
            " ORDER BY effective_at DESC, id DESC LIMIT 1",
            (patient_id, str(purpose), at, channel, caregiver_id),
        )
        return await cur.fetchone()


async def decide(
    conn: psycopg.AsyncConnection,
    patient_id: int,
    purpose: ConsentPurpose | str,
    channel: str | None,
    at: datetime,
    *,
    caregiver_id: int | None = None,
) -> Verdict:
    """The verdict for one purpose at `at`, with the reason a refusal is recorded under."""
    purpose = ConsentPurpose(purpose)
    if purpose is ConsentPurpose.CONTACT:
        if channel is None:
            raise ValueError("contact consent is per channel")
        monitoring = await decide(conn, patient_id, ConsentPurpose.MONITORING, None, at)
        if not monitoring.allowed:
            return monitoring
    label = (
        purpose.value
        + (f" by {channel}" if channel else "")
        + (f" with caregiver {caregiver_id}" if caregiver_id else "")
    )
    latest = await _latest(
        conn, patient_id, purpose, at, channel if purpose is ConsentPurpose.CONTACT else None, caregiver_id
    )
    if latest is None:
        if purpose in _OPT_OUT:
            return Verdict(True, f"{label}: no record (implied by enrolment)")
        return Verdict(False, f"no consent to {label}")
    if latest.decision == ConsentDecision.WITHDRAWN:
        return Verdict(
            False, f"consent to {label} withdrawn at {latest.effective_at.isoformat()} (record {latest.id})", latest.id
        )
    return Verdict(True, f"{label}: given (record {latest.id})", latest.id)


async def allows(
    conn: psycopg.AsyncConnection,
    patient_id: int,
    purpose: ConsentPurpose | str,
    channel: str | None,
    at: datetime,
    *,
    caregiver_id: int | None = None,
) -> bool:
    """True when the patient's consent covers this purpose (and channel / caregiver) at `at`."""
    return (await decide(conn, patient_id, purpose, channel, at, caregiver_id=caregiver_id)).allowed


# The reason written on a monitoring pause caused by a withdrawal: re-giving consent ends only such a pause.
CONSENT_PAUSE_REASON = "monitoring consent withdrawn"


async def apply_monitoring(conn: psycopg.AsyncConnection, row: ConsentRecord) -> str | None:
    """A monitoring decision moves the monitoring status (migration 0007): withdrawn pauses, given resumes.

    Returns the status set, or None when nothing changed. Resuming only ends a pause this module made:
    a pause or discharge decided by the care team stays.
    """
    if row.purpose != ConsentPurpose.MONITORING:
        return None
    async with conn.cursor(row_factory=tuple_row) as cur:
        await cur.execute("SELECT to_regclass('patient_monitoring') IS NOT NULL")
        present = await cur.fetchone()
    if not (present and present[0]):
        return None  # before migration 0007: nothing to pause; touchpoints still check consent themselves
    current = await (
        await conn.execute(
            "SELECT status, reason FROM patient_monitoring WHERE patient_id = %s AND valid_from <= %s"
            " ORDER BY valid_from DESC, id DESC LIMIT 1",
            (row.patient_id, row.effective_at),
        )
    ).fetchone()
    status, reason = (
        (tuple(current.values()) if isinstance(current, dict) else tuple(current)) if current else ("active", None)
    )
    if row.decision == ConsentDecision.WITHDRAWN and status == "active":
        new, why = "paused", f"{CONSENT_PAUSE_REASON} (record {row.id})"
    elif (
        row.decision == ConsentDecision.GIVEN
        and status == "paused"
        and str(reason or "").startswith(CONSENT_PAUSE_REASON)
    ):
        new, why = "active", f"monitoring consent given (record {row.id})"
    else:
        return None
    await conn.execute(
        "INSERT INTO patient_monitoring (patient_id, status, valid_from, reason, set_by) VALUES (%s, %s, %s, %s, %s)",
        (row.patient_id, new, row.effective_at, why, row.recorded_by),
    )
    return new
