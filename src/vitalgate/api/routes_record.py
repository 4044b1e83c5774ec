"""The patient record, caregivers and consent history: read by anyone who sees the patient, changed by staff."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import psycopg
from fastapi import APIRouter, HTTPException, Path, Request

from vitalgate.api.auth import Principal
from vitalgate.api.deps import Conn, CurrentUser, ScopedPatient, audit
from vitalgate.api.record_models import (
    CaregiverChange,
    CaregiverIn,
    CaregiverOut,
    ConditionIn,
    ConsentIn,
    ConsentOut,
    PatientRecordOut,
    RecordChange,
    check_reachable,
    check_record,
)
from vitalgate.api.schemas import ErrorOut
from vitalgate.store import caregivers as caregiver_store
from vitalgate.store import consent
from vitalgate.store import patient_record as record_store
from vitalgate.store import targets as target_rules
from vitalgate.store.consent import NewConsent
from vitalgate.store.record_vocab import ConsentDecision, ConsentPurpose, GivenBy

router = APIRouter(tags=["patient record"], responses={401: {"model": ErrorOut}, 404: {"model": ErrorOut}})
CaregiverId = Annotated[int, Path(ge=1, le=2**63 - 1)]
_CAREGIVER_REQUIRED = frozenset({"language", "alert_severities", "receives_reminders", "active"})
_DEFAULTS = {"language": "en", "glucose_unit": "mg/dL", "target_preset": "standard", "targets": {}}


def _staff_only(principal: Principal) -> None:
    if not principal.is_staff:
        raise HTTPException(status_code=403, detail="only care-team staff change the patient record")


async def record_out(conn: psycopg.AsyncConnection, patient_id: int) -> PatientRecordOut:
    """The record as the API shows it, targets resolved against the preset."""
    record = await record_store.get_record(conn, patient_id)
    if record is None:
        raise HTTPException(status_code=404, detail=f"patient {patient_id} not found")
    monitoring = await consent.allows(conn, patient_id, ConsentPurpose.MONITORING, None, datetime.now(UTC))
    return PatientRecordOut(
        id=record.id,
        program=record.program,
        external_id=record.external_id,
        display_name=record.display_name,
        care_team_id=record.care_team_id,
        birth_date=record.birth_date,
        birth_year=record.birth_year or (record.birth_date.year if record.birth_date else None),
        sex=record.sex,
        journey_stage=record.journey_stage,
        language=record.language,
        glucose_unit=record.glucose_unit,
        phone=record.phone,
        email=record.email,
        app_id=record.app_id,
        preferred_channel=record.preferred_channel,
        target_preset=record.target_preset,
        targets=target_rules.as_dict(target_rules.resolve(record.target_preset, record.targets)),
        target_overrides=record.targets,
        conditions=[ConditionIn.model_validate(c, from_attributes=True) for c in record.conditions],
        monitoring_consent=monitoring,
        updated_at=record.updated_at,
    )


@router.get("/patients/{patient_id}/record", response_model=PatientRecordOut)
async def get_record(patient: ScopedPatient, request: Request, conn: Conn, principal: CurrentUser) -> PatientRecordOut:
    """Demographics, conditions, language, glucose unit, contact points and target ranges."""
    body = await record_out(conn, patient.id)
    await audit(conn, principal, request, "read:record", patient.id)
    return body


@router.patch(
    "/patients/{patient_id}/record",
    response_model=PatientRecordOut,
    responses={403: {"model": ErrorOut}, 409: {"model": ErrorOut}, 422: {"model": ErrorOut}},
)
async def change_record(
    patient: ScopedPatient, body: RecordChange, request: Request, conn: Conn, principal: CurrentUser
) -> PatientRecordOut:
    """Change the fields sent; `conditions`, when sent, replaces the list."""
    _staff_only(principal)
    pid = int(patient.id)
    sent = body.model_dump(exclude_unset=True, mode="json")
    # null on a field that always has a value means "back to the default".
    sent |= {k: _DEFAULTS[k] for k, v in sent.items() if v is None and k in _DEFAULTS}
    conditions = sent.pop("conditions", None)
    current = await record_store.get_record(conn, pid)
    assert current is not None
    merged = {k: getattr(current, k) for k in record_store.RECORD_FIELDS} | sent
    try:
        check_record(merged)
        target_rules.resolve(merged["target_preset"], merged["targets"])
        await record_store.update_record(conn, pid, sent)
        if conditions is not None:
            await record_store.replace_conditions(conn, pid, [c.to_row() for c in body.conditions or []])
    except ValueError as exc:
        await conn.rollback()
        raise HTTPException(status_code=422, detail=str(exc)) from exc
    except psycopg.errors.UniqueViolation as exc:
        await conn.rollback()
        raise HTTPException(status_code=409, detail="external_id is already used in this program") from exc
    await audit(
        conn,
        principal,
        request,
        "change:record",
        pid,
        {"fields": sorted(sent) + (["conditions"] if conditions is not None else [])},
    )
    return await record_out(conn, pid)


async def caregiver_out(conn: psycopg.AsyncConnection, c: caregiver_store.Caregiver) -> CaregiverOut:
    sharing = await consent.allows(
        conn, c.patient_id, ConsentPurpose.SHARE_CAREGIVER, None, datetime.now(UTC), caregiver_id=c.id
    )
    fields: dict[str, Any] = {k: getattr(c, k) for k in CaregiverOut.model_fields if hasattr(c, k)}
    return CaregiverOut(**fields, has_login=c.user_id is not None, sharing_consent=sharing)


@router.get("/patients/{patient_id}/caregivers", response_model=list[CaregiverOut])
async def list_caregivers(
    patient: ScopedPatient, request: Request, conn: Conn, principal: CurrentUser
) -> list[CaregiverOut]:
    """Family members and other caregivers, with what they receive and whether the patient shares with them."""
    rows = [await caregiver_out(conn, c) for c in await caregiver_store.of_patient(conn, patient.id)]
    await audit(conn, principal, request, "read:caregivers", patient.id)
    return rows


@router.post(
    "/patients/{patient_id}/caregivers",
    response_model=CaregiverOut,
    status_code=201,
    responses={403: {"model": ErrorOut}, 409: {"model": ErrorOut}},
)
async def add_caregiver(
    patient: ScopedPatient, body: CaregiverIn, request: Request, conn: Conn, principal: CurrentUser
) -> CaregiverOut:
    """Add a caregiver (sharing data with them needs the patient's share_caregiver consent)."""
    _staff_only(principal)
    try:
        row = await caregiver_store.add(conn, patient.id, body.model_dump(mode="json"))
    except psycopg.errors.UniqueViolation as exc:
        await conn.rollback()
        raise HTTPException(status_code=409, detail="this patient already has a caregiver of that name") from exc
    except psycopg.errors.IntegrityError as exc:
        await conn.rollback()
        raise HTTPException(status_code=422, detail=f"refused by the database: {exc.diag.message_primary}") from exc
    await audit(conn, principal, request, "change:add_caregiver", patient.id, {"caregiver_id": row.id})
    return await caregiver_out(conn, row)


@router.patch(
    "/patients/{patient_id}/caregivers/{caregiver_id}",
    response_model=CaregiverOut,
    responses={403: {"model": ErrorOut}, 422: {"model": ErrorOut}},
)
async def change_caregiver(
    patient: ScopedPatient,
    caregiver_id: CaregiverId,
    body: CaregiverChange,
    request: Request,
    conn: Conn,
    principal: CurrentUser,
) -> CaregiverOut:
    """Change a caregiver's contact points, language, messages or deactivate them (active=false)."""
    _staff_only(principal)
    current = await caregiver_store.get(conn, patient.id, caregiver_id)
    if current is None:
        raise HTTPException(status_code=404, detail=f"caregiver {caregiver_id} not found")
    sent = body.model_dump(exclude_unset=True, mode="json")
    # These always have a value: null leaves them as they are.
    sent = {k: v for k, v in sent.items() if v is not None or k not in _CAREGIVER_REQUIRED}
    try:
        check_reachable({k: getattr(current, k) for k in ("phone", "email", "app_id", "preferred_channel")} | sent)
    except ValueError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from exc
    try:
        row = await caregiver_store.update(conn, patient.id, caregiver_id, sent)
    except psycopg.errors.IntegrityError as exc:
        await conn.rollback()
        raise HTTPException(status_code=422, detail=f"refused by the database: {exc.diag.message_primary}") from exc
    assert row is not None
    await audit(
        conn,
        principal,
        request,
        "change:caregiver",
        patient.id,
        {"caregiver_id": caregiver_id, "fields": sorted(sent)},
    )
    return await caregiver_out(conn, row)


@router.get("/patients/{patient_id}/consents", response_model=list[ConsentOut])
async def list_consents(
    patient: ScopedPatient, request: Request, conn: Conn, principal: CurrentUser
) -> list[ConsentOut]:
    """The whole consent history, oldest first (append-only; the export for the patient or an auditor)."""
    rows = await consent.history(conn, patient.id)
    await audit(conn, principal, request, "read:consents", patient.id)
    return [ConsentOut.model_validate(r, from_attributes=True) for r in rows]


@router.post(
    "/patients/{patient_id}/consents",
    response_model=ConsentOut,
    status_code=201,
    responses={403: {"model": ErrorOut}, 422: {"model": ErrorOut}},
)
async def add_consent(
    patient: ScopedPatient, body: ConsentIn, request: Request, conn: Conn, principal: CurrentUser
) -> ConsentOut:
    """Record a decision: staff for the patient (given_by patient/guardian/staff), or the patient themself."""
    pid = int(patient.id)
    if principal.role == "patient":
        if body.given_by is not GivenBy.PATIENT:
            raise HTTPException(status_code=403, detail="a patient records their own decisions (given_by patient)")
    elif not principal.is_staff:
        raise HTTPException(status_code=403, detail="only the patient or care-team staff record consent")
    if body.caregiver_id is not None and await caregiver_store.get(conn, pid, body.caregiver_id) is None:
        raise HTTPException(status_code=422, detail=f"caregiver {body.caregiver_id} is not this patient's")
    now = datetime.now(UTC)
    new = NewConsent(
        purpose=body.purpose,
        decision=body.decision,
        text_version=body.text_version,
        # Withdrawal takes effect at once; a given consent may carry the date it was signed.
        effective_at=now if body.decision is ConsentDecision.WITHDRAWN else (body.effective_at or now),
        given_by=body.given_by.value,
        given_by_name=body.given_by_name or (principal.username if body.given_by is GivenBy.STAFF else None),
        recorded_by=principal.username,
        channel=body.channel.value if body.channel else None,
        caregiver_id=body.caregiver_id,
    )
    row = await consent.record(conn, pid, new)
    monitoring = await consent.apply_monitoring(conn, row)
    await audit(
        conn,
        principal,
        request,
        "change:consent",
        pid,
        {"consent_id": row.id, "purpose": row.purpose, "decision": row.decision, "monitoring": monitoring},
    )
    return ConsentOut.model_validate(row, from_attributes=True)
