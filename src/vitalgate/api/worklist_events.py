"""GET /worklist/events: Server-Sent Events for open worklists — a new task appears within a second
or two without a reload (the page adds the row, shows a banner and, for urgent ones, plays a tone).

The stream holds no database connection between polls: every POLL_S it borrows one from the pool
for one indexed query (tasks with an id above the last one sent). It ends after MAX_STREAM_S, and
EventSource reconnects with Last-Event-ID, so a signed-out session stops receiving within minutes.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import StreamingResponse

from vitalgate.api.auth import Principal
from vitalgate.api.deps import audit_list, principal_from_request, state
from vitalgate.api.worklist_view import trigger_of
from vitalgate.core.localtime import ZoneHistory
from vitalgate.store import time_zones
from vitalgate.store import worklist as worklist_store
from vitalgate.store.worklist_rows import WorklistRow

router = APIRouter(tags=["worklist"])
POLL_S = 0.5
HEARTBEAT_S = 15.0
MAX_STREAM_S = 300.0


def _event(row: WorklistRow, trigger: str | None) -> str:
    data = {
        "id": row.id,
        "severity": row.severity,
        "title": row.title,
        "patient_id": row.patient_id,
        "patient_name": row.patient_name,
        "due_at": row.due_at.isoformat(),
        "trigger": trigger,
    }
    return f"id: {row.id}\nevent: task\ndata: {json.dumps(data)}\n\n"


async def _stream(request: Request, principal: Principal, after_id: int) -> AsyncIterator[str]:
    pool = state(request).pool
    teams = list(principal.team_ids)
    started = last_beat = time.monotonic()
    yield "retry: 1000\n\n"
    while time.monotonic() - started < MAX_STREAM_S and not await request.is_disconnected():
        zones: dict[int, ZoneHistory] = {}
        async with pool.connection() as conn:
            rows = await worklist_store.tasks_opened_after(conn, teams, after_id, now=datetime.now(UTC))
            if rows:
                zones = await time_zones.zone_histories(conn, [r.patient_id for r in rows])
                await audit_list(conn, principal, request, "read:worklist_event", [r.patient_id for r in rows])
        for row in rows:
            trigger = trigger_of(row.evidence, zones.get(row.patient_id))
            text = f"{trigger.text} · {trigger.local_time}" if trigger and trigger.local_time else None
            after_id = max(after_id, row.id)
            yield _event(row, text)
        if time.monotonic() - last_beat > HEARTBEAT_S:
            last_beat = time.monotonic()
            yield ": keep-alive\n\n"
        await asyncio.sleep(POLL_S)


@router.get("/worklist/events", response_class=StreamingResponse)
async def worklist_events(request: Request) -> StreamingResponse:
    """text/event-stream of tasks opened on the user's teams from now on (or after Last-Event-ID)."""
    async with state(request).pool.connection() as conn:
        principal = await principal_from_request(request, conn)
        if principal is None:
            raise HTTPException(status_code=401, detail="not signed in")
        if not principal.is_staff:
            raise HTTPException(status_code=403, detail="only care-team staff watch the worklist")
        last = request.headers.get("last-event-id", "")
        after_id = int(last) if last.isdigit() else await worklist_store.newest_task_id(conn, list(principal.team_ids))
    return StreamingResponse(
        _stream(request, principal, after_id),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
