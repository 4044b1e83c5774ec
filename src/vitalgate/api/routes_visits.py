"""Schedule a visit over the API: the SOP reminder chain for one visit time (as `followup schedule-visit`).

A visit time without an offset is the patient's local wall-clock time in their current zone
(core.localtime.wall_clock_or_instant: a time skipped by a DST change moves forward, a repeated
one is its first occurrence); an explicit offset or Z is taken as written.
"""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, ConfigDict, Field, field_validator

from vitalgate.api.deps import Conn, CurrentUser, ScopedPatient, audit
from vitalgate.api.schemas import ErrorOut
from vitalgate.core.localtime import wall_clock_or_instant
from vitalgate.followup.sop import schedule_sop
from vitalgate.store import time_zones

router = APIRouter(tags=["follow-up"], responses={401: {"model": ErrorOut}, 404: {"model": ErrorOut}})


class VisitIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    at: datetime = Field(
        description="visit time, ISO 8601; without an offset it is the patient's local wall-clock time"
        " (their current zone), e.g. 2026-10-06T09:00; with an offset or Z it is that instant",
        examples=["2026-10-06T09:00"],
    )
    chain: str | None = Field(default=None, max_length=64, description="SOP chain id (default: by segment)")

    @field_validator("at")
    @classmethod
    def _plausible(cls, value: datetime) -> datetime:
        # Keeps zone arithmetic away from datetime's year 1 / 9999 edges (an OverflowError is a 500).
        if not 2000 <= value.year <= 2100:
            raise ValueError("a visit between the years 2000 and 2100")
        return value


class VisitOut(BaseModel):
    sop_instance_id: int
    task_id: int
    chain_id: str
    created: bool = Field(description="false: this visit was already scheduled (idempotent)")
    at: datetime = Field(description="the visit instant (UTC)")
    time_zone: str = Field(description="the zone an offset-less time was read in")


@router.post(
    "/patients/{patient_id}/visits",
    response_model=VisitOut,
    status_code=201,
    responses={403: {"model": ErrorOut}, 422: {"model": ErrorOut}},
)
async def schedule_visit(
    patient: ScopedPatient, body: VisitIn, request: Request, conn: Conn, principal: CurrentUser
) -> VisitOut:
    """Schedule the visit reminder chain (T-1 at 10:00 local and so on) for one visit."""
    if not principal.is_staff:
        raise HTTPException(status_code=403, detail="only care-team staff schedule visits")
    zones = (await time_zones.zone_histories(conn, [patient.id]))[patient.id]
    anchor = wall_clock_or_instant(body.at, zones.current).astimezone(UTC)
    try:
        s = await schedule_sop(
            conn, patient_id=patient.id, anchor_at=anchor, now=datetime.now(UTC), chain_id=body.chain
        )
    except LookupError as exc:  # an unknown chain id (the patient exists: scoped above)
        raise HTTPException(status_code=422, detail=f"no such SOP chain: {body.chain}") from exc
    await audit(conn, principal, request, "change:visit", patient.id, {"sop_instance_id": s.instance_id})
    return VisitOut(
        sop_instance_id=s.instance_id,
        task_id=s.task_id,
        chain_id=s.chain_id,
        created=s.created,
        at=anchor,
        time_zone=zones.current,
    )
