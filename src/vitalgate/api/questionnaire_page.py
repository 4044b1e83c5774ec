"""The answering page, shared by the signed-link and the staff routes: render, language, save or show again."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg
from fastapi import Request
from fastapi.responses import HTMLResponse

from vitalgate.api.web_common import render
from vitalgate.questionnaires import service
from vitalgate.questionnaires.answers import AnswerError, Incomplete
from vitalgate.questionnaires.form import form_items
from vitalgate.questionnaires.model import Definition
from vitalgate.questionnaires.ui_text import ui
from vitalgate.store import patient_record
from vitalgate.store.questionnaire_rows import Response as QResponse
from vitalgate.store.user_prefs import ViewerPrefs


def questionnaire_path(link_path: str) -> str:
    """The answering page of a questionnaire link ("/l/{token}" -> "/q/{token}")."""
    return "/q/" + link_path.rsplit("/", 1)[-1]


async def page_language(request: Request, conn: psycopg.AsyncConnection, patient_id: int) -> str:
    chosen = request.query_params.get("lang")
    if chosen in ("en", "zh-Hans"):
        return chosen
    record = await patient_record.get_record(conn, patient_id)
    return record.language if record is not None else "en"


def questionnaire_page(
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


def unavailable_page(request: Request, language: str, status_code: int) -> HTMLResponse:
    words = ui(language)
    return HTMLResponse(
        f'<!doctype html><html lang="{language}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<link rel="stylesheet" href="/static/questionnaire.css"></head>'
        f'<body class="q"><main class="q-main"><p class="q-note">{words["unavailable"]}</p></main></body></html>',
        status_code=status_code,
    )


def answers_of(form: Any, definition: Definition) -> dict[str, Any]:
    """The form's values for this definition's questions (everything else in the form is ignored)."""
    wanted = {i.link_id for i in definition.questions}
    return {k: str(v) for k, v in form.items() if k in wanted}


async def save_or_page(
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
        return questionnaire_page(
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
        return questionnaire_page(
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
