"""The reply-script library (话术库): list, edit (coordinators), render for a patient with usage counted."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, Request

from vitalgate.api.auth import Principal
from vitalgate.api.deps import Conn, StaffUser, audit, visible_patient
from vitalgate.api.schemas import ErrorOut
from vitalgate.api.triage_schemas import ScriptCategory, ScriptIn, ScriptOut, ScriptUseIn, ScriptUseOut
from vitalgate.domain import Role
from vitalgate.notify.triage.scripts import placeholders, render
from vitalgate.store import reply_scripts as script_store
from vitalgate.store.recipients import patient_language
from vitalgate.store.reply_scripts import ScriptFields
from vitalgate.store.triage_rows import ReplyScript

router = APIRouter(tags=["scripts"], responses={401: {"model": ErrorOut}, 403: {"model": ErrorOut}})
ScriptId = Annotated[int, Path(ge=1, le=2**63 - 1, description="script id")]
EDITORS = (Role.COORDINATOR, Role.ADMIN)


def out(script: ReplyScript) -> ScriptOut:
    used = sorted(set(placeholders(script.body_en)) | set(placeholders(script.body_zh)))
    return ScriptOut.model_validate({**asdict(script), "placeholders": used})


def _fields(body: ScriptIn) -> ScriptFields:
    return ScriptFields(
        body.key, body.category, body.title_en, body.title_zh, body.body_en, body.body_zh,
        [k.strip() for k in body.keywords if k.strip()], body.active,
    )  # fmt: skip


def _editor(principal: Principal) -> None:
    if principal.role not in EDITORS:
        raise HTTPException(status_code=403, detail="only coordinators edit the script library")


@router.get("/scripts", response_model=list[ScriptOut])
async def list_scripts(
    conn: Conn,
    principal: StaffUser,
    category: Annotated[ScriptCategory | None, Query()] = None,
    include_inactive: bool = False,
) -> list[ScriptOut]:
    """Scripts by category, most used first."""
    return [out(s) for s in await script_store.listed(conn, category=category, include_inactive=include_inactive)]


@router.post("/scripts", response_model=ScriptOut, status_code=201, responses={409: {"model": ErrorOut}})
async def create_script(body: ScriptIn, request: Request, conn: Conn, principal: StaffUser) -> ScriptOut:
    _editor(principal)
    script_id = await script_store.create(conn, _fields(body), by=principal.user_id, now=datetime.now(UTC))
    if script_id is None:
        raise HTTPException(status_code=409, detail=f"a script with key {body.key!r} exists")
    await audit(conn, principal, request, "change:reply_script", None, {"script_id": script_id, "key": body.key})
    script = await script_store.get(conn, script_id)
    assert script is not None
    return out(script)


@router.put("/scripts/{script_id}", response_model=ScriptOut, responses={404: {"model": ErrorOut}})
async def update_script(
    script_id: ScriptId, body: ScriptIn, request: Request, conn: Conn, principal: StaffUser
) -> ScriptOut:
    _editor(principal)
    if not await script_store.update(conn, script_id, _fields(body), by=principal.user_id, now=datetime.now(UTC)):
        raise HTTPException(status_code=404, detail=f"script {script_id} not found")
    await audit(conn, principal, request, "change:reply_script", None, {"script_id": script_id, "key": body.key})
    script = await script_store.get(conn, script_id)
    assert script is not None
    return out(script)


@router.post("/scripts/{script_id}/use", response_model=ScriptUseOut, responses={404: {"model": ErrorOut}})
async def use_script(
    script_id: ScriptId, body: ScriptUseIn, request: Request, conn: Conn, principal: StaffUser
) -> ScriptUseOut:
    """The script's text for one reply (placeholders filled for the patient), counted as one use."""
    script = await script_store.get(conn, script_id)
    if script is None or not script.active:
        raise HTTPException(status_code=404, detail=f"script {script_id} not found")
    values = {"staff": principal.display_name}
    locale: str | None = body.locale
    if body.patient_id is not None:
        patient = await visible_patient(conn, principal, body.patient_id)
        values |= {"name": patient.display_name, "team": patient.care_team}
        locale = locale or await patient_language(conn, patient.id)
    locale = locale or "en"
    count = await script_store.count_use(conn, script_id)
    await audit(
        conn, principal, request, "read:patient" if body.patient_id else "use:reply_script", body.patient_id,
        {"script_id": script_id, "purpose": "reply_script"},
    )  # fmt: skip
    return ScriptUseOut(script_id=script_id, locale=locale, text=render(script, locale, values), usage_count=count or 0)
