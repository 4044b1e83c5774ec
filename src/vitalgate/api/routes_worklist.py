"""GET /worklist: the worklist at program scale — filters, search, keyset pages, true totals.

The web page (web.py) reads the same `load_worklist`, so the page and the API agree on every filter.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated

import psycopg
from fastapi import APIRouter, HTTPException, Query, Request
from pydantic import BaseModel, Field

from vitalgate.api.auth import Principal
from vitalgate.api.deps import Conn, StaffUser, audit_list
from vitalgate.api.schemas import ErrorOut, TaskOut
from vitalgate.api.worklist_view import Trigger, decode_cursor, encode_cursor, latest_text, trigger_of
from vitalgate.domain import ACTIVE_TASK_STATUSES, Role, Severity
from vitalgate.store import time_zones, worklist_context
from vitalgate.store import worklist as worklist_store
from vitalgate.store.worklist_rows import PatientContext, SeverityTotals, WorklistFilter, WorklistRow

router = APIRouter(tags=["worklist"], responses={401: {"model": ErrorOut}, 403: {"model": ErrorOut}})

PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
GAP_RULE_KIND = "missing_data"


@dataclass(frozen=True, slots=True)
class WorklistQuery:
    """The request's filters as the user gave them (assignee: 'mine', 'all', 'unassigned' or a user id)."""

    severity: tuple[Severity, ...] = ()
    assignee: str | None = None
    care_team_id: int | None = None
    rule_kind: str | None = None
    overdue: bool | None = None
    patient_responded: bool | None = None
    tag: str | None = None
    q: str | None = None
    cursor: str | None = None
    limit: int = PAGE_SIZE
    program: str | None = None
    arm: str | None = None


@dataclass(frozen=True, slots=True)
class WorklistItem:
    row: WorklistRow
    trigger: Trigger | None
    context: PatientContext


@dataclass(frozen=True, slots=True)
class WorklistPage:
    items: list[WorklistItem]
    totals: SeverityTotals
    next_cursor: str | None
    assignee: str  # the assignee filter in force ('mine' is a nurse's default)


def default_assignee(principal: Principal) -> str:
    """Nurses start on their own tasks; coordinators and doctors on the whole team's."""
    return "mine" if principal.role == Role.NURSE else "all"


def _filter(principal: Principal, query: WorklistQuery, assignee: str) -> WorklistFilter:
    teams = list(principal.team_ids)
    if query.care_team_id is not None:
        if query.care_team_id not in teams:
            raise HTTPException(status_code=404, detail=f"care team {query.care_team_id} not found")
        teams = [query.care_team_id]
    assignee_id: int | None = None
    if assignee == "mine":
        assignee_id = principal.user_id
    elif assignee not in ("all", "unassigned"):
        if not assignee.isdigit():
            raise HTTPException(status_code=422, detail="assignee is mine, all, unassigned or a user id")
        assignee_id = int(assignee)
    return WorklistFilter(
        care_team_ids=tuple(teams),
        statuses=tuple(ACTIVE_TASK_STATUSES),
        severities=tuple(query.severity),
        assignee_id=assignee_id,
        unassigned=assignee == "unassigned",
        rule_kind=query.rule_kind or None,
        overdue=query.overdue,
        patient_responded=query.patient_responded,
        tag=query.tag or None,
        search=(query.q or "").strip() or None,
        program=query.program or None,
        arm=query.arm or None,
    )


async def load_worklist(
    conn: psycopg.AsyncConnection, principal: Principal, query: WorklistQuery, *, now: datetime
) -> WorklistPage:
    """One page of the filtered worklist with its true totals and each row's context."""
    assignee = query.assignee or default_assignee(principal)
    f = _filter(principal, query, assignee)
    try:
        after = decode_cursor(query.cursor) if query.cursor else None
    except ValueError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from exc
    rows = await worklist_store.worklist_page(conn, f, now=now, after=after, limit=query.limit + 1)
    more, rows = len(rows) > query.limit, rows[: query.limit]
    totals = await worklist_store.severity_totals(conn, f, now=now)
    ids = [r.patient_id for r in rows]
    context = await worklist_context.patient_context(
        conn, ids, gap_patients=[r.patient_id for r in rows if r.rule_kind == GAP_RULE_KIND]
    )
    zones = await time_zones.zone_histories(conn, ids)
    items = [WorklistItem(r, trigger_of(r.evidence, zones.get(r.patient_id)), context[r.patient_id]) for r in rows]
    return WorklistPage(items, totals, encode_cursor(rows[-1]) if more and rows else None, assignee)


