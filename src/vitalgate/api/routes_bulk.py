"""Bulk actions for routine tasks: acknowledge, or record one closing outcome for many at once.

Only routine tasks: urgent and high ones need a person to look at each. Every task goes through
the same single-task action (scope check, state change, audit row) in its own transaction, so one
task that someone else closed meanwhile is reported and the rest still go through.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, Field

from vitalgate.api import routes_tasks
from vitalgate.api.auth import Principal
from vitalgate.api.deps import Conn, StaffUser
from vitalgate.api.schemas import ErrorOut, OutcomeRequest
from vitalgate.domain import Outcome, Severity
from vitalgate.followup.actions import TaskStateError
from vitalgate.store import tasks as task_store

router = APIRouter(tags=["worklist"], responses={401: {"model": ErrorOut}, 403: {"model": ErrorOut}})
MAX_BULK = 200
BulkOutcome = Literal[Outcome.REACHED, Outcome.RESOLVED]


class BulkRequest(BaseModel):
    task_ids: list[int] = Field(min_length=1, max_length=MAX_BULK)
    action: Literal["acknowledge", "outcome"]
    outcome: BulkOutcome | None = Field(default=None, description="for action=outcome: reached or resolved")
    note: str | None = Field(default=None, max_length=2000)


class BulkResult(BaseModel):
    done: list[int]
    skipped: dict[int, str] = Field(description="task id -> why it was left as it was")


async def run_bulk(conn: Conn, principal: Principal, request: Request, body: BulkRequest) -> BulkResult:
    if body.action == "outcome" and body.outcome is None:
        raise HTTPException(status_code=422, detail="choose an outcome: reached or resolved")
    done: list[int] = []
    skipped: dict[int, str] = {}
    for task_id in dict.fromkeys(body.task_ids):
        task = await task_store.get_task(conn, task_id)
        if task is None or task.care_team_id not in principal.team_ids:
            skipped[task_id] = "not found"
            continue
        if task.severity != Severity.ROUTINE:
            skipped[task_id] = "only routine tasks are handled in bulk"
            continue
        try:
            if body.action == "acknowledge":
                await routes_tasks.acknowledge(task_id, request, conn, principal)
            else:
                assert body.outcome is not None
                outcome = OutcomeRequest(outcome=body.outcome, note=body.note)
                await routes_tasks.record_outcome(task_id, outcome, request, conn, principal)
        except TaskStateError as exc:
            skipped[task_id] = exc.message
            continue
        done.append(task_id)
    return BulkResult(done=done, skipped=skipped)


@router.post("/tasks/bulk", response_model=BulkResult, responses={422: {"model": ErrorOut}})
async def bulk(body: BulkRequest, request: Request, conn: Conn, principal: StaffUser) -> BulkResult:
    """Acknowledge, or close with reached/resolved, up to 200 routine tasks; others are skipped with a reason."""
    return await run_bulk(conn, principal, request, body)
