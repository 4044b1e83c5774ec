"""Web pages about one patient: the care team's chart page and the patient's own page, with pairing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import psycopg
from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from vitalgate.api import pairing
from vitalgate.api.auth import Principal
from vitalgate.api.deps import Conn, audit, visible_patient
from vitalgate.api.glucose_display import glucose_series
from vitalgate.api.patient_targets import chart_refs, targets_of, tir_bounds
from vitalgate.api.questionnaire_view import questionnaire_panel
from vitalgate.api.report_pdf import MEAL_SLOTS
from vitalgate.api.routes_patients import profile_for, series_rows, statistics_for
from vitalgate.api.routes_record import caregiver_out, record_out
from vitalgate.api.schemas import BindRequest, DailyProfileOut
from vitalgate.api.visit_report import bp_time_of_day
from vitalgate.api.web_common import as_sentence, check_form_csrf, login_redirect, render, web_principal
from vitalgate.api.web_conversation import conversation_panel
from vitalgate.api.web_explain import explain_latest
from vitalgate.api.web_locale import page_locale
from vitalgate.api.web_time import page_zones
from vitalgate.domain import STAFF_ROLES, GlucoseUnit
from vitalgate.i18n import N_, _, t, using
from vitalgate.store import alerts as alert_store
from vitalgate.store import bindings, consent
from vitalgate.store import caregivers as caregiver_store
from vitalgate.store import readings as reading_store
from vitalgate.store import tasks as task_store
from vitalgate.store.care_team_contact import patient_team_phone
from vitalgate.store.targets import STANDARD, GlucoseTargets

router = APIRouter(include_in_schema=False)
# The chart page shows 30 days of readings and a 14-day daily profile (the AGP convention).
CHART_DAYS = 30
PROFILE_DAYS = 14
# Hourly means: finger-stick data stays one point per reading, CGM data stays at most 720 points.
CHART_BUCKET = timedelta(hours=1)
# The doctor's window selector; each window is drawn in at most ~720 min/mean/max buckets (so a short
# low stays visible as the bucket's minimum, and 90 days of CGM data stay light).
CHART_WINDOWS_DAYS = (7, 14, 30, 90)
MAX_BUCKETS = 720


def chart_bucket(days: int) -> timedelta:
    """The narrowest of 15 min / 30 min / 1 h / 3 h / 6 h that keeps the window within MAX_BUCKETS."""
    for width in (timedelta(minutes=15), timedelta(minutes=30), timedelta(hours=1), timedelta(hours=3)):
        if timedelta(days=days) / width <= MAX_BUCKETS:
            return width
    return timedelta(hours=6)


def _epoch(value: datetime) -> float:
    return value.timestamp()


def chart_text(unit: GlucoseUnit, targets: GlucoseTargets = STANDARD) -> dict[str, Any]:
    """The charts' words (in the page's language) and the patient's glucose targets in the viewer's unit."""
    return {
        "unit": str(unit),
        "glucose_ref": chart_refs(targets, unit),
        "labels": {
            "glucose": _("Glucose ({unit})", unit=str(unit)),
            "systolic": _("Systolic (mmHg)"),
            "diastolic": _("Diastolic (mmHg)"),
            "pulse": _("Pulse (/min)"),
            "hour": _("Hour"),
            "hour_axis": _("hour of day"),
            "median": _("Median"),
            "lowest": _("lowest"),
            "highest": _("highest"),
        },
    }


async def chart_data(
    conn: psycopg.AsyncConnection,
    patient_id: int,
    unit: GlucoseUnit,
    days: int = CHART_DAYS,
    profile: DailyProfileOut | None = None,
) -> dict[str, Any]:
    """Columns for uPlot (x in epoch seconds, axes in the patient's zone, glucose in the viewer's unit); aggregated in SQL."""
    now = datetime.now(UTC)
    since = now - timedelta(days=days)
    width = chart_bucket(days)
    glucose = await series_rows(conn, patient_id, "glucose", since, now, width)
    bp = await series_rows(conn, patient_id, "blood_pressure", since, now, width)
    # The daily profile's hours are the patient's local hours, each reading in the zone valid then.
    profile = profile or await profile_for(conn, patient_id, PROFILE_DAYS, None)
    return {
        "since": _epoch(since),
        "until": _epoch(now),
        "tz": profile.timezone,
        "glucose": [
            [_epoch(r["bucket"]) for r in glucose],
            glucose_series([r["glucose_mean"] for r in glucose], unit),
            glucose_series([r["glucose_min"] for r in glucose], unit),
            glucose_series([r["glucose_max"] for r in glucose], unit),
        ],
        "summary": {
            "glucose_n": sum(int(r["n"]) for r in glucose),
            "glucose_min": min((r["glucose_min"] for r in glucose if r["glucose_min"] is not None), default=None),
            "glucose_max": max((r["glucose_max"] for r in glucose if r["glucose_max"] is not None), default=None),
            "bp_n": sum(int(r["n"]) for r in bp),
        },
        "bands": profile.bands_withheld is None,
        "bp": [
            [_epoch(r["bucket"]) for r in bp],
            [r["systolic_mean"] for r in bp],
            [r["diastolic_mean"] for r in bp],
            [r["pulse_mean"] for r in bp],
        ],
        "profile": [[h.hour for h in profile.hours]]
        + [glucose_series([getattr(h, p) for h in profile.hours], unit) for p in ("p05", "p25", "p50", "p75", "p95")],
        **chart_text(unit, await targets_of(conn, patient_id)),
    }


async def _charts(
    request: Request,
    conn: psycopg.AsyncConnection,
    patient_id: int,
    days: int = CHART_DAYS,
    profile: DailyProfileOut | None = None,
) -> dict[str, Any]:
    locale = page_locale(request)
    with using(locale.language):
        return await chart_data(conn, patient_id, locale.glucose_unit, days, profile)


def chart_days(request: Request) -> int:
    """The window the doctor chose (?days=7|14|30|90), else 30."""
    raw = request.query_params.get("days", "")
    return int(raw) if raw.isdigit() and int(raw) in CHART_WINDOWS_DAYS else CHART_DAYS


async def _patient_page(
    request: Request,
    conn: psycopg.AsyncConnection,
    principal: Principal,
    patient_id: int,
    *,
    error: str | None = None,
    status_code: int = 200,
    task_filter: int | None = None,
) -> HTMLResponse:
    patient = await visible_patient(conn, principal, patient_id)
    zones = await page_zones(conn, request, principal, patient_id=patient_id)
    stats = await statistics_for(conn, patient_id, PROFILE_DAYS)
    profile = await profile_for(conn, patient_id, PROFILE_DAYS, None)  # the chart and the meal-slot table share it
    tasks = await task_store.patient_tasks(conn, patient_id, limit=20)
    events = await task_store.task_events(conn, [t.id for t in tasks])
    await audit(conn, principal, request, "read:patient_page", patient_id)
    return render(
        request,
        "patient.html",
        principal,
        status_code=status_code,
        zones=zones,
        patient=patient,
        stats=stats,
        tir_bounds=tir_bounds(await targets_of(conn, patient_id), page_locale(request).glucose_unit),
        charts=await _charts(request, conn, patient_id, chart_days(request), profile),
        chart_days=chart_days(request),
        chart_windows=CHART_WINDOWS_DAYS,
        profile=profile,
        bp_times=await bp_time_of_day(conn, patient_id, chart_days(request)),
        meal_label=MEAL_SLOTS,
        alerts=await alert_store.patient_alerts(conn, patient_id, limit=20),
        tasks=tasks,
        events=events,
        devices=await bindings.patient_devices(conn, patient_id),
        readings=await reading_store.patient_readings(conn, patient_id, limit=15),
        questionnaires=await questionnaire_panel(conn, patient_id),
        conversation=await conversation_panel(conn, patient_id, task_id=task_filter)
        if principal.role in STAFF_ROLES
        else None,
        record=await record_out(conn, patient_id),
        caregivers=[await caregiver_out(conn, c) for c in await caregiver_store.of_patient(conn, patient_id)],
        consents=await consent.history(conn, patient_id),
        error=error,
    )


@router.get("/ui/patients/{patient_id}", response_class=HTMLResponse)
async def patient_page(patient_id: int, request: Request, conn: Conn, task: int | None = None) -> Response:
    """Charts, statistics, alerts and task history, devices: what a doctor or nurse reads."""
    principal = await web_principal(request, conn)
    if principal is None:
        return login_redirect(request)
    if principal.role == "patient":
        return RedirectResponse("/ui/me", status_code=303)
    return await _patient_page(request, conn, principal, patient_id, task_filter=task)


async def _me_page(
    request: Request,
    conn: psycopg.AsyncConnection,
    principal: Principal,
    *,
    error: str | None = None,
    status_code: int = 200,
    typed: dict[str, str] | None = None,
) -> HTMLResponse:
    if principal.patient_id is None:
        raise HTTPException(status_code=404, detail=N_("this account is not linked to a patient record"))
    patient = await visible_patient(conn, principal, principal.patient_id)
    zones = await page_zones(conn, request, principal, patient_id=patient.id)
    stats = await statistics_for(conn, patient.id, PROFILE_DAYS)
    await audit(conn, principal, request, "read:own_page", patient.id)
    return render(
        request,
        "me.html",
        principal,
        status_code=status_code,
        zones=zones,
        patient=patient,
        stats=stats,
        tir_bounds=tir_bounds(await targets_of(conn, patient.id), page_locale(request).glucose_unit),
        charts=await _charts(request, conn, patient.id),
        devices=await bindings.patient_devices(conn, patient.id, include_closed=False),
        readings=await reading_store.patient_readings(conn, patient.id, limit=30),
        explained=await explain_latest(conn, patient.id, stats.latest),
        team_phone=await patient_team_phone(conn, patient.id),
        pair_error=error,
        typed=typed or {},
        just_paired=request.query_params.get("done") == "paired",
    )


@router.get("/ui/me", response_class=HTMLResponse)
async def me_page(request: Request, conn: Conn) -> Response:
    """The patient's own page: latest readings, their devices, pairing a new one."""
    principal = await web_principal(request, conn)
    if principal is None:
        return login_redirect(request)
    if principal.role != "patient":
        return RedirectResponse("/ui/worklist", status_code=303)
    return await _me_page(request, conn, principal)


