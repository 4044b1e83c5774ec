"""The review queue for staff: readings ingest held back, and the release (file) or discard of one."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, HTTPException, Path, Query, Request
from pydantic import BaseModel, Field

from vitalgate.alerts.engine import evaluate_readings
from vitalgate.api.deps import Conn, StaffUser, audit, audit_list
from vitalgate.api.schemas import ErrorOut
from vitalgate.domain import DeviceKind, MeasurementKind
from vitalgate.followup.tasks import act_on_alerts
from vitalgate.store import review_queue
from vitalgate.store.review_queue import ReviewReason, ReviewState

router = APIRouter(tags=["review queue"], responses={401: {"model": ErrorOut}, 403: {"model": ErrorOut}})
ItemId = Annotated[int, Path(ge=1, le=2**63 - 1, description="review queue item id")]


class ReviewItemOut(BaseModel):
    id: int
    reason: ReviewReason
    detail: str
    state: ReviewState
    patient_id: int | None = Field(description="whose reading it would be (None: the device is nobody's)")
    reading_id: UUID
    device_serial: str
    device_kind: DeviceKind
    gateway_id: str
    kind: MeasurementKind
    measured_at: datetime
    received_at: datetime
    glucose_mg_dl: float | None
    systolic_mmhg: float | None
    diastolic_mmhg: float | None
    pulse_bpm: float | None
    status: list[str]
    held_at: datetime
    resolved_at: datetime | None
    resolved_by: str | None
    resolution_note: str | None


class ReleaseRequest(BaseModel):
    note: str = Field(default="", max_length=500, description="why it may be filed (kept with the item)")


class DiscardRequest(BaseModel):
    note: str = Field(min_length=3, max_length=500, description="why the reading is dropped (required)")


@router.get("/review-queue", response_model=list[ReviewItemOut])
async def get_review_queue(
    request: Request,
    conn: Conn,
    principal: StaffUser,
    state: Annotated[Literal["held", "released", "discarded"], Query()] = "held",
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[ReviewItemOut]:
    """Readings held back from filing and alerting, newest first: the user's teams' patients and nobody's devices."""
    rows = await review_queue.list_items(conn, team_ids=list(principal.team_ids), state=ReviewState(state), limit=limit)
    patients = [int(r["patient_id"]) for r in rows if r["patient_id"] is not None]
    if patients:
        await audit_list(conn, principal, request, "read:review_queue", patients)
    else:
        await audit(conn, principal, request, "read:review_queue", None, {"items": len(rows)})
    return [ReviewItemOut(**r) for r in rows]


async def _visible_item(conn: Conn, principal: StaffUser, item_id: int) -> dict[str, Any]:
    rows = await review_queue.list_items(conn, team_ids=list(principal.team_ids), state=None, item_id=item_id)
    if not rows:
        raise HTTPException(status_code=404, detail=f"review item {item_id} not found")
    if rows[0]["state"] != ReviewState.HELD:
        raise HTTPException(status_code=409, detail=f"review item {item_id} is already {rows[0]['state']}")
    return rows[0]


@router.post(
    "/review-queue/{item_id}/release",
    response_model=ReviewItemOut,
    responses={404: {"model": ErrorOut}, 409: {"model": ErrorOut}},
)
async def release_item(
    item_id: ItemId, body: ReleaseRequest, request: Request, conn: Conn, principal: StaffUser
) -> ReviewItemOut:
    """File the held reading to its patient (or as unassigned when the device is nobody's) and evaluate it."""
    item = await _visible_item(conn, principal, item_id)
    async with conn.transaction():
        released = await review_queue.release(conn, item_id, by=principal.username, note=body.note)
        if released is None:
            raise HTTPException(status_code=409, detail=f"review item {item_id} was resolved meanwhile")
        if released["filed"] and item["patient_id"] is not None:
            # As with pairing: a reading filed outside ingest is evaluated here, or a filed low raises nothing.
            now = datetime.now(UTC)
            raised = await evaluate_readings(conn, [item["reading_id"]], now=now, patient_ids=[item["patient_id"]])
            await act_on_alerts(conn, raised, now=now)
    detail = {"item": item_id, "reading_id": str(item["reading_id"]), "filed": released["filed"]}
    await audit(conn, principal, request, "change:review_release", item["patient_id"], detail)
    return ReviewItemOut(**(await review_queue.list_items(conn, state=None, item_id=item_id))[0])


@router.post(
    "/review-queue/{item_id}/discard",
    response_model=ReviewItemOut,
    responses={404: {"model": ErrorOut}, 409: {"model": ErrorOut}},
)
async def discard_item(
    item_id: ItemId, body: DiscardRequest, request: Request, conn: Conn, principal: StaffUser
) -> ReviewItemOut:
    """Drop the held reading for good; the item stays in the queue as discarded, with who and why."""
    item = await _visible_item(conn, principal, item_id)
    async with conn.transaction():
        if await review_queue.discard(conn, item_id, by=principal.username, note=body.note) is None:
            raise HTTPException(status_code=409, detail=f"review item {item_id} was resolved meanwhile")
    detail = {"item": item_id, "reading_id": str(item["reading_id"])}
    await audit(conn, principal, request, "change:review_discard", item["patient_id"], detail)
    return ReviewItemOut(**(await review_queue.list_items(conn, state=None, item_id=item_id))[0])
