"""Device pairing rules: who may bind which device to whom, by serial (staff) or claim code (anyone).

A claim code proves possession: the hub that paired the device drew it at random and registered
only its hash with the server (contract.claim, store.claims). Patients pair only by such a code,
never by a bare serial; failed codes are counted per user (throttled) and audited.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from fastapi import HTTPException

from vitalgate.alerts.engine import evaluate_readings
from vitalgate.api.auth import Principal
from vitalgate.api.claim import claim_hash, normalise_claim_code
from vitalgate.api.schemas import BindRequest
from vitalgate.followup.tasks import act_on_alerts
from vitalgate.i18n import N_, Msg
from vitalgate.store import audit as audit_store
from vitalgate.store import bindings
from vitalgate.store import claims as claim_store
from vitalgate.store.rows import Device, Patient

# Staff may back-date a binding (a meter used before anyone paired it) but not far into the future.
_MAX_FUTURE = timedelta(days=1)


async def pair(
    conn: psycopg.AsyncConnection, principal: Principal, patient: Patient, req: BindRequest
) -> dict[str, Any]:
    """Bind the device to the patient from now (or staff's valid_from); HTTPException with advice otherwise."""
    if req.valid_from is not None and not principal.is_staff:
        raise HTTPException(status_code=403, detail="only care-team staff may set valid_from")
    device = await _resolve(conn, principal, patient.id, req)
    kind = device.kind if device else req.kind
    if device and req.kind and req.kind != device.kind:
        raise HTTPException(
            status_code=422,
            detail=Msg(
                "device {serial} is a {kind}, not a {wanted}", serial=device.serial, kind=device.kind, wanted=req.kind
            ),
        )
    serial = device.serial if device else req.serial
    assert serial is not None and kind is not None
    valid_from = _aware(req.valid_from) or datetime.now(UTC)
    if valid_from > datetime.now(UTC) + _MAX_FUTURE:
        raise HTTPException(status_code=422, detail=N_("valid_from may be at most one day in the future"))
    if device and device.bound_patient_id is not None:
        if device.bound_patient_id == patient.id:
            raise HTTPException(
                status_code=409, detail=Msg("device {serial} is already paired with this patient", serial=serial)
            )
        own_team = principal.is_staff and device.bound_care_team_id in principal.team_ids
        if not own_team:
            # Same words whether it is another team's patient or not: no hint about other patients.
            raise HTTPException(
                status_code=409,
                detail=Msg(
                    "device {serial} is paired with someone else; ask the care team to release it", serial=serial
                ),
            )
        if device.bound_since is not None and valid_from <= device.bound_since:
            raise HTTPException(
                status_code=409,
                detail=f"valid_from must be after the current binding's start ({device.bound_since.isoformat()})",
            )
    bound = await bindings.bind(
        conn,
        serial=serial,
        kind=kind,
        patient_id=patient.id,
        valid_from=valid_from,
        bound_by=principal.username,
    )
    if req.claim_code is not None:
        await claim_store.mark_used(conn, serial, principal.username)
    binding = bound.binding
    if bound.filed_reading_ids:
        # Readings filed to the patient only now never went through the ingest hook with a
        # patient: evaluate them as if just ingested, or a filed 48 mg/dL would raise nothing.
        now = datetime.now(UTC)
        raised = await evaluate_readings(conn, bound.filed_reading_ids, now=now, patient_ids=[binding.patient_id])
        await act_on_alerts(conn, raised, now=now)
    return {
        "binding_id": binding.id,
        "serial": serial,
        "patient_id": binding.patient_id,
        "valid_from": binding.valid_from,
        "readings_filed": bound.readings_filed,
    }


async def _resolve(
    conn: psycopg.AsyncConnection, principal: Principal, patient_id: int, req: BindRequest
) -> Device | None:
    """The known device for the request; None for a serial the server has not seen (staff only, needs kind)."""
    if req.claim_code is not None:
        return await _by_claim_code(conn, principal, patient_id, req.claim_code)
    if not principal.is_staff:
        raise HTTPException(
            status_code=403,
            detail=N_(
                "pair with the claim code your hub printed when it paired the device (a serial alone is not enough)"
            ),
        )
    serial = (req.serial or "").strip()
    if not serial:
        raise HTTPException(status_code=422, detail=N_("serial must not be blank"))
    found = await bindings.find_device(conn, serial=serial)
    if found:
        return found[0]
    if req.kind is None:
        raise HTTPException(
            status_code=404,
            detail=Msg(
                "device {serial} has not sent readings yet: give its kind (glucose_meter or bp_cuff) to pair it in advance",
                serial=serial,
            ),
        )
    req.serial = serial
    return None


async def _by_claim_code(conn: psycopg.AsyncConnection, principal: Principal, patient_id: int, typed: str) -> Device:
    """The device whose registered claim code was typed; throttled and audited per user."""
    code = normalise_claim_code(typed)
    if code is None:
        raise HTTPException(status_code=422, detail=N_("a claim code has 12 letters or digits, e.g. 7K2M-Q9XD-4HPA"))
    if await claim_store.recent_failures(conn, principal.user_id) >= claim_store.MAX_FAILED_ATTEMPTS:
        raise HTTPException(
            status_code=429,
            detail=N_("too many wrong claim codes: try again in 15 minutes"),
            headers={"Retry-After": str(int(claim_store.ATTEMPT_WINDOW.total_seconds()))},
        )
    claim = await claim_store.find(conn, bytes.fromhex(claim_hash(code)))
    await claim_store.record_attempt(conn, principal.user_id, succeeded=claim is not None)
    if claim is None:
        await audit_store.record(
            conn,
            actor=principal.username,
            actor_id=principal.user_id,
            role=principal.role,
            action="pair:claim_code_refused",
            patient_id=patient_id,
            source=None,
            detail={"code_prefix": code[:4]},
        )
        await conn.commit()  # the failed attempt counts even though the request fails
        raise HTTPException(
            status_code=404,
            detail=N_("no device with this claim code: check the code, or let the hub connect to the server first"),
        )
    found = await bindings.find_device(conn, serial=claim.serial)
    assert found, "a registered claim always has its device row (store.claims.register)"
    return found[0]


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value