class TriggerOut(BaseModel):
    text: str = Field(description="value with unit, e.g. '48 mg/dL'")
    at: datetime | None
    local_time: str | None = Field(description="HH:MM in the patient's zone")


class WorklistItemOut(TaskOut):
    rule_id: str | None
    rule_kind: str | None
    patient_responded: bool
    trigger: TriggerOut | None
    latest_reading: str | None = Field(description="the patient's newest reading with unit")
    latest_reading_at: datetime | None
    last_contact_at: datetime | None
    last_reviewed_at: datetime | None
    data_gap_reason: str | None = Field(
        description="data-gap tasks: device_unpaired, hub_offline, hub_backlog or stopped_measuring"
    )


class WorklistPageOut(BaseModel):
    totals: dict[Severity, int] = Field(description="every matching task by severity (not this page's)")
    total: int
    overdue: int
    assignee: str
    next_cursor: str | None
    items: list[WorklistItemOut]


def item_out(item: WorklistItem) -> WorklistItemOut:
    row, ctx = item.row, item.context
    base = TaskOut.model_validate(row, from_attributes=True).model_dump()
    return WorklistItemOut(
        **base,
        rule_id=row.rule_id,
        rule_kind=row.rule_kind,
        patient_responded=row.patient_responded_at is not None,
        trigger=TriggerOut(text=item.trigger.text, at=item.trigger.at, local_time=item.trigger.local_time)
        if item.trigger
        else None,
        latest_reading=latest_text(ctx.latest),
        latest_reading_at=ctx.latest.measured_at if ctx.latest else None,
        last_contact_at=ctx.last_contact_at,
        last_reviewed_at=ctx.last_reviewed_at,
        data_gap_reason=ctx.gap_reason,
    )


@router.get("/worklist", response_model=WorklistPageOut, responses={404: {"model": ErrorOut}})
async def get_worklist(
    request: Request,
    conn: Conn,
    principal: StaffUser,
    severity: Annotated[list[Severity] | None, Query()] = None,
    assignee: Annotated[str | None, Query(max_length=20, description="mine | all | unassigned | user id")] = None,
    care_team_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    rule_kind: Annotated[str | None, Query(max_length=40)] = None,
    overdue: bool | None = None,
    patient_responded: bool | None = None,
    tag: Annotated[str | None, Query(max_length=60)] = None,
    q: Annotated[str | None, Query(max_length=100, description="patient name or external id")] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = PAGE_SIZE,
    program: Annotated[str | None, Query(max_length=60, description="care program id")] = None,
    arm: Annotated[str | None, Query(max_length=60, description="arm of the program's randomisation")] = None,
) -> WorklistPageOut:
    """Open and in-progress tasks of the user's teams, urgent first then by due time, one keyset page
    at a time (`next_cursor`), with the true totals of everything that matches."""
    query = WorklistQuery(
        tuple(severity or ()),
        assignee,
        care_team_id,
        rule_kind,
        overdue,
        patient_responded,
        tag,
        q,
        cursor,
        limit,
        program,
        arm,
    )
    page = await load_worklist(conn, principal, query, now=datetime.now(UTC))
    await audit_list(conn, principal, request, "read:worklist", [i.row.patient_id for i in page.items])
    return WorklistPageOut(
        totals=page.totals.by_severity,
        total=page.totals.total,
        overdue=page.totals.overdue,
        assignee=page.assignee,
        next_cursor=page.next_cursor,
        items=[item_out(i) for i in page.items],
    )
