"""Shared pieces of the server-rendered pages: templates, filters, the cookie session, CSRF."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
from fastapi import HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from vitalgate.api.auth import AuthError, Principal
from vitalgate.api.deps import SESSION_COOKIE, load_principal, state
from vitalgate.api.web_time import PageZones
from vitalgate.domain import Outcome, Severity

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")

SEVERITY_LABEL = {Severity.URGENT: "Urgent", Severity.HIGH: "High", Severity.ROUTINE: "Routine"}
OUTCOME_LABEL = {
    Outcome.REACHED: "Reached: done",
    Outcome.RESOLVED: "Resolved (closes the alert)",
    Outcome.NOT_REACHED: "Not reached: next step now",
    Outcome.REFERRED_TO_DOCTOR: "Refer to doctor",
    Outcome.EMERGENCY: "Emergency services",
}

# Success notices after a redirect, by code (the page never echoes free text from the URL).
DONE_MESSAGES = {
    "ack": "Task acknowledged: it is yours now.",
    "outcome": "Outcome recorded.",
    "escalated": "Escalated to the next follow-up step.",
    "paired": "Device paired. New readings will appear here.",
}


def _tz(request: Request) -> ZoneInfo:
    return ZoneInfo(state(request).display_timezone)


def fmt_time(value: datetime | None, tz: ZoneInfo, fmt: str = "%d %b %Y %H:%M") -> str:
    return value.astimezone(tz).strftime(fmt) if value else "—"


def relative(value: datetime | None, now: datetime) -> str:
    """'in 12 min', '3 h ago' — how a coordinator reads due times."""
    if value is None:
        return "—"
    seconds = (value - now).total_seconds()
    minutes = abs(seconds) / 60
    if minutes < 60:
        text = f"{int(minutes)} min"
    elif minutes < 48 * 60:
        text = f"{minutes / 60:.0f} h"
    else:
        text = f"{minutes / 1440:.0f} d"
    return f"in {text}" if seconds >= 0 else f"{text} ago"


async def web_principal(request: Request, conn: psycopg.AsyncConnection) -> Principal | None:
    """The signed-in web user from the session cookie, or None (expired or absent)."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    try:
        claims = state(request).signer.verify_claims(cookie, "session")
    except AuthError:
        return None
    return await load_principal(conn, claims.user_id, claims.session_id, claims.issued_at)


def check_form_csrf(request: Request, principal: Principal, token: str | None) -> None:
    """Forms carry the per-session token (double submit): cross-site posts are refused."""
    if not state(request).signer.check_csrf(principal.session_id, token):
        raise HTTPException(status_code=403, detail="the form has expired: reload the page and try again")


def login_redirect(request: Request) -> RedirectResponse:
    return RedirectResponse(f"/ui/login?next={request.url.path}", status_code=303)


def render(
    request: Request,
    name: str,
    principal: Principal | None,
    status_code: int = 200,
    zones: PageZones | None = None,
    **context: Any,
) -> HTMLResponse:
    """Render a page with the common context (user, CSRF token, time helpers in the page's zones)."""
    tz = _tz(request)
    zones = zones or PageZones(str(tz))
    now = datetime.now(UTC)
    csrf = state(request).signer.csrf_token(principal.session_id) if principal else ""
    return templates.TemplateResponse(
        request,
        name,
        {
            "me": principal,
            "csrf": csrf,
            "now": now,
            "tzname": zones.viewer,
            "zone_note": zones.note(),
            "t": zones.t,
            "tp": zones.tp,
            "rel": lambda v: relative(v, now),
            "severity_label": SEVERITY_LABEL,
            "outcome_label": OUTCOME_LABEL,
            "message": DONE_MESSAGES.get(request.query_params.get("done", "")),
            "error": None,
            **context,
        },
        status_code=status_code,
    )
