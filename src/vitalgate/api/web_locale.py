"""The language and glucose unit of a page: the viewer's settings, the patient record's, the browser's."""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
from fastapi import Request

from vitalgate.api.glucose_display import as_unit
from vitalgate.domain import GlucoseUnit, Language
from vitalgate.i18n import negotiate
from vitalgate.store.user_prefs import ViewerPrefs, viewer_prefs

_NO_PREFS = ViewerPrefs(None, None, None, None)


@dataclass(frozen=True, slots=True)
class PageLocale:
    language: Language
    glucose_unit: GlucoseUnit


async def remember_viewer(request: Request, conn: psycopg.AsyncConnection, user_id: int) -> None:
    """Read the signed-in user's settings once per request (pages and error pages use them)."""
    request.state.viewer_prefs = await viewer_prefs(conn, user_id)


def page_locale(request: Request) -> PageLocale:
    """User's language, else their patient record's, else Accept-Language, else English; unit likewise (mg/dL last)."""
    prefs: ViewerPrefs = getattr(request.state, "viewer_prefs", None) or _NO_PREFS
    language = negotiate(
        user=prefs.language, patient=prefs.patient_language, accept_language=request.headers.get("accept-language")
    )
    return PageLocale(language, as_unit(prefs.glucose_unit or prefs.patient_glucose_unit))
