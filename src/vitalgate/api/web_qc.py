"""Quality control pages (issue 17): the reviewer's queue with the checklist, and a staff member's own reviews.

The sample is drawn by `vitalgate program qc-sample` (programs.qc); here a staff member of the sampled
work's care team reviews it (never their own work): the four checklist items, a score (share met) and
written feedback. Every list shown is audited per patient whose task it shows; each review is audited.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from vitalgate.api.auth import Principal
from vitalgate.api.deps import Conn, audit, audit_list
from vitalgate.api.web_common import check_form_csrf, login_redirect, render, web_principal
from vitalgate.core.clock import clock_from_env
from vitalgate.domain import STAFF_ROLES, Role
from vitalgate.i18n import N_
from vitalgate.programs import qc
from vitalgate.store import qc as qc_store

router = APIRouter(include_in_schema=False)

CHECKLIST_LABELS = {
    "script_used": N_("Script used"),
    "outcome_documented": N_("Outcome documented"),
    "sla_met": N_("SLA met"),
    "patient_reached": N_("Patient reached"),
}
SUBJECT_LABELS = {"task": N_("closed task"), "call": N_("call")}


async def _staff(request: Request, conn: Conn) -> Principal | None:
    principal = await web_principal(request, conn)
    if principal is not None and principal.role not in STAFF_ROLES and principal.role != Role.ADMIN:
        raise HTTPException(status_code=403, detail=N_("staff only"))
    return principal


@router.get("/ui/qc", response_class=HTMLResponse)
async def queue_page(request: Request, conn: Conn) -> Response:
    """Samples of the reviewer's care teams not yet reviewed, other people's work only."""
    principal = await _staff(request, conn)
    if principal is None:
        return login_redirect(request)
    pending = await qc_store.queue(conn, principal.team_ids, pending_only=True)
    items = [i for i in pending if i.staff != principal.username]
    await audit_list(conn, principal, request, "read:qc_queue", sorted({i.patient_id for i in items}))
    return render(
        request,
        "qc_queue.html",
        principal,
        items=items,
        checklist=CHECKLIST_LABELS,
        subjects=SUBJECT_LABELS,
        done=request.query_params.get("done"),
    )


@router.post("/ui/qc/{sample_id}/review")
async def review(
    sample_id: int,
    request: Request,
    conn: Conn,
    csrf: Annotated[str, Form()] = "",
    script_used: Annotated[str, Form()] = "",
    outcome_documented: Annotated[str, Form()] = "",
    sla_met: Annotated[str, Form()] = "",
    patient_reached: Annotated[str, Form()] = "",
    feedback: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    principal = await _staff(request, conn)
    if principal is None:
        return login_redirect(request)
    check_form_csrf(request, principal, csrf)
    item = await qc_store.get(conn, sample_id)
    if item is None or item.care_team_id not in principal.team_ids:
        raise HTTPException(status_code=404, detail=N_("no such QC sample"))
    ticked = {"script_used": script_used, "outcome_documented": outcome_documented, "sla_met": sla_met}
    checklist = {name: bool(value) for name, value in {**ticked, "patient_reached": patient_reached}.items()}
    try:
        score = await qc.review(
            conn,
            sample_id,
            reviewer=principal.username,
            checklist=checklist,
            feedback=feedback,
            now=clock_from_env().now(),
        )
    except PermissionError as exc:
        raise HTTPException(status_code=403, detail=N_("staff do not review their own work")) from exc
    except ValueError as exc:
        raise HTTPException(status_code=409, detail=N_("this sample was reviewed already")) from exc
    await audit(conn, principal, request, "review:qc", item.patient_id, {"sample": sample_id, "score": score})
    return RedirectResponse("/ui/qc?done=reviewed", status_code=303)


@router.get("/ui/qc/mine", response_class=HTMLResponse)
async def own_reviews_page(request: Request, conn: Conn) -> Response:
    """What a staff member sees of the reviews of their work: checklist, score, feedback."""
    principal = await _staff(request, conn)
    if principal is None:
        return login_redirect(request)
    items = await qc_store.of_staff(conn, principal.username)
    await audit_list(conn, principal, request, "read:qc_own", sorted({i.patient_id for i in items}))
    return render(request, "qc_mine.html", principal, items=items, checklist=CHECKLIST_LABELS, subjects=SUBJECT_LABELS)
