"""Questionnaire SQL: admin-added definitions, licences, responses, scores, observations, extractions."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import psycopg
from psycopg.rows import class_row
from psycopg.types.json import Jsonb

from vitalgate.store.db import scalar
from vitalgate.store.questionnaire_rows import (
    ExtractedObservation,
    Extraction,
    LatestScore,
    Licence,
    Response,
    Score,
    StoredDefinition,
)

_RESPONSE = (
    "SELECT id, patient_id, questionnaire_id, questionnaire_version, status, answers, language, entered_by,"
    " entered_by_user_id, task_id, started_at, updated_at, completed_at FROM questionnaire_responses"
)


async def add_definition(
    conn: psycopg.AsyncConnection, questionnaire_id: str, version: str, resource: dict[str, Any], *, added_by: str
) -> bool:
    """Store a validated definition version; False when that version exists (versions are immutable)."""
    async with conn.cursor() as cur:
        await cur.execute(
            "INSERT INTO questionnaire_definitions (questionnaire_id, version, resource, added_by)"
            " VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING",
            (questionnaire_id, version, Jsonb(resource), added_by),
        )
        return cur.rowcount == 1


async def stored_definitions(conn: psycopg.AsyncConnection) -> list[StoredDefinition]:
    async with conn.cursor(row_factory=class_row(StoredDefinition)) as cur:
        await cur.execute(
            "SELECT questionnaire_id, version, resource, added_by, added_at FROM questionnaire_definitions"
            " ORDER BY questionnaire_id, added_at"
        )
        return await cur.fetchall()


async def record_licence(
    conn: psycopg.AsyncConnection,
    instrument: str,
    *,
    licensee: str,
    reference: str,
    valid_until: date | None,
    recorded_by: str,
) -> None:
    await conn.execute(
        "INSERT INTO questionnaire_licences (instrument, licensee, reference, valid_until, recorded_by)"
        " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (instrument) DO UPDATE SET licensee = EXCLUDED.licensee,"
        " reference = EXCLUDED.reference, valid_until = EXCLUDED.valid_until, recorded_by = EXCLUDED.recorded_by,"
        " recorded_at = now()",
        (instrument, licensee, reference, valid_until, recorded_by),
    )


async def licence(conn: psycopg.AsyncConnection, instrument: str) -> Licence | None:
    async with conn.cursor(row_factory=class_row(Licence)) as cur:
        await cur.execute(
            "SELECT instrument, licensee, reference, valid_until, recorded_by, recorded_at"
            " FROM questionnaire_licences WHERE instrument = %s",
            (instrument,),
        )
        return await cur.fetchone()


async def start_response(
    conn: psycopg.AsyncConnection,
    *,
    patient_id: int,
    questionnaire_id: str,
    version: str,
    language: str,
    entered_by: str,
    entered_by_user_id: int | None,
    task_id: int | None,
    now: datetime,
) -> int:
    return int(
        await scalar(
            conn,
            "INSERT INTO questionnaire_responses (patient_id, questionnaire_id, questionnaire_version, language,"
            " entered_by, entered_by_user_id, task_id, started_at, updated_at)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
            (patient_id, questionnaire_id, version, language, entered_by, entered_by_user_id, task_id, now, now),
        )
    )


async def get_response(conn: psycopg.AsyncConnection, response_id: int, *, for_update: bool = False) -> Response | None:
    async with conn.cursor(row_factory=class_row(Response)) as cur:
        await cur.execute(_RESPONSE + " WHERE id = %s" + (" FOR UPDATE" if for_update else ""), (response_id,))
        return await cur.fetchone()


async def open_response(conn: psycopg.AsyncConnection, patient_id: int, questionnaire_id: str) -> Response | None:
    """The patient's newest in-progress response to a questionnaire (to resume), if any."""
    async with conn.cursor(row_factory=class_row(Response)) as cur:
        await cur.execute(
            _RESPONSE + " WHERE patient_id = %s AND questionnaire_id = %s AND status = 'in-progress'"
            " ORDER BY updated_at DESC, id DESC LIMIT 1",
            (patient_id, questionnaire_id),
        )
        return await cur.fetchone()


async def save_answers(
    conn: psycopg.AsyncConnection,
    response_id: int,
    answers: dict[str, Any],
    *,
    now: datetime,
    completed: bool,
    entered_by: str | None = None,
    entered_by_user_id: int | None = None,
) -> None:
    """Keep the answers so far (partial), or complete the response."""
    await conn.execute(
        "UPDATE questionnaire_responses SET answers = %s, updated_at = %s,"
        " status = CASE WHEN %s THEN 'completed' ELSE status END,"
        " completed_at = CASE WHEN %s THEN %s ELSE completed_at END,"
        " entered_by = coalesce(%s, entered_by), entered_by_user_id = coalesce(%s, entered_by_user_id)"
        " WHERE id = %s",
        (Jsonb(answers), now, completed, completed, now, entered_by, entered_by_user_id, response_id),
    )


