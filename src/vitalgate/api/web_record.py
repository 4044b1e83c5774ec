"""Staff edit a patient's record on a page (the API's PATCH /patients/{id}/record, as a form).

Validated on the server with the API's models; an error is shown next to its field and the page
keeps what was typed. CSRF as every form; each change audited as `change:record` like the API.
"""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any

import psycopg
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from vitalgate.api.auth import Principal
from vitalgate.api.deps import Conn, audit, visible_patient
from vitalgate.api.record_models import ConditionIn, RecordChange, check_record
from vitalgate.api.web_common import check_form_csrf, login_redirect, render, web_principal
from vitalgate.api.web_time import page_zones
from vitalgate.core.localtime import UnknownZoneError, check_zone
from vitalgate.domain import GlucoseUnit, Language
from vitalgate.i18n import N_
from vitalgate.store import patient_record, time_zones
from vitalgate.store.record_vocab import ContactChannel, JourneyStage, Sex, TargetPreset
from vitalgate.store.targets import resolve

router = APIRouter(include_in_schema=False)

TEXT_FIELDS = ("birth_date", "birth_year", "phone", "email", "app_id", "conditions", "time_zone")
CHOICE_FIELDS = ("sex", "journey_stage", "language", "glucose_unit", "preferred_channel", "target_preset")
TIME_FIELDS = ("quiet_start", "quiet_end")
CHOICES: dict[str, list[str]] = {
    "sex": [str(v) for v in Sex],
    "journey_stage": [str(v) for v in JourneyStage],
    "language": [str(v) for v in Language],
    "glucose_unit": [str(v) for v in GlucoseUnit],
    "preferred_channel": [str(v) for v in ContactChannel],
    "target_preset": [str(v) for v in TargetPreset],
}
# Messages shown next to a field (catalog area 'record').
BAD_VALUE = N_("Check this value.")
BAD_ZONE = N_("Unknown time zone: use an IANA name such as Asia/Shanghai.")
BAD_TIME = N_("Use a time such as 21:00.")
BAD_CODE = N_("Use ICD-10 codes such as E11 or I10, separated by commas.")
NEEDS_CONTACT = N_("This channel needs its contact point.")
BIRTH_MISMATCH = N_("The birth year does not match the birth date.")
BAD_TARGETS = N_("The patient's target overrides do not fit this preset.")


async def _current(conn: psycopg.AsyncConnection, patient_id: int) -> dict[str, str]:
    """The record as the form shows it (strings)."""
    record = await patient_record.get_record(conn, patient_id)
    clock = await time_zones.patient_clock(conn, patient_id)
    if record is None or clock is None:
        raise HTTPException(status_code=404, detail=N_("patient not found"))
    values = {k: getattr(record, k) for k in (*TEXT_FIELDS[:5], *CHOICE_FIELDS)}
    values["conditions"] = ", ".join(c.code for c in record.conditions)
    values["time_zone"] = clock.own_zone or ""
    values["quiet_start"] = clock.quiet_start.strftime("%H:%M")
    values["quiet_end"] = clock.quiet_end.strftime("%H:%M")
    return {k: "" if v is None else str(v) for k, v in values.items()}


async def _page(
    request: Request,
    conn: psycopg.AsyncConnection,
    principal: Principal,
    patient_id: int,
    typed: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
) -> HTMLResponse:
    patient = await visible_patient(conn, principal, patient_id)
    return render(
        request,
        "record_edit.html",
        principal,
        status_code=400 if errors else 200,
        zones=await page_zones(conn, request, principal, patient_id=patient_id),
        patient=patient,
        values=typed or await _current(conn, patient_id),
        errors=errors or {},
        choices=CHOICES,
    )


async def _staff(request: Request, conn: psycopg.AsyncConnection) -> Principal | None:
    principal = await web_principal(request, conn)
    if principal is not None and not principal.is_staff:
        raise HTTPException(status_code=403, detail=N_("only care-team staff change the patient record"))
    return principal


@router.get("/ui/patients/{patient_id}/record", response_class=HTMLResponse)
async def record_form(patient_id: int, request: Request, conn: Conn) -> Response:
    principal = await _staff(request, conn)
    if principal is None:
        return login_redirect(request)
    page = await _page(request, conn, principal, patient_id)
    await audit(conn, principal, request, "read:record", patient_id)
    return page