BIND_HELP = N_("Enter the 12-character code your hub showed when it paired the device.")


def _bind_request(code: str, serial: str, kind: str) -> BindRequest:
    """The form fields as a BindRequest; a ValueError with plain words when they do not fit."""
    try:
        return BindRequest(
            claim_code=code.strip() or None,
            serial=serial.strip() or None,
            kind=kind or None,
        )
    except ValidationError as exc:
        raise ValueError(BIND_HELP) from exc


async def _pair(
    request: Request,
    conn: psycopg.AsyncConnection,
    principal: Principal,
    patient_id: int,
    code: str,
    serial: str,
    kind: str,
) -> str | None:
    """Pair from a form; returns an error to show, or None on success."""
    try:
        req = _bind_request(code, serial, kind)
        patient = await visible_patient(conn, principal, patient_id)
        result = await pairing.pair(conn, principal, patient, req)
    except ValueError as exc:
        return t(page_locale(request).language, str(exc))
    except HTTPException as exc:
        await conn.rollback()
        if exc.status_code == 404 and "patient" in str(exc.detail):
            raise
        language = page_locale(request).language
        return as_sentence(t(language, exc.detail), language)
    await audit(conn, principal, request, "change:bind_device", patient_id, {"serial": result["serial"]})
    return None


@router.post("/ui/me/devices")
async def pair_own(
    request: Request,
    conn: Conn,
    csrf: Annotated[str, Form()] = "",
    claim_code: Annotated[str, Form()] = "",
    serial: Annotated[str, Form()] = "",
    kind: Annotated[str, Form()] = "",
) -> Response:
    """A patient pairs a device to themselves."""
    principal = await web_principal(request, conn)
    if principal is None:
        return login_redirect(request)
    check_form_csrf(request, principal, csrf)
    if principal.role != "patient" or principal.patient_id is None:
        raise HTTPException(status_code=403, detail=N_("only a patient pairs devices here"))
    error = await _pair(request, conn, principal, principal.patient_id, claim_code, serial, kind)
    if error:
        typed = {"claim_code": claim_code[:40], "serial": serial[:64], "kind": kind[:20]}
        return await _me_page(request, conn, principal, error=error, status_code=400, typed=typed)
    return RedirectResponse("/ui/me?done=paired#devices", status_code=303)


@router.post("/ui/patients/{patient_id}/devices")
async def pair_for_patient(
    patient_id: int,
    request: Request,
    conn: Conn,
    csrf: Annotated[str, Form()] = "",
    claim_code: Annotated[str, Form()] = "",
    serial: Annotated[str, Form()] = "",
    kind: Annotated[str, Form()] = "",
) -> Response:
    """Staff pair a device on the patient's behalf."""
    principal = await web_principal(request, conn)
    if principal is None:
        return login_redirect(request)
    check_form_csrf(request, principal, csrf)
    if not principal.is_staff:
        raise HTTPException(status_code=403, detail=N_("only care-team staff pair for a patient"))
    error = await _pair(request, conn, principal, patient_id, claim_code, serial, kind)
    if error:
        return await _patient_page(request, conn, principal, patient_id, error=error, status_code=400)
    return RedirectResponse(f"/ui/patients/{patient_id}?done=paired#devices", status_code=303)
