"""Devices: a patient's bound devices, pairing, and devices whose readings nobody owns yet."""

from __future__ import annotations

from fastapi import APIRouter, Request

from vitalgate.api import pairing
from vitalgate.api.deps import Conn, CurrentUser, StaffUser, audit, visible_patient
from vitalgate.api.routes_patients import PatientId
from vitalgate.api.schemas import BindingOut, BindRequest, DeviceOut, ErrorOut, UnboundDeviceOut
from vitalgate.store import bindings
from vitalgate.store import readings as reading_store

router = APIRouter(tags=["devices"], responses={401: {"model": ErrorOut}})


@router.get("/patients/{patient_id}/devices", response_model=list[DeviceOut], responses={404: {"model": ErrorOut}})
async def get_devices(patient_id: PatientId, request: Request, conn: Conn, principal: CurrentUser) -> list[DeviceOut]:
    """The patient's device bindings, current ones first."""
    await visible_patient(conn, principal, patient_id)
    rows = await bindings.patient_devices(conn, patient_id)
    await audit(conn, principal, request, "read:devices", patient_id)
    return [DeviceOut(**r) for r in rows]


@router.post(
    "/patients/{patient_id}/devices",
    response_model=BindingOut,
    status_code=201,
    responses={403: {"model": ErrorOut}, 404: {"model": ErrorOut}, 409: {"model": ErrorOut}},
)
async def bind_device(
    patient_id: PatientId, body: BindRequest, request: Request, conn: Conn, principal: CurrentUser
) -> BindingOut:
    """Pair a device by serial or claim code from now on; re-binding closes the device's old binding."""
    patient = await visible_patient(conn, principal, patient_id)
    try:
        result = await pairing.pair(conn, principal, patient, body)
    except BaseException:
        await conn.rollback()
        raise
    await audit(conn, principal, request, "change:bind_device", patient_id, {"serial": result["serial"]})
    return BindingOut(**result)


@router.get("/devices/unbound", response_model=list[UnboundDeviceOut], responses={403: {"model": ErrorOut}})
async def get_unbound(request: Request, conn: Conn, principal: StaffUser) -> list[UnboundDeviceOut]:
    """Devices whose readings are not filed to any patient (pair them to file the readings)."""
    return [unbound_out(r) for r in await reading_store.unbound_devices(conn)]


def unbound_out(row: dict) -> UnboundDeviceOut:
    """store.readings.unbound_devices row → API model."""
    return UnboundDeviceOut(
        serial=row["serial"],
        kind=row["kind"],
        model=row["model"],
        manufacturer=row["manufacturer"],
        unassigned_readings=row["readings"],
        first_measured_at=row["first_measured_at"],
        last_measured_at=row["last_measured_at"],
        gateway_id=row["last_gateway_id"],
    )
