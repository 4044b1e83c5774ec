"""Questionnaire API: definitions (admins add versions), licences, staff-entered responses, FHIR export."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, HTTPException, Query, Request
from fastapi import Path as FastApiPath
from pydantic import BaseModel, Field

from vitalgate.api.deps import AdminUser, Conn, CurrentUser, ScopedPatient, StaffUser, audit, state
from vitalgate.api.routes_fhir import FhirJSONResponse
from vitalgate.api.schemas import ErrorOut
from vitalgate.questionnaires import fhir as q_fhir
from vitalgate.questionnaires import registry, service
from vitalgate.questionnaires.answers import AnswerError, Incomplete
from vitalgate.questionnaires.licences import LicenceRequired
from vitalgate.questionnaires.model import DefinitionError
from vitalgate.store import questionnaires as q_store

router = APIRouter(tags=["questionnaires"], responses={401: {"model": ErrorOut}, 404: {"model": ErrorOut}})


class DefinitionOut(BaseModel):
    id: str
    version: str
    title: str
    title_zh_hans: str
    licence_required: str | None
    questions: int
    scores: list[str]


class LicenceIn(BaseModel):
    instrument: str = Field(pattern=r"^[a-z0-9][a-z0-9\-]*$", max_length=64)
    licensee: str = Field(min_length=1, max_length=200)
    reference: str = Field(min_length=1, max_length=200)
    valid_until: date | None = None


class ResponseIn(BaseModel):
    questionnaire: str = Field(pattern=r"^[a-z0-9][a-z0-9\-]*$", max_length=64)
    answers: dict[str, str | int | float | bool | None] = Field(default_factory=dict, max_length=500)
    complete: bool = True


class ResponseOut(BaseModel):
    response_id: int
    status: str
    scores: list[dict[str, Any]] = []
    tags_added: list[str] = []
    tags_removed: list[str] = []
    fields: dict[str, Any] = {}
    task_ids: list[int] = []
    sop_instance_ids: list[int] = []


def _out(definition: Any) -> DefinitionOut:
    return DefinitionOut(
        id=definition.id,
        version=definition.version,
        title=definition.title.en,
        title_zh_hans=definition.title.zh,
        licence_required=definition.licence,
        questions=len(definition.questions),
        scores=[s.name for s in definition.scores],
    )


@router.get("/questionnaires", response_model=list[DefinitionOut])
async def list_definitions(conn: Conn, principal: CurrentUser) -> list[DefinitionOut]:
    """The current version of each questionnaire."""
    return [_out(d) for d in (await registry.current_definitions(conn)).values()]


@router.post("/questionnaires", response_model=DefinitionOut, status_code=201, responses={422: {"model": ErrorOut}})
async def add_definition(
    request: Request, conn: Conn, principal: AdminUser, resource: dict[str, Any] = Body(...)
) -> DefinitionOut:
    """Add a FHIR R4 Questionnaire (a new id, or a new version of one); refused with the item named."""
    try:
        definition = await registry.add_definition(conn, resource, added_by=principal.username)
    except DefinitionError as exc:
        await conn.rollback()
        raise HTTPException(status_code=422, detail=str(exc)) from exc
    await audit(
        conn,
        principal,
        request,
        "change:questionnaire_definition",
        None,
        {"questionnaire": definition.id, "version": definition.version},
    )
    return _out(definition)


@router.post("/questionnaires/licences", status_code=204)
async def record_licence(body: LicenceIn, request: Request, conn: Conn, principal: AdminUser) -> None:
    """Record the licence a licence-required scale needs (e.g. MMAS-8)."""
    await q_store.record_licence(
        conn,
        body.instrument,
        licensee=body.licensee,
        reference=body.reference,
        valid_until=body.valid_until,
        recorded_by=principal.username,
    )
    await audit(conn, principal, request, "change:questionnaire_licence", None, {"instrument": body.instrument})


@router.post(
    "/patients/{patient_id}/questionnaire-responses",
    response_model=ResponseOut,
    responses={403: {"model": ErrorOut}, 422: {"model": ErrorOut}},
)
async def enter_response(
    patient: ScopedPatient, body: ResponseIn, request: Request, conn: Conn, principal: StaffUser
) -> ResponseOut:
    """Staff enter answers on the patient's behalf (recorded as such); partial answers are kept."""
    patient_id = patient.id
    now = datetime.now(UTC)
    try:
        response, _ = await service.start_or_resume(
            conn,
            patient_id=patient_id,
            questionnaire_id=body.questionnaire,
            entered_by="staff",
            user_id=principal.user_id,
            language="en",
            now=now,
        )
        done = await service.save(
            conn,
            response.id,
            body.answers,
            now=now,
            complete=body.complete,
            entered_by="staff",
            user_id=principal.user_id,
        )
    except registry.UnknownQuestionnaire as exc:
        await conn.rollback()
        raise HTTPException(status_code=404, detail=str(exc)) from exc
    except LicenceRequired as exc:
        await conn.rollback()
        raise HTTPException(status_code=403, detail=str(exc)) from exc
    except (AnswerError, Incomplete) as exc:
        await conn.rollback()
        raise HTTPException(status_code=422, detail=str(exc)) from exc
    await audit(
        conn,
        principal,
        request,
        "change:questionnaire_response",
        patient_id,
        {"questionnaire": body.questionnaire, "response_id": response.id, "complete": body.complete},
    )
    if done is None:
        return ResponseOut(response_id=response.id, status="in-progress")
    return ResponseOut(
        response_id=done.response_id,
        status="completed",
        scores=[{"name": s.name, "value": s.value, "band": s.band} for s in done.scores],
        tags_added=sorted(done.changes.tags_added),
        tags_removed=sorted(done.changes.tags_removed),
        fields={k: v for k, (_link, v) in done.changes.fields.items()},
        task_ids=[t.task_id for t in done.tasks],
        sop_instance_ids=[s.instance_id for s in done.sops],
    )


