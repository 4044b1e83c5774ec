"""Staff pages: inbound messages as triage routed them (re-route in one click, suggested replies)
and the reply-script library (话术库) that coordinators edit."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from vitalgate.api import routes_scripts, routes_triage
from vitalgate.api.auth import Principal
from vitalgate.api.deps import Conn
from vitalgate.api.triage_schemas import RerouteIn, ScriptIn, ScriptUseIn
from vitalgate.api.web_common import check_form_csrf, login_redirect, render, web_principal
from vitalgate.i18n import _, lazy
from vitalgate.notify.triage import TriageCategory
from vitalgate.store import people
from vitalgate.store import reply_scripts as script_store

router = APIRouter(include_in_schema=False)

CATEGORY_LABEL = {
    TriageCategory.URGENT_CLINICAL: lazy("Urgent clinical"),
    TriageCategory.MEDICATION: lazy("Medication"),
    TriageCategory.DEVICE: lazy("Device / technical"),
    TriageCategory.LOGISTICS: lazy("Appointment / logistics"),
    TriageCategory.EDUCATION: lazy("Education / general"),
    "general": lazy("General"),
}
ROUTED_TO_LABEL = {"nurse": lazy("On-call nurse"), "doctor": lazy("Doctor"), "coordinator": lazy("Coordinator")}


async def _staff(request: Request, conn: Conn, csrf: str | None = None) -> Principal | None:
    principal = await web_principal(request, conn)
    if principal is None:
        return None
    if csrf is not None:
        check_form_csrf(request, principal, csrf)
    if not principal.is_staff:
        raise HTTPException(status_code=403, detail=_("Only care-team staff see patient messages."))
    return principal


@router.get("/ui/triage", response_class=HTMLResponse)
async def triage_page(
    request: Request, conn: Conn, insert: int | None = None, for_triage: int | None = None
) -> Response:
    """Recent messages of my teams with their category, evidence, queue, task and suggested reply."""
    principal = await _staff(request, conn)
    if principal is None:
        return login_redirect(request)
    rows = await routes_triage.list_triage(request, conn, principal, limit=100)
    names = {p.id: p.display_name for p in await people.list_patients(conn, care_team_ids=list(principal.team_ids))}
    scripts = {s.id: s for s in await script_store.listed(conn)}
    inserted = None
    if insert is not None and for_triage is not None:
        row = next((r for r in rows if r.id == for_triage), None)
        if row is not None:
            use = await routes_scripts.use_script(
                insert, ScriptUseIn(patient_id=row.patient_id), request, conn, principal
            )
            inserted = (for_triage, use.text)
    return render(
        request, "triage.html", principal, rows=rows, names=names, scripts=scripts, labels=CATEGORY_LABEL,
        routed_labels=ROUTED_TO_LABEL, categories=list(TriageCategory), inserted=inserted,
    )  # fmt: skip


@router.post("/ui/triage/{triage_id}/reroute")
async def reroute_form(
    triage_id: int,
    request: Request,
    conn: Conn,
    category: Annotated[TriageCategory, Form()],
    csrf: Annotated[str, Form()] = "",
) -> Response:
    """The Re-route button: the task follows and the correction is kept as feedback."""
    principal = await _staff(request, conn, csrf)
    if principal is None:
        return login_redirect(request)
    await routes_triage.reroute_message(triage_id, RerouteIn(category=category), request, conn, principal)
    return RedirectResponse(f"/ui/triage#m{triage_id}", status_code=303)


@router.get("/ui/scripts", response_class=HTMLResponse)
async def scripts_page(request: Request, conn: Conn, edit: int | None = None) -> Response:
    principal = await _staff(request, conn)
    if principal is None:
        return login_redirect(request)
    scripts = await script_store.listed(conn, include_inactive=True)
    editing = next((s for s in scripts if s.id == edit), None)
    return render(
        request, "scripts.html", principal, scripts=scripts, editing=editing, labels=CATEGORY_LABEL,
        can_edit=principal.role in routes_scripts.EDITORS,
    )  # fmt: skip


@router.post("/ui/scripts")
async def save_script_form(
    request: Request,
    conn: Conn,
    key: Annotated[str, Form()],
    category: Annotated[str, Form()],
    title_en: Annotated[str, Form()],
    title_zh: Annotated[str, Form()],
    body_en: Annotated[str, Form()],
    body_zh: Annotated[str, Form()],
    keywords: Annotated[str, Form()] = "",
    active: Annotated[str | None, Form()] = None,
    script_id: Annotated[int | None, Form()] = None,
    csrf: Annotated[str, Form()] = "",
) -> Response:
    """Create or update a script (coordinators); the form is the API's body."""
    principal = await _staff(request, conn, csrf)
    if principal is None:
        return login_redirect(request)
    body = ScriptIn.model_validate(
        {"key": key.strip(), "category": category, "title_en": title_en, "title_zh": title_zh, "body_en": body_en,
         "body_zh": body_zh, "keywords": [k for k in keywords.replace("，", ",").split(",")], "active": bool(active)}
    )  # fmt: skip
    if script_id is None:
        saved = await routes_scripts.create_script(body, request, conn, principal)
    else:
        saved = await routes_scripts.update_script(script_id, body, request, conn, principal)
    return RedirectResponse(f"/ui/scripts#s{saved.id}", status_code=303)
