"""A patient's own login: created by the patient's care team, replaced only by an explicit, audited re-link.

Admins manage accounts but read no clinical data. A patient login reads the patient's record, so
an admin who could create one (knowing its password) or re-point an existing one could read any
record, and silently lock the real patient out (issue 13 item 7). Staff of the patient's team
already see the record, so letting them create it grants nobody new access.
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from vitalgate.api.deps import Conn, StaffUser, audit, visible_patient
from vitalgate.api.routes_patients import PatientId
from vitalgate.api.schemas import ErrorOut, UserOut
from vitalgate.core.passwords import hash_password
from vitalgate.store import people
from vitalgate.store import users as user_store

router = APIRouter(tags=["patients"], responses={401: {"model": ErrorOut}, 403: {"model": ErrorOut}})


class PatientLoginIn(BaseModel):
    username: str = Field(min_length=3, max_length=64, pattern=r"^[A-Za-z0-9_.@-]+$")
    display_name: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=12, max_length=256, description="at least 12 characters")
    relink: bool = Field(default=False, description="replace the patient's existing login (its sessions end)")
    reason: str | None = Field(default=None, min_length=3, max_length=500, description="required with relink")


async def current_login(conn: Conn, patient_id: int) -> int | None:
    """The user id linked to this patient record, if any."""
    return await people.login_of_patient(conn, patient_id)


@router.post(
    "/patients/{patient_id}/login",
    response_model=UserOut,
    status_code=201,
    responses={404: {"model": ErrorOut}, 409: {"model": ErrorOut}, 422: {"model": ErrorOut}},
)
async def create_patient_login(
    patient_id: PatientId, body: PatientLoginIn, request: Request, conn: Conn, principal: StaffUser
) -> UserOut:
    """Create the patient's sign-in; with an existing one, only `relink` + `reason` replace it (audited)."""
    await visible_patient(conn, principal, patient_id)
    replaced = await current_login(conn, patient_id)
    if replaced is not None and not body.relink:
        raise HTTPException(
            status_code=409,
            detail=f"patient {patient_id} already has a login; to replace it send relink=true with a reason"
            " (the old login loses access and the change is audited)",
        )
    if body.relink and not body.reason:
        raise HTTPException(status_code=422, detail="relink needs a reason")
    password_hash = await run_in_threadpool(hash_password, body.password)
    user_id = await user_store.create_user(
        conn, body.username, body.display_name, "patient", password_hash=password_hash
    )
    if replaced is not None:
        await user_store.revoke_sessions(conn, replaced)
    await people.link_patient_user(conn, patient_id, user_id)
    action = "change:relink_patient_login" if replaced is not None else "change:create_patient_login"
    detail = {"user_id": user_id, "username": body.username, "replaced_user_id": replaced, "reason": body.reason}
    await audit(conn, principal, request, action, patient_id, detail)
    rows = [r for r in await user_store.list_users(conn) if r.id == user_id]
    return UserOut.model_validate(rows[0], from_attributes=True)
