"""Admin page: enrol patients from an uploaded CSV or FHIR Bundle, with the accepted/rejected report."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import HTMLResponse, Response

from vitalgate.api.deps import Conn, audit
from vitalgate.api.enrol_import import COLUMNS, run_import
from vitalgate.api.enrol_source import MAX_BYTES, read_source
from vitalgate.api.web_common import check_form_csrf, login_redirect, render, web_principal
from vitalgate.i18n import N_
from vitalgate.store import users as user_store

router = APIRouter(include_in_schema=False)
ADMINS_ONLY = N_("only admins enrol patients in bulk")


@router.get("/ui/admin", response_class=HTMLResponse)
async def admin_home(request: Request, conn: Conn) -> Response:
    """The admin's home: users, care teams, enrolment and the API reference (no patient data)."""
    principal = await web_principal(request, conn)
    if principal is None:
        return login_redirect(request)
    if principal.role != "admin":
        raise HTTPException(status_code=403, detail=N_("only admins manage users and teams"))
    return render(
        request,
        "admin_home.html",
        principal,
        users=await user_store.list_users(conn),
        teams=await user_store.list_teams(conn),
    )


@router.get("/ui/admin/import", response_class=HTMLResponse)
async def import_page(request: Request, conn: Conn) -> Response:
    principal = await web_principal(request, conn)
    if principal is None:
        return login_redirect(request)
    if principal.role != "admin":
        raise HTTPException(status_code=403, detail=ADMINS_ONLY)
    return render(request, "admin_import.html", principal, columns=COLUMNS, report=None)


@router.post("/ui/admin/import", response_class=HTMLResponse)
async def import_upload(
    request: Request,
    conn: Conn,
    file: Annotated[UploadFile, File()],
    csrf: Annotated[str, Form()] = "",
    program: Annotated[str, Form(max_length=64)] = "default",
    team: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Validate every row, enrol the good ones in one transaction, show what was rejected and why."""
    principal = await web_principal(request, conn)
    if principal is None:
        return login_redirect(request)
    check_form_csrf(request, principal, csrf)
    if principal.role != "admin":
        raise HTTPException(status_code=403, detail=ADMINS_ONLY)
    data = await file.read(MAX_BYTES + 1)
    try:
        rows = list(read_source(data, file.filename or ""))
    except ValueError as exc:
        return render(request, "admin_import.html", principal, 400, columns=COLUMNS, report=None, error=str(exc))
    report = await run_import(
        conn, rows, program=program.strip() or "default", default_team=team.strip() or None,
        recorded_by=principal.username,
    )  # fmt: skip
    await audit(
        conn, principal, request, "change:import_patients", None,
        {"file": file.filename, "program": program, "accepted": len(report.accepted),
         "unchanged": len(report.unchanged), "rejected": len(report.rejected)},
    )  # fmt: skip
    return render(request, "admin_import.html", principal, columns=COLUMNS, report=report, program=program)
