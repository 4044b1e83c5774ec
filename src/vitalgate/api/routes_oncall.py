"""The on-call roster per care team (who is on duty when, in the team's zone) and staff alert channels."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, Request

from vitalgate.api.auth import Principal
from vitalgate.api.deps import Conn, StaffUser, audit
from vitalgate.api.schemas import ErrorOut
from vitalgate.api.triage_schemas import AlertChannelIn, OnCallOut, RosterOut, ShiftIn
from vitalgate.domain import Role
from vitalgate.notify.oncall.roster import on_call
from vitalgate.store import oncall as oncall_store
from vitalgate.store import time_zones

router = APIRouter(tags=["on-call"], responses={401: {"model": ErrorOut}, 403: {"model": ErrorOut}})
TeamId = Annotated[int, Path(ge=1, le=2**63 - 1, description="care team id")]
ROSTER_EDITORS = (Role.COORDINATOR, Role.ADMIN)


def _team(principal: Principal, team_id: int) -> None:
    if team_id not in principal.team_ids:
        raise HTTPException(status_code=404, detail=f"care team {team_id} not found")


async def _roster(conn: Conn, team_id: int) -> RosterOut:
    shifts = await oncall_store.shifts(conn, team_id)
    return RosterOut(
        care_team_id=team_id,
        time_zone=await time_zones.team_time_zone(conn, team_id) or "UTC",
        shifts=[ShiftIn(user_id=s.user_id, weekday=s.weekday, starts_at=s.starts_at, ends_at=s.ends_at, rank=s.rank)
                for s in shifts],
    )  # fmt: skip


@router.get("/care-teams/{team_id}/roster", response_model=RosterOut, responses={404: {"model": ErrorOut}})
async def get_roster(team_id: TeamId, conn: Conn, principal: StaffUser) -> RosterOut:
    """The team's weekly on-call shifts, in its own zone."""
    _team(principal, team_id)
    return await _roster(conn, team_id)


@router.put("/care-teams/{team_id}/roster", response_model=RosterOut, responses={404: {"model": ErrorOut}})
async def put_roster(
    team_id: TeamId, shifts: list[ShiftIn], request: Request, conn: Conn, principal: StaffUser
) -> RosterOut:
    """Replace the whole roster (coordinators). Every person must be staff of the team."""
    _team(principal, team_id)
    if principal.role not in ROSTER_EDITORS:
        raise HTTPException(status_code=403, detail="only coordinators edit the on-call roster")
    if len(shifts) > 500:
        raise HTTPException(status_code=422, detail="at most 500 shifts")
    members = {s.id for s in await oncall_store.team_staff(conn, team_id)}
    strangers = sorted({s.user_id for s in shifts} - members)
    if strangers:
        raise HTTPException(status_code=422, detail=f"not staff of team {team_id}: {strangers}")
    await oncall_store.replace_shifts(
        conn, team_id, [(s.user_id, s.weekday, s.starts_at, s.ends_at, s.rank) for s in shifts]
    )
    await audit(
        conn, principal, request, "change:on_call_roster", None, {"care_team_id": team_id, "shifts": len(shifts)}
    )
    return await _roster(conn, team_id)


@router.get("/care-teams/{team_id}/on-call", response_model=list[OnCallOut], responses={404: {"model": ErrorOut}})
async def get_on_call(
    team_id: TeamId,
    conn: Conn,
    principal: StaffUser,
    at: Annotated[datetime | None, Query(description="instant (default: now)")] = None,
) -> list[OnCallOut]:
    """Who is on call at an instant, in the order they are alerted."""
    _team(principal, team_id)
    instant = at if at is not None and at.tzinfo else (at or datetime.now(UTC)).replace(tzinfo=UTC)
    return [
        OnCallOut(user_id=p.id, display_name=p.display_name, role=p.role,
                  reachable=bool(p.alert_medium and p.alert_address))
        for p in await on_call(conn, team_id, instant)
    ]  # fmt: skip


@router.put("/users/me/alert-channel", response_model=AlertChannelIn)
async def put_alert_channel(body: AlertChannelIn, request: Request, conn: Conn, principal: StaffUser) -> AlertChannelIn:
    """Where urgent-task alerts reach me: SMS, e-mail or app, and the address (null medium: none)."""
    if (body.medium is None) != (body.address is None or not body.address.strip()):
        raise HTTPException(status_code=422, detail="give both a medium and an address, or neither")
    address = body.address.strip() if body.address else None
    await oncall_store.set_alert_channel(conn, principal.user_id, medium=body.medium, address=address)
    await audit(conn, principal, request, "change:alert_channel", None, {"medium": body.medium})
    return AlertChannelIn(medium=body.medium, address=address)
