"""Quality control of follow-up work (migration 0025): weekly samples of closed tasks and calls, and reviews."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

import psycopg
from psycopg.rows import class_row, tuple_row


@dataclass(frozen=True, slots=True)
class QcCandidate:
    """A closed task (task_event_id None) or a call (an outcome event) in the week, with who did it."""

    task_id: int
    task_event_id: int | None
    staff: str
    care_team_id: int


@dataclass(frozen=True, slots=True)
class QcItem:
    sample_id: int
    week_start: date
    subject: str
    task_id: int
    task_event_id: int | None
    staff: str
    care_team_id: int
    patient_id: int
    title: str  # the task's English title; title_key/params translate it (api.web_titles.task_title)
    title_key: str | None
    title_params: dict[str, object] | None
    severity: str
    outcome: str | None
    reviewer: str | None
    reviewed_at: datetime | None
    script_used: bool | None
    outcome_documented: bool | None
    sla_met: bool | None
    patient_reached: bool | None
    score: float | None
    feedback: str | None


async def candidates(conn: psycopg.AsyncConnection, start: datetime, end: datetime) -> list[QcCandidate]:
    """Tasks closed by a person and calls (outcome events) made in [start, end), oldest first."""
    async with conn.cursor(row_factory=class_row(QcCandidate)) as cur:
        await cur.execute(
            """
            SELECT e.task_id, CASE WHEN e.kind = 'outcome' THEN e.id END AS task_event_id, e.actor AS staff,
                   t.care_team_id
            FROM task_events e JOIN tasks t ON t.id = e.task_id
            WHERE e.at >= %s AND e.at < %s AND e.kind IN ('closed', 'outcome')
              AND e.actor NOT IN ('system', 'patient') AND e.actor NOT LIKE 'system:%%'
            ORDER BY e.at, e.id
            """,
            (start, end),
        )
        return await cur.fetchall()


async def insert_samples(
    conn: psycopg.AsyncConnection,
    week_start: date,
    chosen: Sequence[QcCandidate],
    *,
    share: float,
    seed: int,
    at: datetime,
) -> int:
    if not chosen:
        return 0
    async with conn.cursor() as cur:
        await cur.executemany(
            "INSERT INTO qc_samples (week_start, subject, task_id, task_event_id, staff, care_team_id, share, seed,"
            " sampled_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
            [
                (
                    week_start,
                    "call" if c.task_event_id else "task",
                    c.task_id,
                    c.task_event_id,
                    c.staff,
                    c.care_team_id,
                    share,
                    seed,
                    at,
                )
                for c in chosen
            ],
        )
        return cur.rowcount


_ITEM = """
SELECT s.id AS sample_id, s.week_start, s.subject, s.task_id, s.task_event_id, s.staff, s.care_team_id,
       t.patient_id, t.title, t.title_key, t.title_params, t.severity, t.outcome, r.reviewer, r.reviewed_at,
       r.script_used, r.outcome_documented, r.sla_met, r.patient_reached, r.score, r.feedback
FROM qc_samples s JOIN tasks t ON t.id = s.task_id LEFT JOIN qc_reviews r ON r.sample_id = s.id
"""


async def queue(conn: psycopg.AsyncConnection, care_team_ids: Sequence[int], *, pending_only: bool) -> list[QcItem]:
    async with conn.cursor(row_factory=class_row(QcItem)) as cur:
        await cur.execute(
            _ITEM + " WHERE s.care_team_id = ANY(%s::bigint[]) AND (NOT %s OR r.sample_id IS NULL)"
            " ORDER BY s.week_start DESC, s.id",
            (list(care_team_ids), pending_only),
        )
        return await cur.fetchall()


async def of_staff(conn: psycopg.AsyncConnection, staff: str) -> list[QcItem]:
    """What a staff member sees: their reviewed samples, score and feedback."""
    async with conn.cursor(row_factory=class_row(QcItem)) as cur:
        await cur.execute(
            _ITEM + " WHERE s.staff = %s AND r.sample_id IS NOT NULL ORDER BY r.reviewed_at DESC", (staff,)
        )
        return await cur.fetchall()


async def get(conn: psycopg.AsyncConnection, sample_id: int) -> QcItem | None:
    async with conn.cursor(row_factory=class_row(QcItem)) as cur:
        await cur.execute(_ITEM + " WHERE s.id = %s", (sample_id,))
        return await cur.fetchone()


async def insert_review(
    conn: psycopg.AsyncConnection,
    sample_id: int,
    *,
    reviewer: str,
    at: datetime,
    checklist: dict[str, bool],
    score: float,
    feedback: str,
) -> bool:
    """False when the sample was reviewed already (one review per sample)."""
    async with conn.cursor(row_factory=tuple_row) as cur:
        await cur.execute(
            "INSERT INTO qc_reviews (sample_id, reviewer, reviewed_at, script_used, outcome_documented, sla_met,"
            " patient_reached, score, feedback) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)"
            " ON CONFLICT (sample_id) DO NOTHING",
            (
                sample_id,
                reviewer,
                at,
                checklist["script_used"],
                checklist["outcome_documented"],
                checklist["sla_met"],
                checklist["patient_reached"],
                score,
                feedback,
            ),
        )
        return cur.rowcount == 1


async def scores(conn: psycopg.AsyncConnection, start: datetime, end: datetime) -> list[tuple[str, int, float]]:
    """(staff, care team, score) of the reviews of samples drawn in [start, end) (QC feeds the KPIs)."""
    async with conn.cursor(row_factory=tuple_row) as cur:
        await cur.execute(
            "SELECT s.staff, s.care_team_id, r.score FROM qc_samples s JOIN qc_reviews r ON r.sample_id = s.id"
            " WHERE s.sampled_at >= %s AND s.sampled_at < %s",
            (start, end),
        )
        return [(str(a), int(b), float(c)) for a, b, c in await cur.fetchall()]
