"""Staff page "Outbox": calls to make (call tasks with a tel: link and the outcome form) and the
messages that could not be sent (the dead-letter list, with "send again")."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from vitalgate.api import routes_notify
from vitalgate.api.auth import Principal
from vitalgate.api.deps import Conn, audit_list
from vitalgate.api.web_common import check_form_csrf, login_redirect, render, web_principal
from vitalgate.domain import CallOutcome
from vitalgate.i18n import _, lazy
from vitalgate.store import deliveries, recipients

router = APIRouter(include_in_schema=False)

OUTCOME_LABEL = {
    CallOutcome.REACHED: lazy("Reached"),
    CallOutcome.NO_ANSWER: lazy("No answer"),
    CallOutcome.WRONG_NUMBER: lazy("Wrong number"),
    CallOutcome.VOICEMAIL: lazy("Left a voicemail"),
}


async def _staff(request: Request, conn: Conn, csrf: str | None = None) -> Principal | None:
    principal = await web_principal(request, conn)
    if principal is None:
        return None
    if csrf is not None:
        check_form_csrf(request, principal, csrf)
    if not principal.is_staff:
        raise HTTPException(status_code=403, detail=_("Only care-team staff see the outbox."))
    return principal


@router.get("/ui/outbox", response_class=HTMLResponse)
async def outbox_page(request: Request, conn: Conn) -> Response:
    principal = await _staff(request, conn)
    if principal is None:
        return login_redirect(request)
    calls = await deliveries.open_calls(conn, care_team_ids=principal.team_ids)
    dead = await deliveries.dead_letters(conn, care_team_ids=principal.team_ids)
    people = [(r.recipient_kind, r.recipient_id) for r in calls + dead]
    names = await recipients.display_names(conn, people)
    reach = await recipients.reach_of(conn, [(r.recipient_kind, r.recipient_id) for r in calls])
    phones = {key: r.phone for key, r in reach.items()}
    await audit_list(
        conn, principal, request, "read:outbox_page", sorted({r.patient_id for r in calls + dead if r.patient_id})
    )
    return render(
        request, "outbox.html", principal, calls=calls, dead=dead, names=names, phones=phones, outcomes=OUTCOME_LABEL
    )


@router.post("/ui/outbox/{delivery_id}/requeue")
async def requeue_form(delivery_id: int, request: Request, conn: Conn, csrf: Annotated[str, Form()] = "") -> Response:
    """The "Send again" button of a dead letter."""
    principal = await _staff(request, conn, csrf)
    if principal is None:
        return login_redirect(request)
    await routes_notify.requeue(delivery_id, request, conn, principal)
    return RedirectResponse("/ui/outbox#dead", status_code=303)


@router.post("/ui/outbox/{delivery_id}/call")
async def call_outcome_form(
    delivery_id: int,
    request: Request,
    conn: Conn,
    outcome: Annotated[CallOutcome, Form()],
    notes: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    """The outcome of a call task: reached, no answer, wrong number or voicemail, with notes."""
    principal = await _staff(request, conn, csrf)
    if principal is None:
        return login_redirect(request)
    body = routes_notify.CallOutcomeIn(outcome=outcome, notes=notes.strip() or None)
    await routes_notify.call_outcome(delivery_id, body, request, conn, principal)
    return RedirectResponse("/ui/outbox#calls", status_code=303)