async def patient_responses(conn: psycopg.AsyncConnection, patient_id: int, limit: int = 50) -> list[Response]:
    async with conn.cursor(row_factory=class_row(Response)) as cur:
        await cur.execute(
            _RESPONSE + " WHERE patient_id = %s ORDER BY coalesce(completed_at, updated_at) DESC, id DESC LIMIT %s",
            (patient_id, limit),
        )
        return await cur.fetchall()


async def write_results(
    conn: psycopg.AsyncConnection,
    scores: Sequence[Score],
    observations: Sequence[ExtractedObservation],
    extractions: Sequence[Extraction],
) -> None:
    """The typed results of one completed response."""
    async with conn.cursor() as cur:
        await cur.executemany(
            "INSERT INTO questionnaire_scores (response_id, patient_id, questionnaire_id, name, value, band, loinc,"
            " scored_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
            [
                (s.response_id, s.patient_id, s.questionnaire_id, s.name, s.value, s.band, s.loinc, s.scored_at)
                for s in scores
            ],
        )
        await cur.executemany(
            "INSERT INTO questionnaire_observations (response_id, patient_id, link_id, code_system, code, display,"
            " value, unit, effective_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
            [
                (
                    o.response_id,
                    o.patient_id,
                    o.link_id,
                    o.code_system,
                    o.code,
                    o.display,
                    o.value,
                    o.unit,
                    o.effective_at,
                )
                for o in observations
            ],
        )
        await cur.executemany(
            "INSERT INTO questionnaire_extractions (response_id, patient_id, link_id, target, name, value)"
            " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
            [(e.response_id, e.patient_id, e.link_id, e.target, e.name, e.value) for e in extractions],
        )


async def scores_of(conn: psycopg.AsyncConnection, patient_id: int) -> list[Score]:
    async with conn.cursor(row_factory=class_row(Score)) as cur:
        await cur.execute(
            "SELECT response_id, patient_id, questionnaire_id, name, value, band, loinc, scored_at"
            " FROM questionnaire_scores WHERE patient_id = %s ORDER BY scored_at, response_id, name",
            (patient_id,),
        )
        return await cur.fetchall()


async def observations_of(conn: psycopg.AsyncConnection, patient_id: int) -> list[ExtractedObservation]:
    async with conn.cursor(row_factory=class_row(ExtractedObservation)) as cur:
        await cur.execute(
            "SELECT response_id, patient_id, link_id, code_system, code, display, value, unit, effective_at"
            " FROM questionnaire_observations WHERE patient_id = %s ORDER BY effective_at, response_id, link_id",
            (patient_id,),
        )
        return await cur.fetchall()


async def extractions_of(conn: psycopg.AsyncConnection, patient_id: int) -> list[Extraction]:
    async with conn.cursor(row_factory=class_row(Extraction)) as cur:
        await cur.execute(
            "SELECT response_id, patient_id, link_id, target, name, value FROM questionnaire_extractions"
            " WHERE patient_id = %s ORDER BY response_id, target, name",
            (patient_id,),
        )
        return await cur.fetchall()


async def set_tags(
    conn: psycopg.AsyncConnection, patient_id: int, *, add: Sequence[str], remove: Sequence[str]
) -> None:
    """Remove then add tags in one statement (the tag array stays de-duplicated and sorted)."""
    await conn.execute(
        "UPDATE patients SET tags = ARRAY(SELECT DISTINCT t FROM unnest(tags || %s::text[]) t"
        " WHERE t <> ALL(%s::text[]) OR t = ANY(%s::text[]) ORDER BY t), updated_at = now() WHERE id = %s",
        (list(add), list(remove), list(add), patient_id),
    )


async def latest_scores(
    conn: psycopg.AsyncConnection, patient_ids: Sequence[int], wanted: Sequence[tuple[str, str]], since: datetime
) -> list[LatestScore]:
    """Per patient and (questionnaire, score): the score of the latest completed response since `since`."""
    if not wanted or not patient_ids:
        return []
    async with conn.cursor(row_factory=class_row(LatestScore)) as cur:
        await cur.execute(
            """
            SELECT DISTINCT ON (r.patient_id, s.questionnaire_id, s.name)
                   r.patient_id, s.questionnaire_id, s.name, s.value, r.id AS response_id, r.completed_at
            FROM questionnaire_responses r
            JOIN questionnaire_scores s ON s.response_id = r.id
            JOIN unnest(%s::text[], %s::text[]) w(qid, name) ON w.qid = s.questionnaire_id AND w.name = s.name
            WHERE r.patient_id = ANY(%s::bigint[]) AND r.status = 'completed' AND r.completed_at >= %s
            ORDER BY r.patient_id, s.questionnaire_id, s.name, r.completed_at DESC, r.id DESC
            """,
            ([q for q, _ in wanted], [n for _, n in wanted], list(patient_ids), since),
        )
        return await cur.fetchall()
