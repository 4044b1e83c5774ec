"""FHIR R4 export of the patient record: Patient, RelatedPerson (caregivers), Consent (the whole history),
CommunicationRequest (planned touchpoints) and Communication (messages sent and received)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from vitalgate.api import fhir, fhir_communication, fhir_record
from vitalgate.api.deps import Conn, CurrentUser, ScopedPatient, audit, state
from vitalgate.api.routes_fhir import FhirJSONResponse
from vitalgate.api.schemas import ErrorOut
from vitalgate.store import caregivers as caregiver_store
from vitalgate.store import consent, time_zones
from vitalgate.store import messages as message_store
from vitalgate.store import patient_record as record_store
from vitalgate.store import touchpoints as tp_store
from vitalgate.store.rows import Patient

router = APIRouter(tags=["fhir"], responses={401: {"model": ErrorOut}, 404: {"model": ErrorOut}})


def _base(request: Request) -> str:
    """From Settings.public_base_url, never the Host header (see routes_fhir)."""
    return state(request).public_url + "/fhir"


def _self(request: Request) -> str:
    query = f"?{request.url.query}" if request.url.query else ""
    return f"{state(request).public_url}{request.url.path}{query}"


async def _patient_resource(conn: Conn, patient: Patient) -> dict[str, Any]:
    record = await record_store.get_record(conn, patient.id)
    assert record is not None  # ScopedPatient found it
    clock = await time_zones.patient_clock(conn, record.id)
    return fhir_record.patient(record, care_team=patient.care_team, time_zone=clock.zone_name if clock else None)


@router.get("/fhir/Patient/{patient_id}", response_class=FhirJSONResponse)
async def fhir_patient(
    patient: ScopedPatient, request: Request, conn: Conn, principal: CurrentUser
) -> FhirJSONResponse:
    """The patient as a FHIR Patient (language in communication; glucose unit, zone, stage as extensions)."""
    body = await _patient_resource(conn, patient)
    await audit(conn, principal, request, "export:fhir", patient.id, {"resource": "Patient"})
    return FhirJSONResponse(body)


@router.get("/fhir/Patient/{patient_id}/RelatedPerson", response_class=FhirJSONResponse)
async def fhir_related(
    patient: ScopedPatient, request: Request, conn: Conn, principal: CurrentUser
) -> FhirJSONResponse:
    """The patient's caregivers as a searchset Bundle of RelatedPerson."""
    resources = [fhir_record.related_person(c) for c in await caregiver_store.of_patient(conn, patient.id)]
    await audit(
        conn, principal, request, "export:fhir", patient.id, {"resource": "RelatedPerson", "count": len(resources)}
    )
    return FhirJSONResponse(fhir.searchset(_base(request), _self(request), resources, "RelatedPerson"))


@router.get("/fhir/Patient/{patient_id}/Consent", response_class=FhirJSONResponse)
async def fhir_consent(
    patient: ScopedPatient, request: Request, conn: Conn, principal: CurrentUser
) -> FhirJSONResponse:
    """Every consent decision as a Consent (the one in force `active`, superseded ones `inactive`)."""
    resources = fhir_record.consents(await consent.history(conn, patient.id))
    await audit(conn, principal, request, "export:fhir", patient.id, {"resource": "Consent", "count": len(resources)})
    return FhirJSONResponse(fhir.searchset(_base(request), _self(request), resources, "Consent"))


async def _requests(conn: Conn, patient_id: int) -> list[dict[str, Any]]:
    return [
        fhir_communication.communication_request(tp, patient_id) for tp in await tp_store.of_patient(conn, patient_id)
    ]


async def _communications(conn: Conn, patient_id: int) -> list[dict[str, Any]]:
    sent = [
        fhir_communication.delivery_communication(d, patient_id)
        for d in await message_store.patient_deliveries(conn, patient_id)
    ]
    talk = await message_store.conversation(conn, patient_id=patient_id, everyone=True, limit=10_000)
    return sent + [fhir_communication.message_communication(m, patient_id) for m in talk]


@router.get("/fhir/Patient/{patient_id}/CommunicationRequest", response_class=FhirJSONResponse)
async def fhir_communication_requests(
    patient: ScopedPatient, request: Request, conn: Conn, principal: CurrentUser
) -> FhirJSONResponse:
    """The planned touchpoints (escalation and SOP steps) as CommunicationRequest: active, completed or revoked."""
    resources = await _requests(conn, patient.id)
    await audit(
        conn,
        principal,
        request,
        "export:fhir",
        patient.id,
        {"resource": "CommunicationRequest", "count": len(resources)},
    )
    return FhirJSONResponse(fhir.searchset(_base(request), _self(request), resources, "CommunicationRequest"))


@router.get("/fhir/Patient/{patient_id}/Communication", response_class=FhirJSONResponse)
async def fhir_communications(
    patient: ScopedPatient, request: Request, conn: Conn, principal: CurrentUser
) -> FhirJSONResponse:
    """Messages sent (the delivery ledger) and the conversation (received replies, care-team messages)."""
    resources = await _communications(conn, patient.id)
    await audit(
        conn, principal, request, "export:fhir", patient.id, {"resource": "Communication", "count": len(resources)}
    )
    return FhirJSONResponse(fhir.searchset(_base(request), _self(request), resources, "Communication"))


@router.get("/fhir/Patient/{patient_id}/$record", response_class=FhirJSONResponse)
async def fhir_record_bundle(
    patient: ScopedPatient, request: Request, conn: Conn, principal: CurrentUser
) -> FhirJSONResponse:
    """Patient + RelatedPerson + Consent as one collection Bundle (what `import-patients` reads back)."""
    resources = [await _patient_resource(conn, patient)]
    resources += [fhir_record.related_person(c) for c in await caregiver_store.of_patient(conn, patient.id)]
    resources += fhir_record.consents(await consent.history(conn, patient.id))
    resources += await _requests(conn, patient.id)
    resources += await _communications(conn, patient.id)
    await audit(conn, principal, request, "export:fhir", patient.id, {"resource": "Bundle", "count": len(resources)})
    return FhirJSONResponse(fhir_record.collection(_base(request), resources))
