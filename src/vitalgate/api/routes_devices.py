"""Devices: a patient's bound devices, pairing, and devices whose readings nobody owns yet."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Request
from pydantic import BaseModel, Field

from vitalgate.api import pairing
from vitalgate.api.deps import Conn, CurrentUser, StaffUser, audit, source_of, visible_patient
from vitalgate.api.routes_patients import PatientId
from vitalgate.api.schemas import BindingOut, BindRequest, DeviceOut, ErrorOut, UnboundDeviceOut
from vitalgate.store import bindings, hub_ownership
from vitalgate.store import readings as reading_store
from vitalgate.store.rows import UnboundDevice

router = APIRouter(tags=["devices"], responses={401: {"model": ErrorOut}})


@router.get("/patients/{patient_id}/devices", response_model=list[DeviceOut], responses={404: {"model": ErrorOut}})
async def get_devices(patient_id: PatientId, request: Request, conn: Conn, principal: CurrentUser) -> list[DeviceOut]:
    """The patient's device bindings, current ones first."""
    await visible_patient(conn, principal, patient_id)
    rows = await bindings.patient_devices(conn, patient_id)
    await audit(conn, principal, request, "read:devices", patient_id)
    return [DeviceOut.model_validate(r, from_attributes=True) for r in rows]


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


def unbound_out(row: UnboundDevice) -> UnboundDeviceOut:
    """store.readings.unbound_devices row → API model."""
    return UnboundDeviceOut.model_validate(
        {
            "serial": row.serial,
            "kind": row.kind,
            "model": row.model,
            "manufacturer": row.manufacturer,
            "unassigned_readings": row.readings,
            "first_measured_at": row.first_measured_at,
            "last_measured_at": row.last_measured_at,
            "gateway_id": row.last_gateway_id,
        }
    )


class HubMoveRequest(BaseModel):
    hub_id: str = Field(
        pattern=r"^[A-Za-z0-9_.-]{1,64}$", description="the gateway id that owns the device from now on"
    )
    reason: str = Field(min_length=3, max_length=500, description="why (kept in the audit log)")


class HubMoveOut(BaseModel):
    serial: str
    from_hub: str | None
    to_hub: str


@router.post(
    "/devices/{serial}/hub",
    response_model=HubMoveOut,
    responses={403: {"model": ErrorOut}, 404: {"model": ErrorOut}, 422: {"model": ErrorOut}},
)
async def move_device_hub(
    serial: Annotated[str, Path(min_length=1, max_length=64)],
    body: HubMoveRequest,
    request: Request,
    conn: Conn,
    principal: StaffUser,
) -> HubMoveOut:
    """Give a device to another hub (its readings from any other hub are held for review); audited."""
    patient_id = await hub_ownership.bound_patient(conn, serial)
    if patient_id is not None:
        await visible_patient(conn, principal, patient_id)  # a device of another team's patient: 404
    try:
        move = await hub_ownership.move_device(
            conn,
            serial,
            body.hub_id,
            reason=body.reason,
            actor=principal.username,
            actor_id=principal.user_id,
            role=principal.role,
            source=source_of(request),
        )
    except LookupError as exc:
        await conn.rollback()
        raise HTTPException(status_code=404, detail="no device with this serial") from exc
    await conn.commit()
    return HubMoveOut(serial=move.serial, from_hub=move.from_hub, to_hub=move.to_hub)
