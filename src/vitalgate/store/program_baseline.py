"""Baseline covariates for randomisation, read at enrolment (age, sex, condition, 30-day readings).

Time in range is the share of glucose readings within 70-180 mg/dL (the international consensus
range, Battelino 2019), whatever the patient's own targets, so arms compare on one scale.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import psycopg
from psycopg.rows import class_row

BASELINE_DAYS = 30
TIR_LOW_MG_DL = 70.0
TIR_HIGH_MG_DL = 180.0


@dataclass(frozen=True, slots=True)
class BaselineFacts:
    patient_id: int
    birth_date: date | None
    birth_year: int | None
    sex: str | None
    condition_subtype: str | None
    condition_stage: str | None
    tir_pct: float | None
    glucose_n: int
    systolic_mean_mmhg: float | None
    systolic_n: int


async def baseline_facts(
    conn: psycopg.AsyncConnection,
    patient_ids: Sequence[int],
    *,
    condition: str | None,
    until: datetime,
    since: datetime | None = None,
) -> dict[int, BaselineFacts]:
    """Facts per patient; readings from [since, until) (default: the 30 days before `until`)."""
    since = since or until - timedelta(days=BASELINE_DAYS)
    async with conn.cursor(row_factory=class_row(BaselineFacts)) as cur:
        await cur.execute(
            """
            SELECT p.id AS patient_id, p.birth_date, p.birth_year::int AS birth_year, p.sex,
                   c.subtype AS condition_subtype, c.stage AS condition_stage,
                   100.0 * avg(CASE WHEN r.glucose_mg_dl BETWEEN %(lo)s AND %(hi)s THEN 1.0 ELSE 0.0 END)
                       FILTER (WHERE r.glucose_mg_dl IS NOT NULL) AS tir_pct,
                   count(r.glucose_mg_dl)::int AS glucose_n,
                   avg(r.systolic_mmhg) AS systolic_mean_mmhg, count(r.systolic_mmhg)::int AS systolic_n
            FROM patients p
            LEFT JOIN LATERAL (SELECT subtype, stage FROM patient_conditions pc
                               WHERE pc.patient_id = p.id AND %(cond)s::text IS NOT NULL
                                 AND (pc.code = %(cond)s OR pc.code LIKE %(cond)s || '.%%')
                               ORDER BY pc.code LIMIT 1) c ON true
            LEFT JOIN readings r ON r.patient_id = p.id AND r.measured_at >= %(since)s AND r.measured_at < %(until)s
            WHERE p.id = ANY(%(ids)s::bigint[])
            GROUP BY p.id, c.subtype, c.stage
            """,
            {
                "ids": list(patient_ids),
                "cond": condition,
                "since": since,
                "until": until,
                "lo": TIR_LOW_MG_DL,
                "hi": TIR_HIGH_MG_DL,
            },
        )
        return {row.patient_id: row for row in await cur.fetchall()}
