"""The patient's clock over the API: IANA zone (with history), quiet hours; a staff user's own zone."""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Annotated

from fastapi import APIRouter, HTTPException, Request
from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

from vitalgate.api.deps import Conn, CurrentUser, ScopedPatient, audit
from vitalgate.api.schemas import ErrorOut
from vitalgate.core.localtime import UnknownZoneError, check_zone, zone_label
from vitalgate.store import time_zones

router = APIRouter(tags=["local time"], responses={401: {"model": ErrorOut}, 404: {"model": ErrorOut}})

ZoneName = Annotated[str, Field(max_length=64, examples=["Asia/Shanghai"]), AfterValidator(check_zone)]


class ZoneSpanOut(BaseModel):
    time_zone: str
    valid_from: datetime | None = Field(description="null: since always")


class PatientClockOut(BaseModel):
    patient_id: int
    time_zone: str = Field(description="the zone in force now (IANA)")
    time_zone_label: str
    own_time_zone: str | None = Field(description="null: the patient follows the care team's zone")
    team_time_zone: str
    quiet_start: time
    quiet_end: time
    history: list[ZoneSpanOut]


class ZoneChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    time_zone: ZoneName | None = Field(description="null: follow the care team's zone")
    valid_from: AwareDatetime | None = Field(
        default=None, description="when the patient moved (default now); readings since then are re-labelled"
    )


class QuietHours(BaseModel):
    model_config = ConfigDict(extra="forbid")
    quiet_start: time = Field(examples=["21:00"], description="patient-local; equal to quiet_end: no quiet hours")
    quiet_end: time = Field(examples=["08:00"])


class UserZone(BaseModel):
    model_config = ConfigDict(extra="forbid")
    time_zone: ZoneName | None = Field(description="null: the care team's zone")


def _staff_only(is_staff: bool) -> None:
    if not is_staff:
        raise HTTPException(status_code=403, detail="only care-team staff change a patient's time zone or quiet hours")


async def clock_out(conn: Conn, patient_id: int) -> PatientClockOut:
    clock = await time_zones.patient_clock(conn, patient_id)
    assert clock is not None
    return PatientClockOut(
        patient_id=patient_id,
        time_zone=clock.zone_name,
        time_zone_label=zone_label(datetime.now(UTC), clock.zone_name),
        own_time_zone=clock.own_zone,
        team_time_zone=clock.team_zone,
        quiet_start=clock.quiet_start,
        quiet_end=clock.quiet_end,
        history=[ZoneSpanOut(time_zone=s.zone_name, valid_from=s.valid_from) for s in clock.history.spans],
    )


@router.get("/patients/{patient_id}/clock", response_model=PatientClockOut)
async def get_clock(patient: ScopedPatient, request: Request, conn: Conn, principal: CurrentUser) -> PatientClockOut:
    """The patient's zone (now and history) and quiet hours."""
    body = await clock_out(conn, int(patient.id))
    await audit(conn, principal, request, "read:clock", patient.id)
    return body


@router.put(
    "/patients/{patient_id}/time-zone",
    response_model=PatientClockOut,
    responses={403: {"model": ErrorOut}, 422: {"model": ErrorOut}},
)
async def set_time_zone(
    patient: ScopedPatient, body: ZoneChange, request: Request, conn: Conn, principal: CurrentUser
) -> PatientClockOut:
    """The patient lives in this zone from `valid_from` on; earlier readings keep their local times."""
    _staff_only(principal.is_staff)
    now = datetime.now(UTC)
    valid_from = body.valid_from or now
    if valid_from > now:
        raise HTTPException(status_code=422, detail="valid_from must not be in the future")
    try:
        await time_zones.set_patient_time_zone(
            conn, int(patient.id), body.time_zone, valid_from=valid_from, now=now, actor=f"user:{principal.user_id}"
        )
    except UnknownZoneError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from exc
    detail = {"time_zone": body.time_zone, "valid_from": valid_from.isoformat()}
    await audit(conn, principal, request, "change:time_zone", patient.id, detail)
    return await clock_out(conn, int(patient.id))


@router.put(
    "/patients/{patient_id}/quiet-hours",
    response_model=PatientClockOut,
    responses={403: {"model": ErrorOut}, 422: {"model": ErrorOut}},
)
async def set_quiet_hours(
    patient: ScopedPatient, body: QuietHours, request: Request, conn: Conn, principal: CurrentUser
) -> PatientClockOut:
    """Non-urgent contact waits out these patient-local hours (urgent contact never does)."""
    _staff_only(principal.is_staff)
    start, end = body.quiet_start.replace(tzinfo=None), body.quiet_end.replace(tzinfo=None)
    await time_zones.set_quiet_hours(conn, int(patient.id), start, end)
    detail = {"quiet_start": start.isoformat(), "quiet_end": end.isoformat()}
    await audit(conn, principal, request, "change:quiet_hours", patient.id, detail)
    return await clock_out(conn, int(patient.id))


@router.put("/me/time-zone", response_model=UserZone)
async def set_my_time_zone(body: UserZone, conn: Conn, principal: CurrentUser) -> UserZone:
    """The zone pages show times in for this user when it differs from the patient's (null: the team's)."""
    try:
        await time_zones.set_user_time_zone(conn, principal.user_id, body.time_zone)
    except UnknownZoneError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from exc
    return UserZone(time_zone=body.time_zone)
