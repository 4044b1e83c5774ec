"""Two-way messages over HTTP: the inbound SMS webhook (signed) and the staff conversation with a patient."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request
from pydantic import BaseModel, Field

from vitalgate.api.deps import Conn, StaffUser, audit, state, visible_patient
from vitalgate.api.routes_patients import PatientId
from vitalgate.api.schemas import ErrorOut
from vitalgate.notify import conversation, inbound
from vitalgate.notify.inbound import InboundSms
from vitalgate.notify.signing import SIGNATURE_HEADER, SignatureError, verify
from vitalgate.store import messages as message_store

router = APIRouter(tags=["messages"], responses={401: {"model": ErrorOut}, 403: {"model": ErrorOut}})


class InboundSmsIn(BaseModel):
    """Provider-agnostic fields of a received SMS (a gateway adapter maps its provider's names onto these)."""

    provider: str = Field(min_length=1, max_length=64, description="the gateway's name, e.g. twilio, aliyun")
    message_id: str = Field(min_length=1, max_length=200, description="the provider's id: a retry repeats it")
    from_number: str = Field(alias="from", min_length=3, max_length=40)
    to_number: str | None = Field(default=None, alias="to", max_length=40)
    text: str = Field(max_length=2000)
    received_at: datetime | None = Field(default=None, description="when the provider received it (default: now)")


class InboundSmsOut(BaseModel):
    message_id: int | None = Field(description="None: a repeat of a message already received")
    matched: bool
    keyword: str | None
    effect: str | None
    duplicate: bool


@router.post(
    "/webhooks/sms/inbound",
    response_model=InboundSmsOut,
    responses={400: {"model": ErrorOut}, 404: {"model": ErrorOut}},
    tags=["webhooks"],
)
async def sms_inbound(request: Request, conn: Conn) -> InboundSmsOut:
    """An SMS a patient or caregiver sent; signed `X-VitalGate-Signature: t=<unix>,v1=<HMAC-SHA256 of "t.body">`."""
    api = state(request)
    if api.sms_inbound_secret is None:
        raise HTTPException(status_code=404, detail="inbound SMS is not configured")
    body = await request.body()
    now = api.clock()
    try:
        verify(api.sms_inbound_secret, request.headers.get(SIGNATURE_HEADER), body, now)
    except SignatureError as exc:
        raise HTTPException(status_code=401, detail=f"bad signature: {exc}") from exc
    sms = InboundSmsIn.model_validate_json(body)
    async with conn.transaction():
        result = await inbound.receive_sms(
            conn,
            InboundSms(sms.provider, sms.message_id, sms.from_number, sms.text, sms.received_at or now, sms.to_number),
            now=now,
        )
    return InboundSmsOut(
        message_id=result.message_id,
        matched=result.patient_id is not None,
        keyword=result.keyword,
        effect=result.effect,
        duplicate=result.message_id is None,
    )


class MessageOut(BaseModel):
    id: int
    direction: str
    medium: str
    body: str
    author: str | None
    caregiver_id: int | None
    task_id: int | None
    keyword: str | None
    effect: str | None
    created_at: datetime


class StaffMessageIn(BaseModel):
    body: str | None = Field(default=None, max_length=2000)
    script_id: int | None = Field(default=None, ge=1, description="a reply script, rendered in the patient's language")
    task_id: int | None = Field(default=None, ge=1)


@router.get("/patients/{patient_id}/messages", response_model=list[MessageOut])
async def patient_messages(
    patient_id: PatientId,
    request: Request,
    conn: Conn,
    principal: StaffUser,
    task_id: Annotated[int | None, Query(ge=1)] = None,
) -> list[MessageOut]:
    """The conversation with a patient and their caregivers (or one task's part of it), oldest first."""
    await visible_patient(conn, principal, patient_id)
    rows = await message_store.conversation(conn, patient_id=patient_id, task_id=task_id, everyone=True)
    await audit(conn, principal, request, "read:messages", patient_id, {"count": len(rows), "task_id": task_id})
    return [MessageOut.model_validate(r, from_attributes=True) for r in rows]


@router.post(
    "/patients/{patient_id}/messages", response_model=MessageOut, status_code=201, responses={404: {"model": ErrorOut}}
)
async def send_patient_message(
    patient_id: PatientId, body: StaffMessageIn, request: Request, conn: Conn, principal: StaffUser
) -> MessageOut:
    """Write to the patient (typed text or a reply script); they are notified with a link to their inbox."""
    await visible_patient(conn, principal, patient_id)
    if not body.body and body.script_id is None:
        raise HTTPException(status_code=422, detail="send a body or a script_id")
    try:
        async with conn.transaction():
            sent = await conversation.staff_message(
                conn,
                patient_id=patient_id,
                author_user_id=principal.user_id,
                now=state(request).clock(),
                body=body.body,
                script_id=body.script_id,
                task_id=body.task_id,
            )
    except conversation.ScriptNotFound as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from exc
    except conversation.EmptyMessage as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from exc
    await audit(conn, principal, request, "change:message", patient_id, {"message_id": sent.message_id})
    rows = await message_store.conversation(conn, patient_id=patient_id, everyone=True)
    return MessageOut.model_validate(next(r for r in rows if r.id == sent.message_id), from_attributes=True)


@router.get("/messages/held", response_model=list[MessageOut], tags=["review queue"])
async def held_messages(request: Request, conn: Conn, principal: StaffUser) -> list[MessageOut]:
    """Inbound SMS that matched no patient or caregiver (or several): the review queue's messages."""
    rows = await message_store.held(conn)
    await audit(conn, principal, request, "read:held_messages", None, {"count": len(rows)})
    return [MessageOut.model_validate(r, from_attributes=True) for r in rows]