@router.get("/fhir/Questionnaire/{questionnaire_id}", response_class=FhirJSONResponse)
async def fhir_questionnaire(
    questionnaire_id: Annotated[str, FastApiPath(pattern=r"^[a-z0-9][a-z0-9\-]*$", max_length=64)],
    conn: Conn,
    principal: CurrentUser,
    version: Annotated[str | None, Query(pattern=r"^[A-Za-z0-9.\-]{1,32}$")] = None,
) -> FhirJSONResponse:
    """A definition as the FHIR R4 Questionnaire it is stored as (current, or ?version=)."""
    try:
        definition = await registry.get_definition(conn, questionnaire_id, version)
    except registry.UnknownQuestionnaire as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from exc
    return FhirJSONResponse(definition.resource)


@router.get("/fhir/Patient/{patient_id}/QuestionnaireResponse", response_class=FhirJSONResponse)
async def fhir_responses(
    patient: ScopedPatient, request: Request, conn: Conn, principal: CurrentUser
) -> FhirJSONResponse:
    """The patient's responses, then their scores and lab values as Observations (LOINC where one exists)."""
    patient_id = patient.id
    resources: list[dict[str, Any]] = []
    definitions = {}
    for response in await q_store.patient_responses(conn, patient_id, limit=500):
        definition = await registry.get_definition(conn, response.questionnaire_id, response.questionnaire_version)
        definitions[response.id] = definition
        resources.append(q_fhir.questionnaire_response(response, definition))
    for score in await q_store.scores_of(conn, patient_id):
        if score.response_id in definitions:
            resources.append(q_fhir.score_observation(score, definitions[score.response_id]))
    resources += [q_fhir.extracted_observation(o) for o in await q_store.observations_of(conn, patient_id)]
    public = state(request).public_url
    await audit(
        conn,
        principal,
        request,
        "export:fhir",
        patient_id,
        {"resource": "QuestionnaireResponse", "count": len(resources)},
    )
    return FhirJSONResponse(q_fhir.bundle(resources, f"{public}/fhir", f"{public}{request.url.path}"))
