"""Shared pieces of the server-rendered pages: templates, filters, the cookie session, CSRF."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from fastapi import HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from vitalgate.api.auth import AuthError, Principal
from vitalgate.api.deps import SESSION_COOKIE, load_principal, state
from vitalgate.api.glucose_display import TIR_BOUNDS, format_glucose, showing_unit
from vitalgate.api.web_labels import SEVERITY, label, labels
from vitalgate.api.web_locale import PageLocale, page_locale, remember_viewer
from vitalgate.api.web_time import PageZones
from vitalgate.api.web_titles import alert_text, task_title
from vitalgate.domain import Language, Outcome
from vitalgate.i18n import N_, format_relative, lazy, using
from vitalgate.i18n.jinja import install as install_i18n

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
install_i18n(templates.env)
# Stateless helpers (they follow the language of the rendering) are globals, so macros see them.
templates.env.globals.update(lbl=label, lbls=labels, task_title=task_title, alert_text=alert_text)

SEVERITY_LABEL = SEVERITY
OUTCOME_LABEL = {
    Outcome.REACHED: lazy("Reached: done"),
    Outcome.RESOLVED: lazy("Resolved (closes the alert)"),
    Outcome.NOT_REACHED: lazy("Not reached: next step now"),
    Outcome.REFERRED_TO_DOCTOR: lazy("Refer to doctor"),
    Outcome.EMERGENCY: lazy("Emergency services"),
}

# Success notices after a redirect, by code (the page never echoes free text from the URL).
DONE_MESSAGES = {
    "ack": lazy("Task acknowledged: it is yours now."),
    "outcome": lazy("Outcome recorded."),
    "escalated": lazy("Escalated to the next follow-up step."),
    "paired": lazy("Device paired. New readings will appear here."),
    "settings": lazy("Settings saved."),
    "record": lazy("Record saved."),
}


def as_sentence(text: str, language: Language) -> str:
    """An error detail ('device … is paired with someone else') as a sentence of the page's language."""
    if not text:
        return text
    if language == Language.ZH_HANS:
        return text if text.endswith(("。", "！", "？")) else text + "。"
    return text[0].upper() + text[1:] + ("" if text.endswith((".", "!", "?")) else ".")


def relative(value: datetime | None, now: datetime, locale: PageLocale) -> str:
    """'in 12 min.', '3 hr. ago' ('12分钟后', '3小时前') — how a coordinator reads due times."""
    return "—" if value is None else format_relative(value - now, locale.language)


async def web_principal(request: Request, conn: psycopg.AsyncConnection) -> Principal | None:
    """The signed-in web user from the session cookie, or None (expired or absent)."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    try:
        claims = state(request).signer.verify_claims(cookie, "session")
    except AuthError:
        return None
    principal = await load_principal(conn, claims.user_id, claims.session_id, claims.issued_at)
    if principal is not None:
        await remember_viewer(request, conn, principal.user_id)
    return principal


def check_form_csrf(request: Request, principal: Principal, token: str | None) -> None:
    """Forms carry the per-session token (double submit): cross-site posts are refused."""
    if not state(request).signer.check_csrf(principal.session_id, token):
        raise HTTPException(status_code=403, detail=N_("the form has expired: reload the page and try again"))


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
    """Render a page in the viewer's language and glucose unit, with the common context
    (user, CSRF token, time helpers in the page's zones)."""
    locale = page_locale(request)
    zones = (zones or PageZones(state(request).display_timezone)).speaking(locale.language)
    now = datetime.now(UTC)
    csrf = state(request).signer.csrf_token(principal.session_id) if principal else ""
    with using(locale.language), showing_unit(locale.glucose_unit):
        # Starlette renders in the constructor: `_`, lazy labels and zones speak the page's language.
        return templates.TemplateResponse(
            request,
            name,
            {
                "me": principal,
                "csrf": csrf,
                "now": now,
                "lang": locale.language,
                "unit": locale.glucose_unit,
                "glu": lambda mg_dl: format_glucose(mg_dl, locale.glucose_unit, locale.language),
                "tzname": zones.viewer,
                "zone_note": zones.note(),
                "t": zones.t,
                "tp": zones.tp,
                "rel": lambda v: relative(v, now, locale),
                "severity_label": SEVERITY_LABEL,
                "tir_bounds": TIR_BOUNDS[locale.glucose_unit],
                "outcome_label": OUTCOME_LABEL,
                "message": DONE_MESSAGES.get(request.query_params.get("done", "")),
                "error": None,
                **context,
            },
            status_code=status_code,
        )
