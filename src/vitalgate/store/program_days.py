"""KPI totals and the touchpoint trend from program_patient_days (migration 0031), for whole UTC days.

Same rows as program_kpis.patient_totals / monthly: touchpoints, alerts and tasks are summed from
the per-patient UTC-day rollup (as fresh as the last `vitalgate program refresh`); contacts (a task
counts once however many days it had calls) and check-ins are still counted live, they are small.
"""

from __future__ import annotations

from datetime import UTC, datetime, time

import psycopg

from vitalgate.store.program_kpis import PATIENT_CHANNELS, MonthPoint, PatientTotals, _rows


def whole_utc_days(start: datetime, end: datetime) -> bool:
    """The rollup counts by UTC day, so it is exact only for a period from midnight to midnight UTC."""
    return all(t.astimezone(UTC).time() == time(0) for t in (start, end))


_CONTACTS = """
ct AS (
    SELECT patient_id, count(*) AS n, count(*) FILTER (WHERE reached) AS h FROM (
        SELECT t.patient_id, bool_or(e.detail ->> 'outcome' = 'reached') AS reached
        FROM task_events e JOIN tasks t ON t.id = e.task_id
        WHERE t.patient_id = ANY(%(ids)s::bigint[]) AND e.kind = 'outcome' AND e.at >= %(from)s AND e.at < %(to)s
        GROUP BY t.patient_id, t.id
    ) x GROUP BY 1
), ck AS (
    SELECT patient_id, count(*) AS n, count(completed_at) AS h FROM program_module_items
    WHERE program_id = %(p)s AND item_kind = 'checkin' AND sent_at >= %(from)s AND sent_at < %(to)s GROUP BY 1
)"""

_TOTALS = f"""
WITH ids AS (SELECT unnest(%(ids)s::bigint[]) AS pid),
d AS (
    SELECT patient_id, sum(sent) AS sent, sum(answered) AS answered, sum(alerts) AS alerts, sum(tasks) AS tasks
    FROM program_patient_days
    WHERE patient_id = ANY(%(ids)s::bigint[]) AND day >= %(from_day)s AND day < %(to_day)s GROUP BY 1
), {_CONTACTS}
SELECT ids.pid, coalesce(d.sent, 0)::int, coalesce(d.answered, 0)::int, coalesce(ct.n, 0)::int,
       coalesce(ct.h, 0)::int, coalesce(ck.n, 0)::int, coalesce(ck.h, 0)::int, coalesce(d.alerts, 0)::int,
       coalesce(d.tasks, 0)::int
FROM ids LEFT JOIN d ON d.patient_id = ids.pid LEFT JOIN ct ON ct.patient_id = ids.pid
LEFT JOIN ck ON ck.patient_id = ids.pid
"""

_MONTHLY_TOUCHPOINTS = """
WITH a AS (SELECT patient_id, arm FROM program_allocations WHERE program_id = %(p)s)
SELECT a.arm, 'touchpoints', (date_trunc('month', d.day))::date, sum(d.sent)::int, sum(d.answered)::int
FROM program_patient_days d LEFT JOIN a ON a.patient_id = d.patient_id
WHERE d.patient_id = ANY(%(ids)s::bigint[]) AND d.day >= %(from_day)s AND d.day < %(to_day)s AND d.sent > 0
GROUP BY 1, 3
"""


def _params(program_id: str, ids: list[int], start: datetime, end: datetime) -> dict[str, object]:
    return {
        "p": program_id,
        "ids": ids,
        "from": start,
        "to": end,
        "from_day": start.astimezone(UTC).date(),
        "to_day": end.astimezone(UTC).date(),
        "channels": PATIENT_CHANNELS,
    }


async def patient_totals(
    conn: psycopg.AsyncConnection, program_id: str, ids: list[int], start: datetime, end: datetime
) -> list[PatientTotals]:
    """As program_kpis.patient_totals, for a period of whole UTC days."""
    return await _rows(conn, PatientTotals, _TOTALS, _params(program_id, ids, start, end))


async def monthly_touchpoints(
    conn: psycopg.AsyncConnection, program_id: str, ids: list[int], start: datetime, end: datetime
) -> list[MonthPoint]:
    """The 'touchpoints' series of program_kpis.monthly (per arm and UTC month), for whole UTC days."""
    return await _rows(conn, MonthPoint, _MONTHLY_TOUCHPOINTS, _params(program_id, ids, start, end))
