"""Errors as JSON with a clear message and a fitting status code."""

from __future__ import annotations

import psycopg
import structlog
from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from vitalgate.followup.actions import TaskNotFound, TaskStateError

log = structlog.get_logger(__name__)


def install(app: FastAPI) -> None:
    """Map database, task-state and unexpected errors to JSON responses (HTTPException and 422 are FastAPI's own)."""

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        # The web pages answer errors as a page; the API (everything outside /ui/) as JSON.
        if request.url.path.startswith("/ui/"):
            from vitalgate.api.web_common import render

            page = render(
                request, "error.html", None, status_code=exc.status_code, status=exc.status_code, detail=exc.detail
            )
            page.headers.update(exc.headers or {})  # Retry-After, WWW-Authenticate survive on pages too
            return page
        return await http_exception_handler(request, exc)

    @app.exception_handler(TaskStateError)
    async def _task_state(request: Request, exc: TaskStateError) -> Response:
        # A task that does not exist is 404; closed, already taken or without a step left is 409.
        status = 404 if isinstance(exc, TaskNotFound) else 409
        return await _http(request, StarletteHTTPException(status_code=status, detail=exc.message))

    @app.exception_handler(psycopg.OperationalError)
    async def _db_down(request: Request, exc: psycopg.OperationalError) -> JSONResponse:
        log.warning("api.database_unavailable", path=request.url.path, error=str(exc))
        return JSONResponse(status_code=503, content={"detail": "database unavailable, try again shortly"})

    @app.exception_handler(psycopg.errors.UniqueViolation)
    async def _conflict(request: Request, exc: psycopg.errors.UniqueViolation) -> JSONResponse:
        constraint = exc.diag.constraint_name or "unique key"
        return JSONResponse(status_code=409, content={"detail": f"already exists ({constraint})"})

    @app.exception_handler(psycopg.errors.DataError)
    async def _bad_value(request: Request, exc: psycopg.errors.DataError) -> JSONResponse:
        return JSONResponse(status_code=422, content={"detail": f"invalid value: {exc.diag.message_primary or exc}"})

    @app.exception_handler(UnicodeEncodeError)
    async def _not_unicode(request: Request, exc: UnicodeEncodeError) -> JSONResponse:
        # JSON may carry a lone surrogate escape ("\ud800"); no text column can store it.
        return JSONResponse(
            status_code=422, content={"detail": "text is not valid Unicode (a lone surrogate character); correct it"}
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # The client learns nothing internal; the trace goes to the server log for the operator.
        log.exception("api.unhandled_error", path=request.url.path)
        return JSONResponse(status_code=500, content={"detail": "internal error; it has been logged"})
