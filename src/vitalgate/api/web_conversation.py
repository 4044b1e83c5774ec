"""The staff side of the conversation on the patient page: messages, and a reply typed or from a script."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import psycopg
from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from vitalgate.api.deps import Conn, audit, state, visible_patient
from vitalgate.api.web_common import check_form_csrf, login_redirect, web_principal
from vitalgate.domain import ACTIVE_TASK_STATUSES, STAFF_ROLES
from vitalgate.notify import conversation
from vitalgate.store import messages as message_store
from vitalgate.store import reply_scripts
from vitalgate.store import tasks as task_store
from vitalgate.store.messages import Message
from vitalgate.store.rows import PatientTask
from vitalgate.store.triage_rows import ReplyScript

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True, slots=True)
class ConversationPanel:
    messages: list[Message]
    scripts: list[ReplyScript]
    open_tasks: list[PatientTask]
    task_filter: int | None


async def conversation_panel(
    conn: psycopg.AsyncConnection, patient_id: int, *, task_id: int | None = None
) -> ConversationPanel:
    """What the patient page shows: the conversation (or one task's), the scripts, the tasks to file a reply on."""
    tasks = await task_store.patient_tasks(conn, patient_id, limit=20)
    return ConversationPanel(
        messages=await message_store.conversation(conn, patient_id=patient_id, task_id=task_id, everyone=True),
        scripts=await reply_scripts.listed(conn),
        open_tasks=[t for t in tasks if t.status in ACTIVE_TASK_STATUSES],
        task_filter=task_id,
    )


@router.post("/ui/patients/{patient_id}/messages")
async def send_form(
    patient_id: int,
    request: Request,
    conn: Conn,
    csrf: Annotated[str, Form()] = "",
    body: Annotated[str, Form(max_length=2000)] = "",
    script_id: Annotated[str, Form()] = "",
    task_id: Annotated[str, Form()] = "",
) -> Response:
    """Send a care-team message from the patient page (CSRF-checked form)."""
    principal = await web_principal(request, conn)
    if principal is None:
        return login_redirect(request)
    if principal.role not in STAFF_ROLES:
        raise HTTPException(status_code=403, detail="staff only")
    check_form_csrf(request, principal, csrf)
    await visible_patient(conn, principal, patient_id)
    script = int(script_id) if script_id.isdigit() else None
    task = int(task_id) if task_id.isdigit() else None
    if not body.strip() and script is None:
        return RedirectResponse(f"/ui/patients/{patient_id}#conversation", status_code=303)
    try:
        async with conn.transaction():
            sent = await conversation.staff_message(
                conn,
                patient_id=patient_id,
                author_user_id=principal.user_id,
                now=state(request).clock(),
                body=body.strip() or None,
                script_id=script,
                task_id=task,
            )
    except conversation.ScriptNotFound as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from exc
    await audit(conn, principal, request, "change:message", patient_id, {"message_id": sent.message_id})
    return RedirectResponse(f"/ui/patients/{patient_id}#conversation", status_code=303)
