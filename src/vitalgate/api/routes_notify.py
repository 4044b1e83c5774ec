"""The delivery ledger over HTTP: signed provider receipts, the dead-letter list, call-task outcomes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Path, Request
from pydantic import BaseModel, Field

from vitalgate.api.deps import Conn, StaffUser, audit, audit_list
from vitalgate.api.schemas import ErrorOut
from vitalgate.domain import CallOutcome, DeliveryStatus, Medium, RecipientKind
from vitalgate.notify.config import NotifyConfig, load
from vitalgate.notify.signing import SIGNATURE_HEADER, SignatureError, verify
from vitalgate.store import deliveries
from vitalgate.store.deliveries import DeliveryRow, Receipt

router = APIRouter(tags=["notify"], responses={401: {"model": ErrorOut}, 403: {"model": ErrorOut}})
DeliveryId = Annotated[int, Path(ge=1, le=2**63 - 1, description="delivery id")]


def notify_config(request: Request) -> NotifyConfig:
    """The [notify] configuration, read once per app ($VITALGATE_NOTIFY_CONFIG)."""
    config = getattr(request.app.state, "notify_config", None)
    if config is None:
        config = request.app.state.notify_config = load()
    return config


class ReceiptIn(BaseModel):
    """A provider's delivery report. Name the message by delivery_id, message_id or idempotency_key."""

    status: Literal["sent", "delivered", "failed", "undelivered"]
    delivery_id: int | None = Field(default=None, ge=1, le=2**63 - 1)
    message_id: str | None = Field(default=None, max_length=200)
    idempotency_key: str | None = Field(default=None, max_length=300)
    event_id: str | None = Field(default=None, max_length=200, description="the provider's id of this report")
    error: str | None = Field(default=None, max_length=500)


class ReceiptOut(BaseModel):
    applied: bool = Field(description="false: this report was seen before (nothing changed)")
    delivery_id: int | None
    status: DeliveryStatus | None


class DeliveryOut(BaseModel):
    id: int
    patient_id: int | None
    recipient_kind: RecipientKind
    recipient_id: int
    channel: str
    medium: Medium
    template: str
    status: DeliveryStatus
    attempts: int
    last_error: str | None
    status_reason: str | None
    task_id: int | None
    created_at: datetime
    updated_at: datetime
    call_outcome: CallOutcome | None = None
    call_notes: str | None = None


def _out(row: DeliveryRow) -> DeliveryOut:
    return DeliveryOut.model_validate(row, from_attributes=True)


@router.post("/notify/receipts", response_model=ReceiptOut, responses={404: {"model": ErrorOut}})
async def receipt(request: Request, conn: Conn) -> ReceiptOut:
    """A signed delivery report (X-VitalGate-Signature over the raw body, replay window); applied once."""
    config = notify_config(request)
    if config.receipt_secret is None:
        raise HTTPException(status_code=503, detail="receipts are not configured (notify.receipt_secret)")
    raw = await request.body()
    try:
        verify(
            config.receipt_secret.get_secret_value(),
            request.headers.get(SIGNATURE_HEADER),
            raw,
            datetime.now(UTC),
            window_s=config.replay_window_s,
        )
    except SignatureError as exc:
        raise HTTPException(status_code=401, detail=str(exc)) from exc
    body = ReceiptIn.model_validate_json(raw)
    named = body.delivery_id or body.message_id or body.idempotency_key
    if named is None:
        raise HTTPException(status_code=422, detail="name the message: delivery_id, message_id or idempotency_key")
    row = await deliveries.apply_receipt(
        conn,
        Receipt(
            receipt_key=body.event_id or f"{named}:{body.status}",
            status=DeliveryStatus(body.status),
            received_at=datetime.now(UTC),
            delivery_id=body.delivery_id,
            provider_message_id=body.message_id,
            idempotency_key=body.idempotency_key,
            detail={"error": body.error} if body.error else {},
        ),
    )
    await conn.commit()
    if row is None:
        if await _names_nothing(conn, body):
            raise HTTPException(status_code=404, detail="no such message")
        return ReceiptOut(applied=False, delivery_id=None, status=None)
    return ReceiptOut(applied=True, delivery_id=row.id, status=row.status)


async def _names_nothing(conn: Conn, body: ReceiptIn) -> bool:
    if body.delivery_id is not None:
        return await deliveries.get(conn, body.delivery_id) is None
    if body.idempotency_key is not None:
        return await deliveries.by_key(conn, body.idempotency_key) is None
    return False  # a provider message id we never recorded: answered as seen, nothing to change


@router.get("/notify/dead-letters", response_model=list[DeliveryOut])
async def dead_letters(request: Request, conn: Conn, principal: StaffUser) -> list[DeliveryOut]:
    """Messages to the staff's teams' patients that failed every attempt or could not be sent (newest first)."""
    rows = await deliveries.dead_letters(conn, care_team_ids=principal.team_ids)
    await audit_list(
        conn, principal, request, "read:dead_letters", sorted({r.patient_id for r in rows if r.patient_id})
    )
    return [_out(r) for r in rows]


async def _visible(conn: Conn, principal: StaffUser, delivery_id: int) -> DeliveryRow:
    row = await deliveries.get(conn, delivery_id)
    if row is not None and row.patient_id is not None:
        seen = await deliveries.listed(conn, patient_id=row.patient_id, care_team_ids=principal.team_ids, limit=1)
        if seen:
            return row
    raise HTTPException(status_code=404, detail=f"delivery {delivery_id} not found")


@router.post(
    "/notify/dead-letters/{delivery_id}/requeue", response_model=DeliveryOut, responses={409: {"model": ErrorOut}}
)
async def requeue(delivery_id: DeliveryId, request: Request, conn: Conn, principal: StaffUser) -> DeliveryOut:
    """Send a dead letter again (after the address or the channel was fixed): three fresh attempts."""
    row = await _visible(conn, principal, delivery_id)
    if not await deliveries.requeue(conn, delivery_id, now=datetime.now(UTC), by=principal.username):
        raise HTTPException(status_code=409, detail="only a dead letter can be sent again")
    await audit(conn, principal, request, "change:delivery_requeue", row.patient_id, {"delivery_id": delivery_id})
    await conn.commit()
    again = await deliveries.get(conn, delivery_id)
    assert again is not None
    return _out(again)


class CallOutcomeIn(BaseModel):
    outcome: CallOutcome
    notes: str | None = Field(default=None, max_length=2000)


@router.post("/notify/calls/{delivery_id}/outcome", response_model=DeliveryOut, responses={409: {"model": ErrorOut}})
async def call_outcome(
    delivery_id: DeliveryId, body: CallOutcomeIn, request: Request, conn: Conn, principal: StaffUser
) -> DeliveryOut:
    """Record a call task's outcome: reached, no answer, wrong number or voicemail, with notes."""
    await _visible(conn, principal, delivery_id)
    row = await deliveries.record_call_outcome(
        conn, delivery_id, body.outcome, notes=body.notes, by=principal.username, now=datetime.now(UTC)
    )
    if row is None:
        raise HTTPException(status_code=409, detail="not an open call task")
    await audit(conn, principal, request, "change:call_outcome", row.patient_id, {"delivery_id": delivery_id})
    await conn.commit()
    return _out(row)
