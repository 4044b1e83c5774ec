"""Answering pages: a signed link of purpose questionnaire (/q/{token}) and staff filling one in during a call.

The link is the credential (no login): it names the patient and the questionnaire; partial
answers are saved without consuming it, submitting consumes it (notify.links, single use).
Staff pages need a signed-in care-team member, record the response as entered by staff, and
carry the session's CSRF token.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import psycopg
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from vitalgate.api import link_throttle
from vitalgate.api.deps import Conn, audit, source_of, state, visible_patient
from vitalgate.api.web_common import check_form_csrf, login_redirect, render
from vitalgate.domain import LinkAnswer, LinkPurpose
from vitalgate.notify import links
from vitalgate.questionnaires import service
from vitalgate.questionnaires.answers import AnswerError, Incomplete
from vitalgate.questionnaires.definition import Definition
from vitalgate.questionnaires.form import form_items
from vitalgate.questionnaires.licences import LicenceRequired
from vitalgate.questionnaires.registry import UnknownQuestionnaire
from vitalgate.questionnaires.ui_text import ui
from vitalgate.store import patient_record
from vitalgate.store.questionnaire_rows import Response as QResponse
from vitalgate.store.user_prefs import ViewerPrefs

router = APIRouter(include_in_schema=False)
_LINK_POLICY = link_throttle.LinkRatePolicy()


def questionnaire_path(link_path: str) -> str:
    """The answering page of a questionnaire link ("/l/{token}" -> "/q/{token}")."""
    return "/q/" + link_path.rsplit("/", 1)[-1]


async def _language(request: Request, conn: psycopg.AsyncConnection, patient_id: int) -> str:
    chosen = request.query_params.get("lang")
    if chosen in ("en", "zh-Hans"):
        return chosen
    record = await patient_record.get_record(conn, patient_id)
    return record.language if record is not None else "en"


def _page(
    request: Request,
    definition: Definition,
    response: QResponse | None,
    language: str,
    *,
    action: str,
    answers: dict[str, Any] | None = None,
    csrf: str = "",
    on_behalf: str | None = None,
    notice: str | None = None,
    error: str | None = None,
    missing: list[str] | None = None,
    finished: bool = False,
    status_code: int = 200,
) -> HTMLResponse:
    words = ui(language)
    saved = answers if answers is not None else (response.answers if response else {})
    # The page speaks the questionnaire's language (the patient's, or the one chosen on the page).
    request.state.viewer_prefs = ViewerPrefs(language, None, None, None)
    return render(
        request,
        "questionnaire.html",
        None,
        status_code=status_code,
        title=definition.title.get(language),
        language=language,
        ui=words,
        items=form_items(definition, saved, language, words),
        action=action,
        csrf=csrf,
        on_behalf=on_behalf,
        notice=notice,
        error=error,
        missing=missing or [],
        finished=finished,
        copyright=definition.copyright,
    )


def _unavailable(request: Request, language: str, status_code: int) -> HTMLResponse:
    words = ui(language)
    return HTMLResponse(
        f'<!doctype html><html lang="{language}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<link rel="stylesheet" href="/static/questionnaire.css"></head>'
        f'<body class="q"><main class="q-main"><p class="q-note">{words["unavailable"]}</p></main></body></html>',
        status_code=status_code,
    )


async def _grant(request: Request, conn: psycopg.AsyncConnection, token: str, now: datetime) -> links.LinkGrant:
    await link_throttle.check(conn, _LINK_POLICY, token, source_of(request), now)
    grant = await links.open_link(conn, token, now, source=source_of(request))
    if grant.purpose != LinkPurpose.QUESTIONNAIRE or not grant.questionnaire:
        raise links.LinkInvalid("not a questionnaire link")
    return grant


async def _start(conn: psycopg.AsyncConnection, grant: links.LinkGrant, language: str, now: datetime):
    assert grant.questionnaire is not None
    return await service.start_or_resume(
        conn,
        patient_id=grant.patient_id,
        questionnaire_id=grant.questionnaire,
        entered_by="caregiver" if grant.caregiver_id is not None else "patient",
        user_id=None,
        language=language,
        now=now,
        task_id=grant.task_id,
    )


@router.get("/q/{token}", response_class=HTMLResponse)
async def link_page(token: str, request: Request, conn: Conn) -> Response:
    """The questionnaire behind a signed link, with the answers saved so far."""
    now = datetime.now(UTC)
    language = request.query_params.get("lang") or "zh-Hans"
    try:
        grant = await _grant(request, conn, token, now)
        language = await _language(request, conn, grant.patient_id)
        if grant.answered_at is not None:
            await conn.commit()
            return _unavailable(request, language, 410)
        response, definition = await _start(conn, grant, language, now)
    except links.LinkError:
        await conn.commit()
        return _unavailable(request, language, 404)
    except (LicenceRequired, UnknownQuestionnaire):
        await conn.rollback()
        return _unavailable(request, language, 404)
    await conn.commit()
    return _page(request, definition, response, language, action=f"/q/{token}")


@router.post("/q/{token}", response_class=HTMLResponse)
async def link_submit(token: str, request: Request, conn: Conn) -> Response:
    """Save partial answers (the link stays usable) or submit (the link is consumed)."""
    now = datetime.now(UTC)
    form = await request.form()
    language = str(form.get("lang") or "zh-Hans")
    try:
        grant = await _grant(request, conn, token, now)
        if grant.answered_at is not None:
            raise links.LinkUsed("answered")
        response, definition = await _start(conn, grant, language, now)
    except links.LinkError:
        await conn.commit()
        return _unavailable(request, language, 404)
    except (LicenceRequired, UnknownQuestionnaire):
        await conn.rollback()
        return _unavailable(request, language, 404)
    answers = _answers_of(form, definition)
    submit = form.get("action") == "submit"
    who = "caregiver" if grant.caregiver_id is not None else "patient"
    page = await _save(
        request, conn, response, definition, answers, language, now, submit, action=f"/q/{token}", entered_by=who
    )
    if page is not None:
        return page
    if submit:
        await links.answer_link(
            conn, token, LinkAnswer.SUBMITTED, now, source=source_of(request), detail={"response_id": response.id}
        )
    await conn.commit()
    words = ui(language)
    if submit:
        return _page(request, definition, None, language, action="", finished=True)
    return _page(request, definition, None, language, action=f"/q/{token}", answers=answers, notice=words["saved"])


def _answers_of(form: Any, definition: Definition) -> dict[str, Any]:
    """The form's values for this definition's questions (everything else in the form is ignored)."""
    wanted = {i.link_id for i in definition.questions}
    return {k: str(v) for k, v in form.items() if k in wanted}


async def _save(
    request: Request,
    conn: psycopg.AsyncConnection,
    response: QResponse,
    definition: Definition,
    answers: dict[str, Any],
    language: str,
    now: datetime,
    submit: bool,
    *,
    action: str,
    entered_by: str | None = None,
    user_id: int | None = None,
    csrf: str = "",
    on_behalf: str | None = None,
) -> HTMLResponse | None:
    """Save (or complete); a page to show again when an answer is wrong or a required one missing."""
    # Fields left empty on the page clear earlier answers; hidden items' answers are dropped.
    merged = {i.link_id: answers.get(i.link_id, "") for i in definition.questions}
    try:
        await service.save(conn, response.id, merged, now=now, complete=submit, entered_by=entered_by, user_id=user_id)
    except Incomplete as exc:
        await conn.rollback()
        return _page(
            request,
            definition,
            response,
            language,
            action=action,
            answers=answers,
            csrf=csrf,
            on_behalf=on_behalf,
            error=ui(language)["missing"],
            missing=exc.missing,
            status_code=422,
        )
    except AnswerError as exc:
        await conn.rollback()
        return _page(
            request,
            definition,
            response,
            language,
            action=action,
            answers=answers,
            csrf=csrf,
            on_behalf=on_behalf,
            error=str(exc),
            missing=[exc.link_id],
            status_code=422,
        )
    return None


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
async def staff_page(patient_id: int, questionnaire_id: str, request: Request, conn: Conn) -> Response:
    """A nurse fills the questionnaire in during a call; recorded as entered by staff."""
    principal = await _staff(request, conn, patient_id)
    if principal is None:
        return login_redirect(request)
    now = datetime.now(UTC)
    language = await _language(request, conn, patient_id)
    response, definition = await _staff_start(conn, principal, patient_id, questionnaire_id, language, now)
    await audit(conn, principal, request, "read:questionnaire", patient_id, {"questionnaire": questionnaire_id})
    return _page(
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
    answers = _answers_of(form, definition)
    page = await _save(
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
