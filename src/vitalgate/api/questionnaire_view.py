"""The patient page's questionnaire section: responses, scores over time (PHQ-9/GAD-7 chart), tags set."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import psycopg

from vitalgate.questionnaires.model import Text
from vitalgate.questionnaires.registry import current_definitions, get_definition
from vitalgate.store import questionnaires as q_store
from vitalgate.store.questionnaire_rows import Extraction, Response

# Charted scales and their score ranges (PHQ-9 0-27, GAD-7 0-21).
CHARTED = {"phq-9": 27.0, "gad-7": 21.0}
CHART_W, CHART_H, PAD = 320, 120, 16


@dataclass(frozen=True, slots=True)
class ResponseRow:
    id: int
    title: Text  # in both languages; the page picks its own
    status: str
    entered_by: str
    at: datetime
    scores: str  # "total 10 (moderate), item-9 2"
    tags: tuple[str, ...]  # tags this response added


@dataclass(frozen=True, slots=True)
class Series:
    questionnaire: str
    points: str  # SVG polyline points
    dots: tuple[tuple[float, float, str], ...]  # (x, y, label)


@dataclass(frozen=True, slots=True)
class QuestionnairePanel:
    responses: tuple[ResponseRow, ...]
    series: tuple[Series, ...]
    available: tuple[tuple[str, Text], ...]  # (id, title) staff may fill in or send
    width: int = CHART_W
    height: int = CHART_H


def _tags(extractions: list[Extraction], response_id: int) -> tuple[str, ...]:
    return tuple(e.name for e in extractions if e.response_id == response_id and e.target == "tag_added")


async def _title(conn: psycopg.AsyncConnection, response: Response) -> Text:
    try:
        return (await get_definition(conn, response.questionnaire_id, response.questionnaire_version)).title
    except LookupError:
        return Text(response.questionnaire_id, response.questionnaire_id)


async def questionnaire_panel(conn: psycopg.AsyncConnection, patient_id: int) -> QuestionnairePanel:
    responses = await q_store.patient_responses(conn, patient_id, limit=30)
    scores = await q_store.scores_of(conn, patient_id)
    extractions = await q_store.extractions_of(conn, patient_id)
    rows = []
    for r in responses:
        own = [s for s in scores if s.response_id == r.id]
        text = ", ".join(f"{s.name} {s.value:g}" + (f" ({s.band})" if s.band else "") for s in own)
        rows.append(
            ResponseRow(
                r.id,
                await _title(conn, r),
                r.status,
                r.entered_by,
                r.completed_at or r.updated_at,
                text,
                _tags(extractions, r.id),
            )
        )
    series = []
    for qid, top in CHARTED.items():
        totals = [s for s in scores if s.questionnaire_id == qid and s.name == "total"]
        if not totals:
            continue
        t0, t1 = totals[0].scored_at.timestamp(), totals[-1].scored_at.timestamp()
        span = max(t1 - t0, 1.0)
        dots = []
        for s in totals:
            x = PAD + (CHART_W - 2 * PAD) * ((s.scored_at.timestamp() - t0) / span if len(totals) > 1 else 0.5)
            y = CHART_H - PAD - (CHART_H - 2 * PAD) * min(s.value, top) / top
            dots.append(
                (round(x, 1), round(y, 1), f"{s.scored_at:%Y-%m-%d}: {s.value:g}" + (f" {s.band}" if s.band else ""))
            )
        series.append(Series(qid, " ".join(f"{x},{y}" for x, y, _ in dots), tuple(dots)))
    available = tuple((d.id, d.title) for d in (await current_definitions(conn)).values())
    return QuestionnairePanel(tuple(rows), tuple(series), available)
