"""Staff fill a questionnaire in during a call (recorded as entered by staff), or make a link for the patient."""

from __future__ import annotations

from datetime import UTC, datetime

import psycopg
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from vitalgate.api.deps import Conn, audit, state, visible_patient
from vitalgate.api.questionnaire_page import (
    answers_of,
    page_language,
    questionnaire_page,
    questionnaire_path,
    save_or_page,
)
from vitalgate.api.web_common import check_form_csrf, login_redirect, render
from vitalgate.domain import LinkPurpose
from vitalgate.notify import links
from vitalgate.questionnaires import service
from vitalgate.questionnaires.licences import LicenceRequired
from vitalgate.questionnaires.registry import UnknownQuestionnaire
from vitalgate.questionnaires.ui_text import ui

router = APIRouter(include_in_schema=False)


async def _staff(request: Request, conn: psycopg.AsyncConnection, patient_id: int):
    from vitalgate.api.web_common import web_principal

    principal = await web_principal(request, conn)
    if principal is None:
        return None
    if not principal.is_staff:
        raise HTTPException(status_code=403, detail="only care-team staff fill in a questionnaire for a patient")
    await visible_patient(conn, principal, patient_id)
    return principal


async def _staff_start(conn, principal, patient_id: int, questionnaire_id: str, language: str, now: datetime):
    try:
        return await service.start_or_resume(
            conn,
            patient_id=patient_id,
            questionnaire_id=questionnaire_id,
            entered_by="staff",
            user_id=principal.user_id,
            language=language,
            now=now,
        )
    except UnknownQuestionnaire as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from exc
    except LicenceRequired as exc:
        raise HTTPException(status_code=403, detail=str(exc)) from exc


@router.get("/ui/patients/{patient_id}/questionnaires/{questionnaire_id}", response_class=HTMLResponse)
async def staffquestionnaire_page(patient_id: int, questionnaire_id: str, request: Request, conn: Conn) -> Response:
    """A nurse fills the questionnaire in during a call; recorded as entered by staff."""
    principal = await _staff(request, conn, patient_id)
    if principal is None:
        return login_redirect(request)
    now = datetime.now(UTC)
    language = await page_language(request, conn, patient_id)
    response, definition = await _staff_start(conn, principal, patient_id, questionnaire_id, language, now)
    await audit(conn, principal, request, "read:questionnaire", patient_id, {"questionnaire": questionnaire_id})
    return questionnaire_page(
        request,
        definition,
        response,
        language,
        action=request.url.path,
        csrf=state(request).signer.csrf_token(principal.session_id),
        on_behalf=ui(language)["on_behalf"].format(name=principal.display_name),
    )


@router.post("/ui/patients/{patient_id}/questionnaires/{questionnaire_id}", response_class=HTMLResponse)
async def staff_submit(patient_id: int, questionnaire_id: str, request: Request, conn: Conn) -> Response:
    principal = await _staff(request, conn, patient_id)
    if principal is None:
        return login_redirect(request)
    form = await request.form()
    check_form_csrf(request, principal, str(form.get("csrf") or ""))
    now = datetime.now(UTC)
    language = str(form.get("lang") or "en")
    response, definition = await _staff_start(conn, principal, patient_id, questionnaire_id, language, now)
    submit = form.get("action") == "submit"
    answers = answers_of(form, definition)
    page = await save_or_page(
        request,
        conn,
        response,
        definition,
        answers,
        language,
        now,
        submit,
        action=request.url.path,
        entered_by="staff",
        user_id=principal.user_id,
        csrf=str(form.get("csrf") or ""),
        on_behalf=ui(language)["on_behalf"].format(name=principal.display_name),
    )
    if page is not None:
        return page
    action = "change:questionnaire_submitted" if submit else "change:questionnaire_saved"
    await audit(
        conn, principal, request, action, patient_id, {"questionnaire": questionnaire_id, "response_id": response.id}
    )
    return RedirectResponse(f"/ui/patients/{patient_id}#questionnaires", status_code=303)


@router.post("/ui/patients/{patient_id}/questionnaires/{questionnaire_id}/link", response_class=HTMLResponse)
async def send_link(patient_id: int, questionnaire_id: str, request: Request, conn: Conn) -> Response:
    """Issue a signed link of purpose questionnaire for the patient (shown once, to pass on)."""
    principal = await _staff(request, conn, patient_id)
    if principal is None:
        return login_redirect(request)
    form = await request.form()
    check_form_csrf(request, principal, str(form.get("csrf") or ""))
    now = datetime.now(UTC)
    await _staff_start(conn, principal, patient_id, questionnaire_id, "en", now)  # refuses unknown / unlicensed
    await conn.rollback()  # only the checks: the patient's own response starts when they open the link
    path = await links.issue_link(
        conn, LinkPurpose.QUESTIONNAIRE, patient_id=patient_id, questionnaire=questionnaire_id, now=now
    )
    await audit(conn, principal, request, "change:questionnaire_link", patient_id, {"questionnaire": questionnaire_id})
    url = f"{state(request).public_url}{questionnaire_path(path)}"
    return render(request, "questionnaire_link.html", principal, patient_id=patient_id, url=url)
