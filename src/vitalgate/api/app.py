"""The HTTP API and web pages. Every read or change of a patient's data writes an audit row."""

from __future__ import annotations

import ipaddress
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import uvicorn
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from psycopg_pool import AsyncConnectionPool

from vitalgate import __version__
from vitalgate.api import (
    docs_pages,
    errors,
    routes_admin,
    routes_auth,
    routes_bulk,
    routes_clock,
    routes_devices,
    routes_fhir,
    routes_fhir_record,
    routes_links,
    routes_messages,
    routes_notify,
    routes_oncall,
    routes_patient_login,
    routes_patients,
    routes_prefs,
    routes_questionnaires,
    routes_record,
    routes_report,
    routes_review,
    routes_scripts,
    routes_tasks,
    routes_triage,
    routes_visits,
    routes_worklist,
    web,
    web_conversation,
    web_programs,
    web_qc,
    web_questionnaire_links,
    web_questionnaire_results,
    web_questionnaires,
    worklist_events,
)
from vitalgate.api.auth import TokenSigner
from vitalgate.api.body_limit import BodyLimit
from vitalgate.api.deps import ApiState, Conn
from vitalgate.api.link_throttle import LinkRatePolicy
from vitalgate.api.security_headers import SecurityHeaders
from vitalgate.api.throttle import ThrottlePolicy
from vitalgate.core.settings import Settings
from vitalgate.store.db import make_pool

STATIC_DIR = Path(__file__).parent / "static"

DESCRIPTION = """
Home glucose and blood-pressure monitoring for care teams.

Sign in with `POST /auth/token` (OAuth2 password flow) and send `Authorization: Bearer <token>`.
Staff see only the patients of their care teams, a patient only themselves; other patients answer 404.
Every read or change of a patient's data is written to the audit trail (`GET /audit`, admins).
Values carry UCUM units: glucose `mg/dL`, pressures `mm[Hg]`, pulse `/min`.
"""


def create_app(
    database_url: str,
    *,
    settings: Settings | None = None,
    pool: AsyncConnectionPool | None = None,
    throttle: ThrottlePolicy | None = None,
    clock: Callable[[], datetime] | None = None,
    link_rate: LinkRatePolicy | None = None,
) -> FastAPI:
    """Build the app around one connection pool (settings default to the environment's).

    `throttle` overrides the failed sign-in policy and `clock` the throttle's time (tests).
    """
    settings = settings or Settings()
    ZoneInfo(settings.display_timezone)  # an unknown zone fails here, at start-up, not on every page
    pool = pool or make_pool(database_url)
    signer = TokenSigner(
        settings.secret_key.get_secret_value(),
        access_minutes=settings.access_token_minutes,
        session_hours=settings.session_hours,
    )
    cookie_secure = (
        settings.cookie_secure if settings.cookie_secure is not None else settings.environment == "production"
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await pool.open()
        try:
            yield
        finally:
            await pool.close()

    app = FastAPI(
        title="VitalGate",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # api.docs_pages serves /docs from vendored assets
        redoc_url=None,
    )
    app.state.vitalgate = ApiState(
        pool=pool,
        signer=signer,
        cookie_secure=cookie_secure,
        display_timezone=settings.display_timezone,
        throttle=throttle or ThrottlePolicy(),
        trusted_proxies=tuple(ipaddress.ip_network(p, strict=False) for p in settings.trusted_proxies),
        public_url=settings.public_url(),
        sms_inbound_secret=settings.sms_inbound_secret.get_secret_value() if settings.sms_inbound_secret else None,
        link_rate=link_rate or LinkRatePolicy(),
        **({"clock": clock} if clock else {}),
    )
    errors.install(app)
    app.add_middleware(BodyLimit, max_bytes=settings.api_max_body_bytes)
    app.add_middleware(SecurityHeaders)  # outermost: 413 answers carry the headers too

    @app.get("/health", tags=["ops"])
    async def health(conn: Conn) -> dict[str, str]:
        """Liveness and database reachability."""
        await conn.execute("SELECT 1")
        return {"status": "ok"}

    for module in (
        routes_auth,
        routes_patients,
        routes_patient_login,
        routes_record,
        routes_report,
        routes_clock,
        routes_devices,
        routes_bulk,
        routes_tasks,
        routes_worklist,
        worklist_events,
        routes_review,
        routes_fhir,
        routes_fhir_record,
        routes_admin,
        routes_prefs,
        routes_notify,
        routes_questionnaires,
        web_questionnaire_links,
        web_questionnaires,
        web_questionnaire_results,
        routes_triage,
        routes_scripts,
        routes_oncall,
        routes_links,
        routes_messages,
        routes_visits,
        web_programs,
        web_qc,
    ):
        app.include_router(module.router)
    app.include_router(docs_pages.router)
    app.include_router(web.router)
    app.include_router(web_conversation.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app


def uvicorn_config(app: FastAPI, host: str, port: int, **extra: Any) -> uvicorn.Config:
    """How the API is served: uvicorn must not rewrite the client address from X-Forwarded-For.

    uvicorn trusts that header from 127.0.0.1 by default (a local client could pick its address,
    bypassing the sign-in throttle and forging the audit source); api.deps.source_of reads it only
    from Settings.trusted_proxies.
    """
    return uvicorn.Config(app, host=host, port=port, proxy_headers=False, server_header=False, **extra)
