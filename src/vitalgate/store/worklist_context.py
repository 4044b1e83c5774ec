"""Per-patient context for worklist rows: newest reading, last contact, last review, why data stopped.

Read for the patients of one page only (at most a page's worth of ids), never for the whole list.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import psycopg
from psycopg.rows import class_row, tuple_row

from vitalgate.store.worklist_rows import DataGapReason, LatestReading, PatientContext

_LATEST = """
SELECT p.id AS patient_id, r.kind, r.measured_at, r.glucose_mg_dl, r.systolic_mmhg, r.diastolic_mmhg
FROM unnest(%(ids)s::bigint[]) AS p(id)
JOIN LATERAL (SELECT kind, measured_at, glucose_mg_dl, systolic_mmhg, diastolic_mmhg FROM readings
              WHERE patient_id = p.id ORDER BY measured_at DESC LIMIT 1) r ON true
"""

# Last contact: the newest delivered follow-up step or answer from the patient. Last review: the
# newest outcome a person (not the system) recorded on one of the patient's tasks.
_CONTACT_REVIEW = """
SELECT p.id,
       (SELECT GREATEST(max(tp.fired_at), max(t.patient_responded_at)) FROM tasks t
          LEFT JOIN touchpoints tp ON tp.task_id = t.id WHERE t.patient_id = p.id),
       (SELECT max(e.at) FROM tasks t JOIN task_events e ON e.task_id = t.id
          WHERE t.patient_id = p.id AND e.kind = 'outcome' AND e.actor <> 'system')
FROM unnest(%(ids)s::bigint[]) AS p(id)
"""

# The reason data stopped, most specific first: nothing bound; the hub of a bound device is offline
# (its retained status); it is online but still holds readings in its outbox; else the patient
# stopped measuring.
_GAP = """
SELECT p.id,
       bool_or(b.device_serial IS NOT NULL) AS paired,
       bool_or(g.status = 'offline') AS hub_offline,
       bool_or(g.status = 'online' AND g.backlog > 0) AS hub_backlog
FROM unnest(%(ids)s::bigint[]) AS p(id)
LEFT JOIN device_bindings b ON b.patient_id = p.id AND b.valid_to IS NULL
LEFT JOIN devices d ON d.serial = b.device_serial
LEFT JOIN gateways g ON g.id = d.hub_id
GROUP BY p.id
"""


def _gap_reason(paired: bool | None, offline: bool | None, backlog: bool | None) -> DataGapReason:
    if not paired:
        return DataGapReason.DEVICE_UNPAIRED
    if offline:
        return DataGapReason.HUB_OFFLINE
    if backlog:
        return DataGapReason.HUB_BACKLOG
    return DataGapReason.STOPPED_MEASURING


async def gap_reasons(conn: psycopg.AsyncConnection, patient_ids: Sequence[int]) -> dict[int, DataGapReason]:
    """Why each patient's data stopped (for data-gap tasks)."""
    if not patient_ids:
        return {}
    async with conn.cursor(row_factory=tuple_row) as cur:
        await cur.execute(_GAP, {"ids": list(patient_ids)})
        return {int(pid): _gap_reason(paired, off, back) for pid, paired, off, back in await cur.fetchall()}


async def patient_context(
    conn: psycopg.AsyncConnection, patient_ids: Sequence[int], *, gap_patients: Sequence[int] = ()
) -> dict[int, PatientContext]:
    """{patient: context} for the patients of one worklist page; gap reasons only for `gap_patients`."""
    ids = sorted(set(patient_ids))
    if not ids:
        return {}
    async with conn.cursor(row_factory=class_row(LatestReading)) as cur:
        await cur.execute(_LATEST, {"ids": ids})
        latest = {r.patient_id: r for r in await cur.fetchall()}
    async with conn.cursor(row_factory=tuple_row) as cur2:
        await cur2.execute(_CONTACT_REVIEW, {"ids": ids})
        seen: dict[int, tuple[datetime | None, datetime | None]] = {
            int(pid): (contact, review) for pid, contact, review in await cur2.fetchall()
        }
    gaps = await gap_reasons(conn, sorted(set(gap_patients)))
    return {
        pid: PatientContext(
            latest.get(pid), seen.get(pid, (None, None))[0], seen.get(pid, (None, None))[1], gaps.get(pid)
        )
        for pid in ids
    }
