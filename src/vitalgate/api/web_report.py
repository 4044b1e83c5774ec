"""The visit report as a web page (the same content as the PDF; charts drawn on the server as SVG)."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from vitalgate.api.deps import Conn, audit, visible_patient
from vitalgate.api.report_pdf import MEAL_SLOTS
from vitalgate.api.visit_report import GOALS, WINDOWS_DAYS, build_report
from vitalgate.api.web_common import login_redirect, render, web_principal
from vitalgate.api.web_time import page_zones
from vitalgate.store.report_data import DayPoint

router = APIRouter(include_in_schema=False)
_Y_MAX_MG_DL = 350.0
MINI_W, MINI_H = 120, 48


def mini_path(points: list[DayPoint]) -> str:
    """SVG polyline points of one day's half-hour means (x: 0..MINI_W over the day, y: 0..MINI_H)."""
    return " ".join(
        f"{MINI_W * p.slot / 47:.1f},{MINI_H - MINI_H * min(p.mean_mg_dl, _Y_MAX_MG_DL) / _Y_MAX_MG_DL:.1f}"
        for p in points
    )


def mini_y(mg_dl: float) -> float:
    return MINI_H - MINI_H * min(mg_dl, _Y_MAX_MG_DL) / _Y_MAX_MG_DL


@router.get("/ui/patients/{patient_id}/report", response_class=HTMLResponse)
async def report_page(patient_id: int, request: Request, conn: Conn) -> Response:
    """AGP-style visit report for 14, 30 or 90 days, with the PDF one click away."""
    principal = await web_principal(request, conn)
    if principal is None:
        return login_redirect(request)
    raw = request.query_params.get("days", "14")
    days = int(raw) if raw.isdigit() and int(raw) in WINDOWS_DAYS else 14
    if principal.role == "patient" and principal.patient_id != patient_id:
        return RedirectResponse("/ui/me", status_code=303)
    patient = await visible_patient(conn, principal, patient_id)
    report = await build_report(conn, patient_id, patient.display_name, days, now=datetime.now(UTC))
    zones = await page_zones(conn, request, principal, patient_id=patient_id)
    await audit(conn, principal, request, "read:visit_report_page", patient_id, {"days": days})
    return render(
        request,
        "report.html",
        principal,
        zones=zones,
        patient=patient,
        report=report,
        days=days,
        windows=WINDOWS_DAYS,
        goals=GOALS,
        meal_label=MEAL_SLOTS,
        mini_path=mini_path,
        mini_y=mini_y,
        mini_w=MINI_W,
        mini_h=MINI_H,
    )
