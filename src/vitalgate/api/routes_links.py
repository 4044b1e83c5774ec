"""Pages behind signed links (/l/{token}): check-in, visit, staff acknowledgement, the patient's inbox.

No password: the token is the credential (notify.links). Every request is rate-limited per client
address and per token (api.link_throttle) and every opening and answer is audited. A link of
purpose questionnaire is answered on the questionnaire page (/q/{token}, vitalgate.questionnaires).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

import psycopg
from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from vitalgate.api import link_throttle
from vitalgate.api.deps import Conn, source_of, state
from vitalgate.api.web_common import templates
from vitalgate.domain import DeliveryStatus, LinkAnswer, LinkPurpose, RecipientKind
from vitalgate.i18n import format_instant, lazy, negotiate, using
from vitalgate.notify import conversation, inbound, links, replies
from vitalgate.notify.links import LinkError, LinkExpired, LinkGrant, LinkUsed
from vitalgate.notify.templates import render
from vitalgate.store import caregivers as caregiver_store
from vitalgate.store import messages as message_store
from vitalgate.store import patient_record, time_zones
from vitalgate.store import sop as sop_store

router = APIRouter(tags=["signed links"], include_in_schema=False)
Token = Annotated[str, Path(min_length=1, max_length=128)]
_NO_REFERRER = {"referrer-policy": "no-referrer"}  # the token must not leave in a Referer header
ANSWER_LABELS = {
    LinkAnswer.OK: lazy("I'm OK"),
    LinkAnswer.CALL_ME: lazy("Please call me"),
    LinkAnswer.CONFIRM: lazy("Visit confirmed"),
    LinkAnswer.MOVE: lazy("Asked to move the visit"),
    LinkAnswer.ACKNOWLEDGED: lazy("Task acknowledged"),
    LinkAnswer.SUBMITTED: lazy("Questionnaire sent"),
}


@dataclass(frozen=True, slots=True)
class InboxEntry:
    direction: str  # inbound: the reader wrote it; outbound: from the care team
    body: str
    at: datetime


async def inbox_entries(conn: psycopg.AsyncConnection, grant: LinkGrant, locale: str) -> list[InboxEntry]:
    """The reader's conversation plus what the ledger sent them (rendered in their language), oldest first."""
    talk = await message_store.conversation(conn, patient_id=grant.patient_id, caregiver_id=grant.caregiver_id)
    entries = [InboxEntry(m.direction, m.body, m.created_at) for m in talk]
    kind = RecipientKind.CAREGIVER if grant.caregiver_id is not None else RecipientKind.PATIENT
    recipient = grant.caregiver_id if grant.caregiver_id is not None else grant.patient_id
    for d in await message_store.patient_deliveries(conn, grant.patient_id):
        sent = d.status in (DeliveryStatus.SENT, DeliveryStatus.DELIVERED) and d.sent_at is not None
        # A care-team message is already in the conversation with its text; its notification is not repeated.
        if sent and d.recipient_kind == kind and d.recipient_id == recipient and d.template != conversation.TEMPLATE:
            text = render(d.template, d.params, locale, caregiver=kind == RecipientKind.CAREGIVER).text
            assert d.sent_at is not None
            entries.append(InboxEntry("outbound", text, d.sent_at))
    return sorted(entries, key=lambda e: e.at)


def _problem(exc: LinkError) -> tuple[str, int]:
    if isinstance(exc, LinkExpired):
        return "expired", 410
    if isinstance(exc, LinkUsed):
        return "used", 409
    return "invalid", 404


async def _locale(conn: psycopg.AsyncConnection, grant: LinkGrant) -> str:
    if grant.purpose == LinkPurpose.STAFF_ACK:
        return "en"
    if grant.caregiver_id is not None:
        carer = await caregiver_store.get(conn, grant.patient_id, grant.caregiver_id)
        return carer.language if carer else "en"
    record = await patient_record.get_record(conn, grant.patient_id)
    return record.language if record else "en"


async def _visit_at(conn: psycopg.AsyncConnection, grant: LinkGrant, locale: str) -> str | None:
    if grant.sop_instance_id is None:
        return None
    instance = await sop_store.get_instance(conn, grant.sop_instance_id)
    if instance is None:
        return None
    zones = (await time_zones.zone_histories(conn, [grant.patient_id]))[grant.patient_id]
    return format_instant(instance["anchor_at"], zones, locale)


def _page(request: Request, status: int = 200, **context: object) -> HTMLResponse:
    """Render in the recipient's language (an unusable link: the browser's, as far as it is known)."""
    locale = str(context.get("locale") or _browser_language(request))
    grant = context.get("grant")
    with using(locale):
        label = str(ANSWER_LABELS[grant.answer]) if isinstance(grant, LinkGrant) and grant.answer else ""
        defaults = {"locale": locale, "problem": None, "grant": None, "inbox": None, "sent": False}
        return templates.TemplateResponse(
            request,
            "link.html",
            {**defaults, **context, "answer_label": label},
            status_code=status,
            headers=_NO_REFERRER,
        )


def _browser_language(request: Request) -> str:
    return str(negotiate(accept_language=request.headers.get("accept-language")))


async def _guard(request: Request, conn: psycopg.AsyncConnection, token: str) -> None:
    api = state(request)
    await link_throttle.check(conn, api.link_rate, token, source_of(request), api.clock())


@router.get("/l/{token}", response_class=HTMLResponse)
async def open_page(token: Token, request: Request, conn: Conn, sent: bool = False) -> Response:
    """The page a link opens (the opening is recorded and audited)."""
    await _guard(request, conn, token)
    try:
        grant = await links.open_link(conn, token, state(request).clock(), source=source_of(request))
    except LinkError as exc:
        problem, status = _problem(exc)
        return _page(request, status, problem=problem)
    await conn.commit()
    if grant.purpose == LinkPurpose.QUESTIONNAIRE:
        return RedirectResponse(f"/q/{token}", status_code=303, headers=_NO_REFERRER)
    locale = await _locale(conn, grant)
    inbox = await inbox_entries(conn, grant, locale) if grant.purpose == LinkPurpose.INBOX else None
    return _page(
        request,
        grant=grant,
        token=token,
        locale=locale,
        visit_at=await _visit_at(conn, grant, locale) if grant.purpose == LinkPurpose.VISIT else None,
        inbox=inbox,
        sent=sent,
    )


@router.post("/l/{token}", response_class=HTMLResponse)
async def answer(token: Token, request: Request, conn: Conn, answer: Annotated[str, Form(max_length=32)]) -> Response:
    """Record the answer (single use) and do what it means, in one transaction."""
    await _guard(request, conn, token)
    now = state(request).clock()
    try:
        async with conn.transaction():
            grant = await links.answer_link(conn, token, answer, now, source=source_of(request))
            await replies.apply_link_answer(conn, grant, now=now)
    except LinkError as exc:
        problem, status = _problem(exc)
        return _page(request, status, problem=problem)
    return RedirectResponse(f"/l/{token}", status_code=303, headers=_NO_REFERRER)


@router.post("/l/{token}/reply", response_class=HTMLResponse)
async def reply(
    token: Token, request: Request, conn: Conn, text: Annotated[str, Form(min_length=1, max_length=2000)]
) -> Response:
    """A message typed in the inbox: stored, answers the open task, routed by triage."""
    await _guard(request, conn, token)
    now = state(request).clock()
    try:
        async with conn.transaction():
            grant = await links.open_link(conn, token, now, source=source_of(request))
            if grant.purpose != LinkPurpose.INBOX:
                raise links.LinkInvalid("not an inbox link")
            await inbound.receive_reply(
                conn, patient_id=grant.patient_id, caregiver_id=grant.caregiver_id, text=text, medium="web", now=now
            )
    except LinkError as exc:
        problem, status = _problem(exc)
        return _page(request, status, problem=problem)
    return RedirectResponse(f"/l/{token}?sent=1", status_code=303, headers=_NO_REFERRER)
