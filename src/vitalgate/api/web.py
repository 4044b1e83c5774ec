"""Web pages: sign-in, the worklist and its one-click actions (one route per button), the patient list."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from vitalgate.api import (
    routes_tasks,
    web_admin,
    web_notify,
    web_patient,
    web_record,
    web_report,
    web_settings,
    web_triage,
)
from vitalgate.api.auth import Principal
from vitalgate.api.deps import SESSION_COOKIE, Conn, audit_list, state
from vitalgate.api.routes_auth import authenticate
from vitalgate.api.routes_bulk import BulkRequest, run_bulk
from vitalgate.api.routes_devices import unbound_out
from vitalgate.api.routes_worklist import WorklistQuery, load_worklist
from vitalgate.api.schemas import OutcomeRequest
from vitalgate.api.throttle import Throttled
from vitalgate.api.web_common import check_form_csrf, login_redirect, render, web_principal
from vitalgate.api.web_locale import page_locale
from vitalgate.api.web_time import page_zones
from vitalgate.api.worklist_labels import ASSIGNEE, GAP_REASON, RULE_KIND
from vitalgate.api.worklist_view import latest_display, trigger_display
from vitalgate.domain import Language, Role, Severity
from vitalgate.i18n import N_, t, tn
from vitalgate.store import people
from vitalgate.store import readings as reading_store
from vitalgate.store import users as user_store
from vitalgate.store import worklist as worklist_store

router = APIRouter(include_in_schema=False)
router.include_router(web_patient.router)
router.include_router(web_report.router)
router.include_router(web_admin.router)
router.include_router(web_settings.router)
router.include_router(web_record.router)
router.include_router(web_triage.router)
router.include_router(web_notify.router)


def _home_of(role: str) -> str:
    return {"patient": "/ui/me", "admin": "/ui/admin", "caregiver": "/ui/patients"}.get(role, "/ui/worklist")


def _safe_next(target: str | None) -> str | None:
    """Only local paths (no //host or scheme): an open redirect would help phishing."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return None


def _throttled_text(exc: Throttled, language: Language) -> str:
    if exc.scope == "username":
        return tn(
            language,
            "Too many failed sign-ins for this username: try again in {n} minute.",
            "Too many failed sign-ins for this username: try again in {n} minutes.",
            exc.minutes,
        )
    return tn(
        language,
        "Too many failed sign-ins from your network address: try again in {n} minute.",
        "Too many failed sign-ins from your network address: try again in {n} minutes.",
        exc.minutes,
    )


@router.get("/")
async def home(request: Request, conn: Conn) -> Response:
    principal = await web_principal(request, conn)
    return RedirectResponse(_home_of(principal.role) if principal else "/ui/login", status_code=303)


@router.get("/ui/login", response_class=HTMLResponse)
async def login_page(request: Request, next: str | None = None) -> HTMLResponse:
    return render(request, "login.html", None, next=_safe_next(next) or "")


@router.post("/ui/login")
async def login(
    request: Request,
    conn: Conn,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
    next: Annotated[str, Form()] = "",
) -> Response:
    """Check the password and set the session cookie (HttpOnly, SameSite=Lax, Secure in production)."""
    try:
        user = await authenticate(conn, request, username, password)
    except Throttled as exc:
        page = render(
            request,
            "login.html",
            None,
            status_code=429,
            next=_safe_next(next) or "",
            error=_throttled_text(exc, page_locale(request).language),
            username=username,
        )
        page.headers.update(exc.headers or {})
        return page
    if user is None:
        return render(
            request,
            "login.html",
            None,
            status_code=401,
            next=_safe_next(next) or "",
            error=t(page_locale(request).language, "Wrong username or password."),
            username=username,
        )
    api = state(request)
    token = api.signer.issue(int(user.id), user.role, "session")
    response = RedirectResponse(_safe_next(next) or _home_of(user.role), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(api.signer.lifetime("session").total_seconds()),
        httponly=True,
        secure=api.cookie_secure,
        samesite="lax",
        path="/",
    )
    return response


@router.post("/ui/logout")
async def logout(request: Request, conn: Conn, csrf: Annotated[str | None, Form()] = None) -> Response:
    """Sign out: the user's sessions and tokens end on the server too, not just this cookie.

    The form carries the session's CSRF token: another site cannot sign a user out (and so end
    every session of theirs, e.g. a nurse's in the middle of a call).
    """
    principal = await web_principal(request, conn)
    if principal is not None:
        check_form_csrf(request, principal, csrf)
        await user_store.revoke_sessions(conn, principal.user_id)
        await conn.commit()
    response = RedirectResponse("/ui/login", status_code=303)
    # The expiring cookie carries the same flags as the one it replaces.
    response.delete_cookie(SESSION_COOKIE, path="/", secure=state(request).cookie_secure, httponly=True, samesite="lax")
    return response


# Rows per worklist page in the browser: 40 rows with their forms stay under 100 kB of HTML.
WEB_PAGE_SIZE = 40


def _flag(value: str | None) -> bool | None:
    """A yes/no filter from the query string: '1'/'yes'/'true' -> True, '0'/'no'/'false' -> False, else None."""
    text = (value or "").strip().lower()
    return True if text in ("1", "yes", "true") else False if text in ("0", "no", "false") else None


def worklist_query(request: Request) -> WorklistQuery:
    """The worklist page's filters from its query string (the same names as GET /worklist)."""
    qp = request.query_params
    severities = tuple(Severity(s) for s in qp.getlist("severity") if s in set(Severity))
    team = qp.get("care_team_id", "")
    return WorklistQuery(
        severity=severities,
        assignee=(qp.get("assignee") or None),
        care_team_id=int(team) if team.isdigit() else None,
        rule_kind=(qp.get("rule_kind") or None),
        overdue=_flag(qp.get("overdue")),
        patient_responded=_flag(qp.get("patient_responded")),
        tag=(qp.get("tag") or None),
        q=(qp.get("q") or "")[:100] or None,
        cursor=(qp.get("cursor") or None),
        limit=WEB_PAGE_SIZE,
        program=(qp.get("program") or "")[:60] or None,
        arm=(qp.get("arm") or "")[:60] or None,
    )


@router.get("/ui/worklist", response_class=HTMLResponse)
async def worklist(request: Request, conn: Conn) -> Response:
    """One page of the filtered worklist (most urgent, then soonest due, first), with true totals."""
    principal = await web_principal(request, conn)
    if principal is None:
        return login_redirect(request)
    if not principal.is_staff:
        return RedirectResponse(_home_of(principal.role), status_code=303)
    now = datetime.now(UTC)
    teams = list(principal.team_ids)
    query = worklist_query(request)
    page = await load_worklist(conn, principal, query, now=now)
    tasks = [item.row for item in page.items]
    closed = await worklist_store.recently_closed(conn, teams, now=now, limit=10)
    unbound = [unbound_out(r) for r in await reading_store.unbound_devices(conn, limit=20)]
    await audit_list(conn, principal, request, "read:worklist_page", [t.patient_id for t in tasks + closed])
    zones = await page_zones(conn, request, principal, [t.patient_id for t in tasks + closed])
    params = [(k, v) for k, v in request.query_params.multi_items() if k not in ("cursor", "done")]
    return render(
        request,
        "worklist.html",
        principal,
        zones=zones,
        page=page,
        query=query,
        query_active=any(v for _, v in params),
        first_url="/ui/worklist" + ("?" + urlencode(params) if params else ""),
        next_url="/ui/worklist?" + urlencode([*params, ("cursor", page.next_cursor)]) if page.next_cursor else None,
        tags=await worklist_store.team_tags(conn, teams),
        programs=await worklist_store.team_programs(conn, teams),
        tasks=tasks,
        closed=closed,
        unbound=unbound,
        counts=page.totals.by_severity,
        overdue=page.totals.overdue,
        gap_label=GAP_REASON,
        rule_kind_label=RULE_KIND,
        assignee_label=ASSIGNEE,
        trigger_text=lambda trigger: trigger_display(trigger, page_locale(request)),
        reading_text=lambda reading: latest_display(reading, page_locale(request)),
    )


@router.post("/ui/tasks/bulk")
async def bulk_form(
    request: Request,
    conn: Conn,
    csrf: Annotated[str, Form()] = "",
    task_id: Annotated[list[int] | None, Form()] = None,
    outcome: Annotated[str, Form()] = "",
) -> Response:
    """The worklist's bulk form: one closing outcome for the routine tasks ticked."""
    principal = await _worklist_actor(request, conn, csrf)
    if principal is None:
        return login_redirect(request)
    if not task_id:
        return RedirectResponse("/ui/worklist", status_code=303)
    try:
        body = BulkRequest.model_validate({"task_ids": task_id, "action": "outcome", "outcome": outcome})
    except ValueError as exc:
        raise HTTPException(status_code=422, detail=N_("choose an outcome from the list")) from exc
    await run_bulk(conn, principal, request, body)
    return RedirectResponse("/ui/worklist?done=outcome", status_code=303)


async def _worklist_actor(request: Request, conn: Conn, csrf: str) -> Principal | None:
    """The signed-in staff member behind a worklist button (None: not signed in); checks the form's CSRF token."""
    principal = await web_principal(request, conn)
    if principal is None:
        return None
    check_form_csrf(request, principal, csrf)
    if not principal.is_staff:
        raise HTTPException(status_code=403, detail=N_("only care-team staff work the worklist"))
    return principal


def _back_to_worklist(task_id: int, done: str) -> RedirectResponse:
    return RedirectResponse(f"/ui/worklist?done={done}#task-{task_id}", status_code=303)


@router.post("/ui/tasks/{task_id}/acknowledge")
async def acknowledge_button(task_id: int, request: Request, conn: Conn, csrf: Annotated[str, Form()] = "") -> Response:
    """The worklist's Acknowledge button (then back to the worklist)."""
    principal = await _worklist_actor(request, conn, csrf)
    if principal is None:
        return login_redirect(request)
    await routes_tasks.acknowledge(task_id, request, conn, principal)
    return _back_to_worklist(task_id, "ack")


@router.post("/ui/tasks/{task_id}/escalate")
async def escalate_button(task_id: int, request: Request, conn: Conn, csrf: Annotated[str, Form()] = "") -> Response:
    """The worklist's Next step now button."""
    principal = await _worklist_actor(request, conn, csrf)
    if principal is None:
        return login_redirect(request)
    await routes_tasks.escalate(task_id, request, conn, principal)
    return _back_to_worklist(task_id, "escalated")


@router.post("/ui/tasks/{task_id}/outcome")
async def outcome_form(
    task_id: int,
    request: Request,
    conn: Conn,
    csrf: Annotated[str, Form()] = "",
    outcome: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
) -> Response:
    """The worklist's outcome form: one outcome from the list and an optional note."""
    principal = await _worklist_actor(request, conn, csrf)
    if principal is None:
        return login_redirect(request)
    try:
        body = OutcomeRequest.model_validate({"outcome": outcome, "note": note or None})
    except ValueError as exc:
        raise HTTPException(status_code=422, detail=N_("choose an outcome from the list")) from exc
    await routes_tasks.record_outcome(task_id, body, request, conn, principal)
    return _back_to_worklist(task_id, "outcome")


@router.get("/ui/patients", response_class=HTMLResponse)
async def patient_list(request: Request, conn: Conn) -> Response:
    """The care teams' patients (a caregiver's: the patients sharing with them), each linking to their charts."""
    principal = await web_principal(request, conn)
    if principal is None:
        return login_redirect(request)
    if principal.role == Role.CAREGIVER:
        patients = [p for pid in principal.caregiver_of for p in await people.list_patients(conn, patient_id=pid)]
    elif not principal.is_staff:
        return RedirectResponse(_home_of(principal.role), status_code=303)
    else:
        patients = await people.list_patients(conn, care_team_ids=list(principal.team_ids))
    await audit_list(conn, principal, request, "read:patient_list_page", [p.id for p in patients])
    return render(request, "patients.html", principal, patients=patients)