def _parse(form: dict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """Form strings -> record values (None clears) and per-field errors."""
    errors: dict[str, str] = {}
    values: dict[str, Any] = {k: form[k] or None for k in (*TEXT_FIELDS[:5], *CHOICE_FIELDS)}
    codes = [c.strip() for c in form["conditions"].split(",") if c.strip()]
    try:
        values["conditions"] = [ConditionIn(code=c) for c in codes]
    except ValidationError:
        errors["conditions"] = BAD_CODE
    for name in TIME_FIELDS:
        try:
            values[name] = time.fromisoformat(form[name])
        except ValueError:
            errors[name] = BAD_TIME
    try:
        values["time_zone"] = check_zone(form["time_zone"]) if form["time_zone"] else None
    except UnknownZoneError:
        errors["time_zone"] = BAD_ZONE
    return values, errors


@router.post("/ui/patients/{patient_id}/record")
async def save_record(patient_id: int, request: Request, conn: Conn) -> Response:
    principal = await _staff(request, conn)
    if principal is None:
        return login_redirect(request)
    raw = await request.form()
    check_form_csrf(request, principal, str(raw.get("csrf", "")))
    await visible_patient(conn, principal, patient_id)
    fields = (*TEXT_FIELDS, *CHOICE_FIELDS, *TIME_FIELDS)
    form = {k: str(raw.get(k, "")).strip()[:200] for k in fields}
    values, errors = _parse(form)
    record_values = {k: v for k, v in values.items() if k not in (*TIME_FIELDS, "time_zone")}
    if "conditions" in errors:
        record_values.pop("conditions", None)
    try:
        change = RecordChange.model_validate(record_values)
    except ValidationError as exc:
        for e in exc.errors():
            field = str(e["loc"][0]) if e["loc"] else "birth_date"
            errors.setdefault(field, BIRTH_MISMATCH if field == "birth_year" else BAD_VALUE)
        change = None
    if change is not None and not errors:
        errors |= _cross_field(change.model_dump(mode="json", exclude={"conditions"}))
        current = await patient_record.get_record(conn, patient_id)
        try:  # the overrides set through the API must still fit the chosen preset
            resolve(change.target_preset or "standard", current.targets if current else None)
        except ValueError:
            errors["target_preset"] = BAD_TARGETS
    if errors or change is None:
        return await _page(request, conn, principal, patient_id, form, errors)
    await _save(conn, patient_id, change, values, principal)
    await audit(conn, principal, request, "change:record", patient_id, {"fields": sorted(fields), "source": "page"})
    await conn.commit()  # before the redirect's GET reads it
    return RedirectResponse(f"/ui/patients/{patient_id}?done=record#record", status_code=303)


def _cross_field(values: dict[str, Any]) -> dict[str, str]:
    try:
        check_record(values)
    except ValueError as exc:
        return {"preferred_channel": NEEDS_CONTACT} if "channel" in str(exc) else {"birth_year": BIRTH_MISMATCH}
    return {}


async def _save(
    conn: psycopg.AsyncConnection, patient_id: int, change: RecordChange, values: dict[str, Any], principal: Principal
) -> None:
    fields = change.model_dump(mode="json", exclude={"conditions", "targets", "external_id"})
    # A select left empty means the default for fields that always have a value.
    defaults = {"language": "en", "glucose_unit": "mg/dL", "target_preset": "standard"}
    fields |= {k: defaults[k] for k, v in fields.items() if v is None and k in defaults}
    await patient_record.update_record(conn, patient_id, fields)
    # Codes kept keep their type/stage/subtype (set through the API); new codes come bare.
    known = {(c.code_system, c.code): c for c in await patient_record.conditions_of(conn, patient_id)}
    rows = [known.get((c.code_system, c.code), c.to_row()) for c in change.conditions or []]
    await patient_record.replace_conditions(conn, patient_id, rows)
    clock = await time_zones.patient_clock(conn, patient_id)
    now = datetime.now(UTC)
    if clock is not None and clock.own_zone != values["time_zone"]:
        # The move takes effect now: earlier readings keep the local time they had.
        await time_zones.set_patient_time_zone(
            conn, patient_id, values["time_zone"], valid_from=now, now=now, actor=f"user:{principal.user_id}"
        )
    await time_zones.set_quiet_hours(conn, patient_id, values["quiet_start"], values["quiet_end"])
