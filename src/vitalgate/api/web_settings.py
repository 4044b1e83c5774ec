"""The settings page: a user's own language and glucose unit (staff choose mg/dL or mmol/L here)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from vitalgate.api.deps import Conn
from vitalgate.api.web_common import check_form_csrf, login_redirect, render, web_principal
from vitalgate.domain import GlucoseUnit, Language
from vitalgate.i18n import N_
from vitalgate.store import user_prefs

router = APIRouter(include_in_schema=False)


@router.get("/ui/settings", response_class=HTMLResponse)
async def settings_page(request: Request, conn: Conn) -> Response:
    principal = await web_principal(request, conn)
    if principal is None:
        return login_redirect(request)
    prefs = await user_prefs.viewer_prefs(conn, principal.user_id)
    return render(request, "settings.html", principal, prefs=prefs, languages=list(Language), units=list(GlucoseUnit))


def _language(value: str) -> Language | None:
    """'' is "automatic" (follow the record / the browser)."""
    try:
        return Language(value) if value else None
    except ValueError as exc:
        raise HTTPException(status_code=422, detail=N_("choose a value from the list")) from exc


def _unit(value: str) -> GlucoseUnit | None:
    try:
        return GlucoseUnit(value) if value else None
    except ValueError as exc:
        raise HTTPException(status_code=422, detail=N_("choose a value from the list")) from exc


@router.post("/ui/settings")
async def save_settings(
    request: Request,
    conn: Conn,
    csrf: Annotated[str, Form()] = "",
    language: Annotated[str, Form()] = "",
    glucose_unit: Annotated[str, Form()] = "",
) -> Response:
    """Save and show the page again in the chosen language and unit."""
    principal = await web_principal(request, conn)
    if principal is None:
        return login_redirect(request)
    check_form_csrf(request, principal, csrf)
    await user_prefs.set_viewer_prefs(
        conn, principal.user_id, language=_language(language), glucose_unit=_unit(glucose_unit)
    )
    await conn.commit()  # before the redirect's GET reads it
    return RedirectResponse("/ui/settings?done=settings", status_code=303)
