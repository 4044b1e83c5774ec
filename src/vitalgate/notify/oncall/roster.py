"""Who is on call at an instant: weekly shifts in the care team's zone, first rank first.

Shifts are kept in the team's wall-clock time (a night shift is "22:00-08:00 Monday", whatever
the UTC offset that week), so daylight-saving changes move nobody's shift.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time

import psycopg

from vitalgate.core.localtime import zone
from vitalgate.domain import Role
from vitalgate.store import oncall as oncall_store
from vitalgate.store import tasks as task_store
from vitalgate.store import time_zones
from vitalgate.store.triage_rows import OnCallShift, StaffContact


def _covers(shift: OnCallShift, weekday: int, at: time) -> bool:
    """Whether a shift covers local weekday/time; an overnight shift spills into the next day."""
    if shift.starts_at < shift.ends_at:
        return shift.weekday == weekday and shift.starts_at <= at < shift.ends_at
    next_day = shift.weekday % 7 + 1
    return (shift.weekday == weekday and at >= shift.starts_at) or (next_day == weekday and at < shift.ends_at)


def on_call_user_ids(shifts: Sequence[OnCallShift], instant: datetime, zone_name: str) -> list[int]:
    """The users on call at `instant` (UTC), by rank then shift order, each once."""
    local = instant.astimezone(zone(zone_name))
    weekday, at = local.isoweekday(), local.time().replace(tzinfo=None)
    ranked = sorted((s for s in shifts if _covers(s, weekday, at)), key=lambda s: (s.rank, s.starts_at, s.id))
    return list(dict.fromkeys(s.user_id for s in ranked))


async def on_call(
    conn: psycopg.AsyncConnection, care_team_id: int, instant: datetime, *, roles: Sequence[Role] | None = None
) -> list[StaffContact]:
    """The team's staff on call now in rank order, of the given roles.

    A team without a roster falls back to its members marked on duty (the flag the worklist uses).
    """
    staff = {s.id: s for s in await oncall_store.team_staff(conn, care_team_id)}
    wanted = {str(r) for r in roles} if roles else None
    shifts = await oncall_store.shifts(conn, care_team_id)
    if shifts:
        zone_name = await time_zones.team_time_zone(conn, care_team_id) or "UTC"
        ids = [i for i in on_call_user_ids(shifts, instant, zone_name) if i in staff]
    else:
        ids = [i for i, s in staff.items() if s.on_duty]
    return [staff[i] for i in ids if wanted is None or staff[i].role in wanted]


async def assignee_for(
    conn: psycopg.AsyncConnection, care_team_id: int, instant: datetime, role: Role, *, urgent: bool
) -> int | None:
    """Who gets a new message task. Urgent work: the first on-call person of the role, else the first
    on-call person at all (the roster's night doctor beats an off-shift nurse). Other work, or
    nobody on call: the least-loaded on-duty member of the role, else any on-duty member."""
    if urgent:
        on_call_now = await on_call(conn, care_team_id, instant)
        of_role = [p for p in on_call_now if p.role == role]
        if of_role or on_call_now:
            return (of_role or on_call_now)[0].id
    member = await task_store.least_loaded_member(conn, care_team_id, roles=[role])
    return member if member is not None else await task_store.least_loaded_member(conn, care_team_id)
