"""Answering: start or resume a response, keep partial answers, complete it and act on the results.

Completing a response, in the caller's transaction: scores (with bands) and observations are
stored as typed rows; the tags and record fields the answers declare are set (and what was
set is recorded); a post-visit date schedules the next SOP chain; the questionnaire alert rules
are evaluated for the patient and new episodes become tasks like any other alert.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

import psycopg

from vitalgate.alerts.config import QuestionnaireRule, RuleSet, default_rules
from vitalgate.alerts.engine import RaisedAlert, evaluate_patients
from vitalgate.core.localtime import to_instant
from vitalgate.followup.sop import ScheduledSop, schedule_sop
from vitalgate.followup.tasks import OpenedTask, act_on_alerts
from vitalgate.questionnaires import results
from vitalgate.questionnaires.answers import AnswerError, check_complete, parse_answers
from vitalgate.questionnaires.licences import check_licence
from vitalgate.questionnaires.model import Definition
from vitalgate.questionnaires.registry import get_definition
from vitalgate.store import patient_record, people, time_zones
from vitalgate.store import questionnaires as q_store
from vitalgate.store import tasks as task_store
from vitalgate.store.questionnaire_rows import ExtractedObservation, Extraction, Response, Score

# The next visit's SOP chain is anchored at this patient-local time on the visit date (the form
# asks for a date only; clinics open at 09:00, so a T-1 10:00 reminder comes the day before).
VISIT_ANCHOR_LOCAL = time(9, 0)
ENTERED_BY = ("patient", "caregiver", "staff")


class ResponseClosed(ValueError):
    """The response is completed; answers can no longer change."""


@dataclass(frozen=True, slots=True)
class Completed:
    response_id: int
    scores: tuple[results.ScoreValue, ...]
    changes: results.RecordChanges
    alerts: tuple[RaisedAlert, ...]
    tasks: tuple[OpenedTask, ...]
    sops: tuple[ScheduledSop, ...]


async def start_or_resume(
    conn: psycopg.AsyncConnection,
    *,
    patient_id: int,
    questionnaire_id: str,
    entered_by: str,
    user_id: int | None,
    language: str,
    now: datetime,
    task_id: int | None = None,
) -> tuple[Response, Definition]:
    """The patient's open response to this questionnaire (partial answers kept), else a new one."""
    if entered_by not in ENTERED_BY:
        raise ValueError(f"entered_by must be one of {ENTERED_BY}")
    definition = await get_definition(conn, questionnaire_id)
    await check_licence(conn, definition, now.date())
    existing = await q_store.open_response(conn, patient_id, questionnaire_id)
    if existing is not None:
        return existing, await get_definition(conn, questionnaire_id, existing.questionnaire_version)
    response_id = await q_store.start_response(
        conn,
        patient_id=patient_id,
        questionnaire_id=questionnaire_id,
        version=definition.version,
        language=language,
        entered_by=entered_by,
        entered_by_user_id=user_id,
        task_id=task_id,
        now=now,
    )
    response = await q_store.get_response(conn, response_id)
    assert response is not None
    return response, definition


async def save(
    conn: psycopg.AsyncConnection,
    response_id: int,
    raw_answers: Mapping[str, Any],
    *,
    now: datetime,
    complete: bool,
    entered_by: str | None = None,
    user_id: int | None = None,
) -> Completed | None:
    """Merge these answers into the response; complete it when asked (None while it stays partial).

    An empty value clears an answer. Completing checks every required, enabled item.
    """
    response = await q_store.get_response(conn, response_id, for_update=True)
    if response is None:
        raise LookupError(f"questionnaire response {response_id} does not exist")
    if response.status == "completed":
        raise ResponseClosed(f"questionnaire response {response_id} is completed")
    definition = await get_definition(conn, response.questionnaire_id, response.questionnaire_version)
    merged = {**response.answers, **{k: v for k, v in raw_answers.items()}}
    answers = parse_answers(definition, {k: v for k, v in merged.items() if v not in (None, "")})
    if complete:
        check_complete(definition, answers)
    await q_store.save_answers(
        conn, response_id, answers, now=now, completed=complete, entered_by=entered_by, entered_by_user_id=user_id
    )
    if not complete:
        return None
    return await _complete(conn, response, definition, answers, now)


