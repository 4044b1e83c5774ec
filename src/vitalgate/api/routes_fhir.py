"""FHIR R4 export: a patient's readings as a searchset Bundle of PHD-style Observations."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from vitalgate.api import fhir
from vitalgate.api.deps import Conn, CurrentUser, audit, state, visible_patient
from vitalgate.api.routes_patients import PatientId, window
from vitalgate.api.schemas import ErrorOut
from vitalgate.domain import MeasurementKind
from vitalgate.store import readings as reading_store

router = APIRouter(tags=["fhir"], responses={401: {"model": ErrorOut}, 404: {"model": ErrorOut}})
_PREFIXES = ("ge", "gt", "le", "lt")
# Open-ended searches reach back a century.
_CENTURY = timedelta(days=36_525)


class FhirJSONResponse(JSONResponse):
    media_type = "application/fhir+json"


class BundleOut(BaseModel):
    """A FHIR R4 Bundle (type searchset) of Observation resources."""

    resourceType: Literal["Bundle"]
    type: Literal["searchset"]
    total: int
    link: list[dict[str, str]]
    entry: list[dict[str, Any]] = Field(description="{fullUrl, resource: Observation, search: {mode: match}}")


def parse_dates(values: list[str]) -> tuple[datetime | None, datetime | None]:
    """FHIR `date` search with ge/gt/le/lt prefixes (e.g. date=ge2025-01-01&date=lt2025-02-01)."""
    since = until = None
    for value in values:
        prefix, rest = (value[:2], value[2:]) if value[:2] in _PREFIXES else ("eq", value)
        if prefix == "eq":
            raise HTTPException(status_code=422, detail="date needs a ge, gt, le or lt prefix, e.g. date=ge2025-01-01")
        try:
            when = datetime.fromisoformat(rest)
        except ValueError as exc:
            raise HTTPException(status_code=422, detail=f"date {value!r} is not an ISO 8601 date or date-time") from exc
        if prefix in ("ge", "gt"):
            since = when
        else:
            until = when
    return since, until


@router.get(
    "/fhir/Patient/{patient_id}/Observation",
    response_model=BundleOut,
    response_class=FhirJSONResponse,
    responses={422: {"model": ErrorOut}},
)
async def patient_observations(
    patient_id: PatientId,
    request: Request,
    conn: Conn,
    principal: CurrentUser,
    date: Annotated[list[str] | None, Query(max_length=4, description="ge/gt/le/lt + ISO date, repeatable")] = None,
    count: Annotated[int, Query(alias="_count", ge=1, le=5000, description="readings per page (newest first)")] = 500,
    code: Annotated[MeasurementKind | None, Query(description="reading kind")] = None,
) -> FhirJSONResponse:
    """Readings as FHIR R4 Observations (HL7 PHD IG: MDC + LOINC codes, UCUM units, device references)."""
    await visible_patient(conn, principal, patient_id)
    since, until = parse_dates(date or [])
    start, end = window(since, until, _CENTURY) if (since or until) else (None, None)
    rows = await reading_store.patient_readings(conn, patient_id, since=start, until=end, kind=code, limit=count)
    resources = [obs for row in rows for obs in fhir.observations(row, patient_id)]
    # Links from the configured public URL, never from the Host header (a forged Host would put
    # another site's address into an exported record).
    public = state(request).public_url
    query = f"?{request.url.query}" if request.url.query else ""
    bundle = fhir.searchset(f"{public}/fhir", f"{public}{request.url.path}{query}", resources)
    await audit(
        conn, principal, request, "export:fhir", patient_id, {"resource": "Observation", "count": len(resources)}
    )
    return FhirJSONResponse(bundle)
