"""Administration: the audit trail, users and care teams (admins only)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import psycopg
from fastapi import APIRouter, HTTPException, Path, Query, Request
from starlette.concurrency import run_in_threadpool

from vitalgate.api.deps import AdminUser, Conn, audit
from vitalgate.api.routes_patient_login import current_login
from vitalgate.api.routes_patients import utc
from vitalgate.api.schemas import AuditOut, ErrorOut, MemberIn, TeamIn, TeamOut, UserIn, UserOut
from vitalgate.core.passwords import hash_password
from vitalgate.domain import Role
from vitalgate.store import audit as audit_store
from vitalgate.store import caregivers as caregiver_store
from vitalgate.store import people
from vitalgate.store import users as user_store

router = APIRouter(tags=["admin"], responses={401: {"model": ErrorOut}, 403: {"model": ErrorOut}})
BigId = Annotated[int, Query(ge=1, le=2**63 - 1)]


@router.get("/audit", response_model=list[AuditOut])
async def get_audit(
    conn: Conn,
    principal: AdminUser,
    actor: Annotated[str | None, Query(max_length=64, description="username")] = None,
    patient_id: BigId | None = None,
    action: Annotated[
        str | None, Query(max_length=64, description="prefix, e.g. 'read:' or 'change:bind_device'")
    ] = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 200,
) -> list[AuditOut]:
    """Who read or changed which patient's data, when and from where; newest first."""
    rows = await audit_store.search(
        conn, actor=actor, patient_id=patient_id, action=action, since=utc(since), until=utc(until), limit=limit
    )
    return [AuditOut(**r) for r in rows]


@router.get("/admin/users", response_model=list[UserOut])
async def list_users(conn: Conn, principal: AdminUser) -> list[UserOut]:
    """All users and their care teams."""
    return [UserOut.model_validate(r, from_attributes=True) for r in await user_store.list_users(conn)]


@router.post(
    "/admin/users",
    response_model=UserOut,
    status_code=201,
    responses={409: {"model": ErrorOut}, 422: {"model": ErrorOut}},
)
async def create_user(body: UserIn, request: Request, conn: Conn, principal: AdminUser) -> UserOut:
    """Create a staff, admin or caregiver user; staff join `care_team_id`.

    Patient logins are created by the patient's care team (`POST /patients/{id}/login`): an admin
    who set a patient login's password could sign in as that patient and read the record.
    """
    if body.role == "patient":
        raise HTTPException(
            status_code=403,
            detail="admins do not create patient logins: the patient's care team does (POST /patients/{id}/login)",
        )
    password_hash = await run_in_threadpool(hash_password, body.password)
    try:
        user_id = await create_user_record(
            conn,
            body.username,
            body.display_name,
            body.role,
            password_hash,
            care_team_id=body.care_team_id,
            patient_id=body.patient_id,
            caregiver_id=body.caregiver_id,
        )
    except LookupError as exc:
        await conn.rollback()
        raise HTTPException(status_code=422, detail=str(exc)) from exc
    await audit(
        conn, principal, request, "change:create_user", body.patient_id, {"username": body.username, "role": body.role}
    )
    rows = [r for r in await user_store.list_users(conn) if r.id == user_id]
    return UserOut.model_validate(rows[0], from_attributes=True)


async def create_user_record(
    conn: psycopg.AsyncConnection,
    username: str,
    display_name: str,
    role: str,
    password_hash: str,
    *,
    care_team_id: int | None,
    patient_id: int | None,
    caregiver_id: int | None = None,
) -> int:
    """Create the user row and its team membership, patient link or caregiver link (shared with the CLI)."""
    if (role == Role.CAREGIVER) != (caregiver_id is not None):
        raise LookupError("a caregiver user needs caregiver_id, and only a caregiver user has one")
    if caregiver_id is not None and (patient_id is not None or care_team_id is not None):
        raise LookupError("a caregiver user has neither patient_id nor care_team_id")
    if caregiver_id is not None and not await caregiver_store.exists(conn, caregiver_id):
        raise LookupError(f"caregiver {caregiver_id} not found")
    if role == "patient":
        if patient_id is None or care_team_id is not None:
            raise LookupError("a patient user needs patient_id (and no care_team_id)")
        if await people.get_patient(conn, patient_id) is None:
            raise LookupError(f"patient {patient_id} not found")
        if await current_login(conn, patient_id) is not None:
            # Re-pointing a record's login would silently lock the real patient out.
            raise LookupError(f"patient {patient_id} already has a login (replace it with POST /patients/{{id}}/login)")
    elif patient_id is not None:
        raise LookupError("only patient users have a patient_id")
    if care_team_id is not None and not any(t.id == care_team_id for t in await user_store.list_teams(conn)):
        raise LookupError(f"care team {care_team_id} not found")
    user_id = await user_store.create_user(
        conn, username, display_name, role, password_hash=password_hash, care_team_id=care_team_id
    )
    if patient_id is not None:
        await people.link_patient_user(conn, patient_id, user_id)
    if caregiver_id is not None:
        await caregiver_store.link_user(conn, caregiver_id, user_id)
    return user_id


@router.get("/admin/teams", response_model=list[TeamOut])
async def list_teams(conn: Conn, principal: AdminUser) -> list[TeamOut]:
    """Care teams with member and patient counts."""
    return [TeamOut.model_validate(r, from_attributes=True) for r in await user_store.list_teams(conn)]


@router.post("/admin/teams", response_model=TeamOut, status_code=201)
async def create_team(body: TeamIn, request: Request, conn: Conn, principal: AdminUser) -> TeamOut:
    """Create a care team (or return the one with that name)."""
    team_id = await people.create_care_team(conn, body.name)
    await audit(conn, principal, request, "change:create_team", None, {"team_id": team_id})
    return TeamOut.model_validate(
        next(t for t in await user_store.list_teams(conn) if t.id == team_id), from_attributes=True
    )


@router.post(
    "/admin/teams/{team_id}/members", status_code=204, responses={404: {"model": ErrorOut}, 422: {"model": ErrorOut}}
)
async def add_member(
    team_id: Annotated[int, Path(ge=1, le=2**63 - 1)],
    body: MemberIn,
    request: Request,
    conn: Conn,
    principal: AdminUser,
) -> None:
    """Add a staff member to a care team."""
    if not any(t.id == team_id for t in await user_store.list_teams(conn)):
        raise HTTPException(status_code=404, detail=f"care team {team_id} not found")
    user = await user_store.get_user(conn, body.user_id) if 1 <= body.user_id < 2**63 else None
    if user is None:
        raise HTTPException(status_code=422, detail=f"user {body.user_id} not found")
    if user.role in (Role.PATIENT, Role.CAREGIVER):
        raise HTTPException(status_code=422, detail="patients and caregivers are not care-team members")
    await user_store.add_member(conn, team_id, body.user_id)
    await audit(conn, principal, request, "change:add_member", None, {"team_id": team_id, "user_id": body.user_id})
