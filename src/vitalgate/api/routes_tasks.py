"""The worklist and its one-click actions: acknowledge, record an outcome, advance the escalation."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Annotated, Any

import psycopg
from fastapi import APIRouter, HTTPException, Path, Query, Request

from vitalgate.api.auth import Principal
from vitalgate.api.deps import Conn, StaffUser, audit, audit_list
from vitalgate.api.schemas import ErrorOut, OutcomeRequest, TaskOut
from vitalgate.domain import ACTIVE_TASK_STATUSES, TaskStatus
from vitalgate.followup import actions
from vitalgate.i18n import Msg
from vitalgate.store import tasks as task_store

router = APIRouter(tags=["worklist"], responses={401: {"model": ErrorOut}, 403: {"model": ErrorOut}})
TaskId = Annotated[int, Path(ge=1, le=2**63 - 1, description="task id")]


@router.get("/tasks", response_model=list[TaskOut])
async def get_tasks(
    request: Request,
    conn: Conn,
    principal: StaffUser,
    status: Annotated[list[TaskStatus] | None, Query(description="default: open and in_progress")] = None,
    care_team_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
) -> list[TaskOut]:
    """The worklist of the user's care teams: urgent first, then by due time; `overdue` marks late ones."""
    teams = list(principal.team_ids)
    if care_team_id is not None:
        if care_team_id not in teams:
            raise HTTPException(status_code=404, detail=f"care team {care_team_id} not found")
        teams = [care_team_id]
    rows = await task_store.list_tasks(
        conn, care_team_ids=teams, status=list(status) if status else list(ACTIVE_TASK_STATUSES), now=datetime.now(UTC)
    )
    await audit_list(conn, principal, request, "read:worklist", [r.patient_id for r in rows])
    return [TaskOut.model_validate(r, from_attributes=True) for r in rows]


async def _act(
    conn: psycopg.AsyncConnection,
    principal: Principal,
    request: Request,
    task_id: int,
    action: str,
    change: Callable[[datetime], Awaitable[actions.TaskChange]],
    detail: dict[str, Any],
) -> TaskOut:
    """Scope check (404 outside the user's teams), the change, its audit row, then the task as it is now.

    A TaskStateError rolls the change back and goes on to api/errors.py, which answers 404 or 409."""
    task = await task_store.get_task(conn, task_id)
    if task is None or task.care_team_id not in principal.team_ids:
        raise HTTPException(status_code=404, detail=Msg("task {task_id} not found", task_id=task_id))
    now = datetime.now(UTC)
    try:
        await change(now)
    except actions.TaskStateError:
        await conn.rollback()
        raise
    await audit(conn, principal, request, action, int(task.patient_id), {"task_id": task_id, **detail})
    rows = await task_store.list_tasks(
        conn,
        care_team_ids=[task.care_team_id],
        status=list(TaskStatus),
        now=now,
        task_id=task_id,
    )
    return TaskOut.model_validate(rows[0], from_attributes=True)


@router.post(
    "/tasks/{task_id}/acknowledge",
    response_model=TaskOut,
    responses={404: {"model": ErrorOut}, 409: {"model": ErrorOut}},
)
async def acknowledge(task_id: TaskId, request: Request, conn: Conn, principal: StaffUser) -> TaskOut:
    """Take an open task: it moves to in_progress (its alert to acknowledged) and is assigned to you."""
    return await _act(
        conn,
        principal,
        request,
        task_id,
        "change:task_acknowledge",
        lambda now: actions.acknowledge_task(
            conn, task_id, actor=principal.username, now=now, actor_id=principal.user_id
        ),
        {},
    )


@router.post(
    "/tasks/{task_id}/outcome", response_model=TaskOut, responses={404: {"model": ErrorOut}, 409: {"model": ErrorOut}}
)
async def record_outcome(
    task_id: TaskId, body: OutcomeRequest, request: Request, conn: Conn, principal: StaffUser
) -> TaskOut:
    """Record what came of the follow-up: reached / resolved / emergency close the task;
    not_reached delivers the next escalation step now; referred_to_doctor hands over to the doctor step."""
    return await _act(
        conn,
        principal,
        request,
        task_id,
        "change:task_outcome",
        lambda now: actions.record_outcome(
            conn, task_id, body.outcome, actor=principal.username, now=now, note=body.note
        ),
        {"outcome": body.outcome},
    )


@router.post(
    "/tasks/{task_id}/escalate", response_model=TaskOut, responses={404: {"model": ErrorOut}, 409: {"model": ErrorOut}}
)
async def escalate(task_id: TaskId, request: Request, conn: Conn, principal: StaffUser) -> TaskOut:
    """Deliver the next escalation step now (message → questionnaire → voice → phone → doctor, per chain)."""
    return await _act(
        conn,
        principal,
        request,
        task_id,
        "change:task_escalate",
        lambda now: actions.escalate_task(conn, task_id, actor=principal.username, now=now),
        {},
    )
