"""Triaged inbound messages: the list, staff re-routes (labelled feedback) and its export."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, Request
from fastapi.responses import Response

from vitalgate.api.deps import Conn, StaffUser, audit, audit_list
from vitalgate.api.schemas import ErrorOut
from vitalgate.api.triage_schemas import ClassifyIn, ClassifyOut, RerouteIn, TriageOut
from vitalgate.notify.triage import classify, reroute
from vitalgate.store import people
from vitalgate.store import triage as triage_store

router = APIRouter(tags=["triage"], responses={401: {"model": ErrorOut}, 403: {"model": ErrorOut}})
TriageId = Annotated[int, Path(ge=1, le=2**63 - 1, description="triage record id")]


@router.get("/triage", response_model=list[TriageOut])
async def list_triage(
    request: Request,
    conn: Conn,
    principal: StaffUser,
    patient_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    task_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[TriageOut]:
    """Inbound messages of the user's teams as triage classified and routed them, newest first."""
    rows = await triage_store.listed(
        conn, care_team_ids=list(principal.team_ids), patient_id=patient_id, task_id=task_id, limit=limit
    )
    await audit_list(conn, principal, request, "read:triage", sorted({r.patient_id for r in rows}))
    return [TriageOut.model_validate(r, from_attributes=True) for r in rows]


@router.post("/triage/{triage_id}/reroute", response_model=TriageOut, responses={404: {"model": ErrorOut}})
async def reroute_message(
    triage_id: TriageId, body: RerouteIn, request: Request, conn: Conn, principal: StaffUser
) -> TriageOut:
    """Move a message to another category: its task follows (queue, severity, assignee; urgent alerts
    the on-call nurse), and the correction is kept as a labelled example."""
    record = await triage_store.get(conn, triage_id)
    patient = await people.get_patient(conn, record.patient_id) if record else None
    if record is None or patient is None or patient.care_team_id not in principal.team_ids:
        raise HTTPException(status_code=404, detail=f"triage record {triage_id} not found")
    await reroute(
        conn, triage_id, body.category, user_id=principal.user_id, actor=principal.username, now=datetime.now(UTC),
        note=body.note,
    )  # fmt: skip
    await audit(
        conn, principal, request, "change:triage_route", record.patient_id,
        {"triage_id": triage_id, "from": record.route_category, "to": str(body.category)},
    )  # fmt: skip
    updated = await triage_store.get(conn, triage_id)
    return TriageOut.model_validate(updated, from_attributes=True)


@router.get(
    "/triage/feedback.jsonl", response_class=Response, responses={200: {"content": {"application/x-ndjson": {}}}}
)
async def export_feedback(
    request: Request,
    conn: Conn,
    principal: StaffUser,
    since: Annotated[datetime | None, Query(description="only re-routes at or after this instant")] = None,
) -> Response:
    """Every re-route as one labelled example per line, in the labelled set's format
    (tests/fixtures/triage/labelled.jsonl) with split "feedback" and the category it corrected."""
    rows = await triage_store.feedback(conn, care_team_ids=list(principal.team_ids), since=since)
    lines = [
        json.dumps(
            {
                "id": f"feedback-{f.id}",
                "language": f.language,
                "split": "feedback",
                "label": f.to_category,
                "text": f.body,
                "was": f.from_category,
                "at": f.at.isoformat(),
            },
            ensure_ascii=False,
        )
        for f in rows
    ]
    await audit(conn, principal, request, "export:triage_feedback", None, {"examples": len(rows)})
    return Response("\n".join(lines) + ("\n" if lines else ""), media_type="application/x-ndjson")


@router.post("/triage/classify", response_model=ClassifyOut)
async def classify_text(body: ClassifyIn, principal: StaffUser) -> ClassifyOut:
    """Try the classifier on a text (nothing is stored): what it says and why."""
    result = classify(body.text)
    return ClassifyOut(
        category=result.category,
        confidence=result.confidence,
        needs_person=result.needs_person,
        evidence=list(result.evidence),
    )
