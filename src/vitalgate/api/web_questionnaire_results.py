"""One questionnaire response as the care team reads it: each answer in the patient's words, scores, tags set."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from vitalgate.api.deps import Conn, audit, visible_patient
from vitalgate.api.web_common import login_redirect, render, web_principal
from vitalgate.api.web_locale import page_locale
from vitalgate.questionnaires.form import form_items
from vitalgate.questionnaires.registry import get_definition
from vitalgate.questionnaires.ui_text import ui
from vitalgate.store import questionnaires as q_store

router = APIRouter(include_in_schema=False)


@router.get("/ui/patients/{patient_id}/questionnaire-responses/{response_id}", response_class=HTMLResponse)
async def response_page(patient_id: int, response_id: int, request: Request, conn: Conn) -> Response:
    principal = await web_principal(request, conn)
    if principal is None:
        return login_redirect(request)
    patient = await visible_patient(conn, principal, patient_id)
    response = await q_store.get_response(conn, response_id)
    if response is None or response.patient_id != patient_id:
        raise HTTPException(status_code=404, detail=f"questionnaire response {response_id} not found")
    definition = await get_definition(conn, response.questionnaire_id, response.questionnaire_version)
    language = str(page_locale(request).language)  # the reader's language (the answers were given in response.language)
    items = [
        i for i in form_items(definition, response.answers, language, ui(language)) if i.type != "display" and i.shown
    ]
    scores = [s for s in await q_store.scores_of(conn, patient_id) if s.response_id == response_id]
    changes = [e for e in await q_store.extractions_of(conn, patient_id) if e.response_id == response_id]
    observations = [o for o in await q_store.observations_of(conn, patient_id) if o.response_id == response_id]
    await audit(conn, principal, request, "read:questionnaire_response", patient_id, {"response_id": response_id})
    return render(
        request,
        "questionnaire_response.html",
        principal,
        patient=patient,
        response=response,
        definition=definition,
        items=items,
        scores=scores,
        changes=changes,
        observations=observations,
    )
