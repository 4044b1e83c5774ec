"""The questionnaire behind a signed link (/q/{token}): open, save partial answers, submit once.

The link is the credential (no login): it names the patient and the questionnaire; partial
answers are saved without consuming it, submitting consumes it (notify.links, single use).
Every opening is audited (notify.links) and rate-limited (api.link_throttle).
"""

from __future__ import annotations

from datetime import datetime

import psycopg
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from vitalgate.api import link_throttle
from vitalgate.api.deps import Conn, source_of, state
from vitalgate.api.questionnaire_page import (
    answers_of,
    page_language,
    questionnaire_page,
    save_or_page,
    unavailable_page,
)
from vitalgate.domain import LinkAnswer, LinkPurpose
from vitalgate.notify import links
from vitalgate.questionnaires import service
from vitalgate.questionnaires.licences import LicenceRequired
from vitalgate.questionnaires.registry import UnknownQuestionnaire
from vitalgate.questionnaires.ui_text import ui

router = APIRouter(include_in_schema=False)


async def _grant(request: Request, conn: psycopg.AsyncConnection, token: str, now: datetime) -> links.LinkGrant:
    await link_throttle.check(conn, state(request).link_rate, token, source_of(request), now)
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
async def linkquestionnaire_page(token: str, request: Request, conn: Conn) -> Response:
    """The questionnaire behind a signed link, with the answers saved so far."""
    now = state(request).clock()  # the same clock as the /l/ pages (tests inject one)
    language = request.query_params.get("lang") or "zh-Hans"
    try:
        grant = await _grant(request, conn, token, now)
        language = await page_language(request, conn, grant.patient_id)
        if grant.answered_at is not None:
            await conn.commit()
            return unavailable_page(request, language, 410)
        response, definition = await _start(conn, grant, language, now)
    except links.LinkError:
        await conn.commit()
        return unavailable_page(request, language, 404)
    except (LicenceRequired, UnknownQuestionnaire):
        await conn.rollback()
        return unavailable_page(request, language, 404)
    await conn.commit()
    return questionnaire_page(request, definition, response, language, action=f"/q/{token}")


@router.post("/q/{token}", response_class=HTMLResponse)
async def link_submit(token: str, request: Request, conn: Conn) -> Response:
    """Save partial answers (the link stays usable) or submit (the link is consumed)."""
    now = state(request).clock()  # the same clock as the /l/ pages (tests inject one)
    form = await request.form()
    language = str(form.get("lang") or "zh-Hans")
    try:
        grant = await _grant(request, conn, token, now)
        if grant.answered_at is not None:
            raise links.LinkUsed("answered")
        response, definition = await _start(conn, grant, language, now)
    except links.LinkError:
        await conn.commit()
        return unavailable_page(request, language, 404)
    except (LicenceRequired, UnknownQuestionnaire):
        await conn.rollback()
        return unavailable_page(request, language, 404)
    answers = answers_of(form, definition)
    submit = form.get("action") == "submit"
    who = "caregiver" if grant.caregiver_id is not None else "patient"
    page = await save_or_page(
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
        return questionnaire_page(request, definition, None, language, action="", finished=True)
    return questionnaire_page(
        request, definition, None, language, action=f"/q/{token}", answers=answers, notice=words["saved"]
    )