async def _complete(
    conn: psycopg.AsyncConnection, response: Response, definition: Definition, answers: dict[str, Any], now: datetime
) -> Completed:
    patient = await people.get_patient(conn, response.patient_id)
    assert patient is not None
    scored = results.scores(definition, answers)
    changes = results.record_changes(definition, answers, patient.tags)
    fields = await _checked_fields(conn, response.patient_id, changes, now)
    rows = _rows(response, definition, answers, scored, changes, fields, now)
    await q_store.write_results(conn, *rows)
    await q_store.set_tags(conn, response.patient_id, add=list(changes.tags_added), remove=list(changes.tags_removed))
    if fields:
        await patient_record.update_record(conn, response.patient_id, fields)
    sops = []
    for purpose, (_link, day) in changes.sop_dates.items():
        sops.append(await _schedule(conn, response.patient_id, purpose, day, now))
    if response.task_id is not None:
        await _note_on_task(conn, response, scored, now)
    raised = await evaluate_patients(conn, [response.patient_id], now=now, rules=questionnaire_rules())
    tasks = await act_on_alerts(conn, raised, now=now)
    return Completed(response.id, tuple(scored), changes, tuple(raised), tuple(tasks), tuple(sops))


async def _note_on_task(
    conn: psycopg.AsyncConnection, response: Response, scored: list[results.ScoreValue], now: datetime
) -> None:
    """A questionnaire sent for a task (the escalation's link step) answered: the patient responded."""
    assert response.task_id is not None
    detail = {
        "response_id": response.id,
        "questionnaire": response.questionnaire_id,
        "scores": {s.name: s.value for s in scored},
    }
    await task_store.add_task_event(conn, response.task_id, now, response.entered_by, "questionnaire_answered", detail)
    if response.entered_by != "staff":
        await task_store.mark_patient_responded(conn, response.task_id, now)


def questionnaire_rules(rules: RuleSet | None = None) -> RuleSet:
    """Only the questionnaire rules: completing a response must not re-judge the patient's readings."""
    ruleset = rules or default_rules()
    return RuleSet(rules=[r for r in ruleset.rules if isinstance(r, QuestionnaireRule)])


async def _checked_fields(
    conn: psycopg.AsyncConnection, patient_id: int, changes: results.RecordChanges, now: datetime
) -> dict[str, Any]:
    """Record fields to set; a year of birth must be plausible and agree with a recorded birth date."""
    fields = {name: value for name, (_link, value) in changes.fields.items()}
    year = fields.get("birth_year")
    if year is not None:
        link = changes.fields["birth_year"][0]
        if not 1900 <= int(year) <= now.year:
            raise AnswerError(link, f"{year} is not a plausible year of birth")
        record = await patient_record.get_record(conn, patient_id)
        if record is not None and record.birth_date is not None:
            fields.pop("birth_year")  # the recorded birth date is more precise; keep it
    return fields


def _rows(
    response: Response,
    definition: Definition,
    answers: dict[str, Any],
    scored: list[results.ScoreValue],
    changes: results.RecordChanges,
    fields: dict[str, Any],
    now: datetime,
) -> tuple[list[Score], list[ExtractedObservation], list[Extraction]]:
    pid, rid = response.patient_id, response.id
    scores = [
        Score(rid, pid, definition.id, s.name, s.value, s.band, s.code["code"] if s.code else None, now) for s in scored
    ]
    observations = [
        ExtractedObservation(
            rid, pid, o.link_id, o.code["system"], o.code["code"], o.code.get("display", ""), o.value, o.unit, now
        )
        for o in results.observations(definition, answers)
    ]
    extractions = [Extraction(rid, pid, link, "tag_added", tag, None) for tag, link in changes.tags_added.items()]
    extractions += [Extraction(rid, pid, link, "tag_removed", tag, None) for tag, link in changes.tags_removed.items()]
    extractions += [Extraction(rid, pid, changes.fields[n][0], "field", n, str(v)) for n, v in fields.items()]
    return scores, observations, extractions


async def _schedule(
    conn: psycopg.AsyncConnection, patient_id: int, purpose: str, day: date, now: datetime
) -> ScheduledSop:
    clock = await time_zones.patient_clock(conn, patient_id)
    assert clock is not None
    anchor = to_instant(day, VISIT_ANCHOR_LOCAL, clock.zone_name)
    return await schedule_sop(conn, patient_id=patient_id, anchor_at=anchor, now=now, purpose=purpose)
