"""Visit reports: the AGP-style glucose summary and home-BP protocol report, as JSON and as a PDF."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import Response

from vitalgate.api.deps import Conn, CurrentUser, audit, visible_patient
from vitalgate.api.glucose_display import as_unit
from vitalgate.api.report_pdf import render_pdf
from vitalgate.api.routes_patients import PatientId
from vitalgate.api.schemas import ErrorOut
from vitalgate.api.visit_report import WINDOWS_DAYS, build_report
from vitalgate.domain import GlucoseUnit, Language
from vitalgate.i18n import negotiate
from vitalgate.store.user_prefs import viewer_prefs

router = APIRouter(tags=["reports"], responses={401: {"model": ErrorOut}, 404: {"model": ErrorOut}})
WindowDays = Annotated[int, Query(ge=1, le=90, description="report window: 14, 30 or 90 days")]


def _window(days: int) -> int:
    if days not in WINDOWS_DAYS:
        raise HTTPException(status_code=422, detail="days must be 14, 30 or 90")
    return days


LanguageParam = Annotated[Language | None, Query(description="default: the viewer's language")]
UnitParam = Annotated[GlucoseUnit | None, Query(description="default: the viewer's glucose unit")]


@router.get("/patients/{patient_id}/report")
async def get_report(
    patient_id: PatientId, request: Request, conn: Conn, principal: CurrentUser, days: WindowDays = 14
) -> dict[str, Any]:
    """The visit report's figures: glucose statistics (meter or CGM variant), daily profile, daily
    mini-chart points for the last 14 days, and the home-BP protocol summary."""
    patient = await visible_patient(conn, principal, patient_id)
    report = await build_report(conn, patient_id, patient.display_name, _window(days), now=datetime.now(UTC))
    await audit(conn, principal, request, "read:visit_report", patient_id, {"days": days})
    return {
        "patient_id": patient_id,
        "days": days,
        "zone": report.zone,
        "since": report.since,
        "until": report.until,
        "glucose": report.glucose.model_dump(),
        "profile": report.profile.model_dump(),
        "mini_days": [{"day": d, "points": [asdict(p) for p in pts]} for d, pts in report.mini_days],
        "home_bp": asdict(report.bp),
    }


@router.get("/patients/{patient_id}/report.pdf", response_class=Response)
async def get_report_pdf(
    patient_id: PatientId,
    request: Request,
    conn: Conn,
    principal: CurrentUser,
    days: WindowDays = 14,
    lang: LanguageParam = None,
    unit: UnitParam = None,
) -> Response:
    """The visit report as a one-page PDF for the clinic file (drawn on the server), in the viewer's
    language and glucose unit unless asked otherwise, times in the patient's zone."""
    patient = await visible_patient(conn, principal, patient_id)
    prefs = await viewer_prefs(conn, principal.user_id)
    lang = lang or negotiate(
        user=prefs.language, patient=prefs.patient_language, accept_language=request.headers.get("accept-language")
    )
    unit = unit or as_unit(prefs.glucose_unit or prefs.patient_glucose_unit)
    report = await build_report(conn, patient_id, patient.display_name, _window(days), now=datetime.now(UTC))
    pdf = render_pdf(report, language=lang, unit=unit)
    await audit(conn, principal, request, "export:visit_report_pdf", patient_id, {"days": days})
    name = f"visit-report-{patient_id}-{report.until:%Y%m%d}-{days}d.pdf"
    return Response(
        pdf, media_type="application/pdf", headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )
