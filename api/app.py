"""The HTTP API. Every read of a patient's record writes an audit row."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

import psycopg
from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.responses import JSONResponse
from psycopg_pool import AsyncConnectionPool
from pydantic import BaseModel

from store import people, readings as reading_store, tasks as task_store
from store.db import make_pool


class ReadingOut(BaseModel):
    id: UUID
    kind: Literal["glucose", "blood_pressure"]
    measured_at: datetime
    device_time: datetime
    received_at: datetime
    device_serial: str
    sequence_number: int | None
    glucose_mg_dl: float | None
    systolic_mmhg: float | None
    diastolic_mmhg: float | None
    map_mmhg: float | None
    pulse_bpm: float | None
    status: list[str]
    context: dict[str, Any]


class ReadingsPage(BaseModel):
    patient_id: int
    units: dict[str, str]
    readings: list[ReadingOut]


class TaskOut(BaseModel):
    id: int
    alert_id: int | None
    patient_id: int
    patient_ref: str | None
    patient_tags: list[str]
    care_team_id: int
    assignee_id: int | None
    assignee: str | None
    severity: Literal["urgent", "high", "routine"]
    status: str
    title: str
    due_at: datetime
    created_at: datetime
    closed_at: datetime | None
    outcome: str | None


class ErrorOut(BaseModel):
    detail: str


UNITS = {"glucose_mg_dl": "mg/dL", "systolic_mmhg": "mm[Hg]", "diastolic_mmhg": "mm[Hg]", "map_mmhg": "mm[Hg]", "pulse_bpm": "/min"}


def create_app(database_url: str) -> FastAPI:
    """Build the app around one connection pool."""
    pool: AsyncConnectionPool = make_pool(database_url)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await pool.open()
        try:
            yield
        finally:
            await pool.close()

    app = FastAPI(
        title="VitalGate",
        version="0.1.0",
        summary="Home glucose and blood-pressure monitoring for care teams",
        lifespan=lifespan,
        responses={404: {"model": ErrorOut}, 422: {"description": "Invalid request"}},
    )

    async def db() -> AsyncIterator[psycopg.AsyncConnection]:
        async with pool.connection() as conn:
            yield conn

    Conn = Annotated[psycopg.AsyncConnection, Depends(db)]

    @app.exception_handler(psycopg.OperationalError)
    async def _db_down(request: Request, exc: psycopg.OperationalError) -> JSONResponse:
        return JSONResponse(status_code=503, content={"detail": "database unavailable"})

    @app.get("/health")
    async def health(conn: Conn) -> dict[str, str]:
        await conn.execute("SELECT 1")
        return {"status": "ok"}

    @app.get("/patients/{patient_id}/readings", response_model=ReadingsPage)
    async def get_patient_readings(
        patient_id: int,
        request: Request,
        conn: Conn,
        since: datetime | None = None,
        until: datetime | None = None,
        kind: Literal["glucose", "blood_pressure"] | None = None,
        limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
    ) -> ReadingsPage:
        """A patient's readings, newest first, values in the stored units listed in `units`."""
        patient = await people.get_patient(conn, patient_id)
        if patient is None:
            raise HTTPException(status_code=404, detail=f"patient {patient_id} not found")
        rows = await reading_store.patient_readings(conn, patient_id, since=since, until=until, kind=kind, limit=limit)
        await people.record_audit(
            conn, actor="anonymous", role="anonymous", action="read:readings", patient_id=patient_id,
            source=request.client.host if request.client else None, detail={"count": len(rows)},
        )
        await conn.commit()
        return ReadingsPage(patient_id=patient_id, units=UNITS, readings=[ReadingOut(**r) for r in rows])

    @app.get("/tasks", response_model=list[TaskOut])
    async def get_tasks(
        conn: Conn,
        status: Annotated[list[Literal["open", "in_progress", "done", "cancelled"]] | None, Query()] = None,
        care_team_id: int | None = None,
    ) -> list[TaskOut]:
        """The worklist: urgent first, then by due time."""
        rows = await task_store.list_tasks(
            conn, care_team_ids=[care_team_id] if care_team_id else None, status=list(status) if status else None
        )
        return [TaskOut(**r) for r in rows]

    return app
