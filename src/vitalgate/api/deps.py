"""Request dependencies: the database connection, the signed-in principal, care-team scoping, audit."""

from __future__ import annotations

import ipaddress
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any

import psycopg
from fastapi import Depends, HTTPException, Path, Request
from psycopg_pool import AsyncConnectionPool

from vitalgate.api.auth import AuthError, Principal, TokenSigner
from vitalgate.api.link_throttle import LinkRatePolicy
from vitalgate.api.throttle import ThrottlePolicy
from vitalgate.domain import STAFF_ROLES, Role
from vitalgate.i18n import N_, Msg
from vitalgate.store import audit as audit_store
from vitalgate.store import caregivers as caregiver_store
from vitalgate.store import consent, people
from vitalgate.store import users as user_store
from vitalgate.store.rows import Patient

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

SESSION_COOKIE = "vg_session"
CSRF_HEADER = "x-csrf-token"


@dataclass(frozen=True, slots=True)
class ApiState:
    """What every request needs, built once in create_app."""

    pool: AsyncConnectionPool
    signer: TokenSigner
    cookie_secure: bool
    display_timezone: str = "UTC"
    throttle: ThrottlePolicy = field(default_factory=ThrottlePolicy)
    # The sign-in throttle's clock; tests inject one to step past a lockout without sleeping.
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    # Reverse proxies whose X-Forwarded-For is believed (Settings.trusted_proxies); empty: none.
    trusted_proxies: tuple[IPNetwork, ...] = ()
    # The API's external base URL (Settings.public_url()): links never come from the Host header.
    public_url: str = "http://127.0.0.1:8000"
    # Signed-link pages (/l/...): requests per client address and per token (api.link_throttle).
    link_rate: LinkRatePolicy = field(default_factory=LinkRatePolicy)
    # The shared secret of the inbound SMS webhook (Settings.sms_inbound_secret); None: the endpoint is off.
    sms_inbound_secret: str | None = None


def state(request: Request) -> ApiState:
    return request.app.state.vitalgate


async def db(request: Request) -> AsyncIterator[psycopg.AsyncConnection]:
    async with state(request).pool.connection() as conn:
        yield conn


Conn = Annotated[psycopg.AsyncConnection, Depends(db)]


def _unauthorized(message: str) -> HTTPException:
    return HTTPException(status_code=401, detail=message, headers={"WWW-Authenticate": "Bearer"})


async def load_principal(
    conn: psycopg.AsyncConnection, user_id: int, session_id: str, issued_at: datetime | None = None
) -> Principal | None:
    """The principal for a verified token, or None if the user is gone, disabled or signed out since."""
    user = await user_store.get_user(conn, user_id)
    if user is None or user.disabled:
        return None
    revoked = user.sessions_revoked_at
    if issued_at is not None and revoked is not None and issued_at < revoked:
        return None
    teams = await user_store.team_ids(conn, user_id) if user.role not in (Role.PATIENT, Role.CAREGIVER) else []
    patient_id = await user_store.patient_id_of_user(conn, user_id) if user.role == "patient" else None
    cared = await caregiver_patients(conn, user_id) if user.role == Role.CAREGIVER else ()
    return Principal(user_id, user.username, user.display_name, user.role, tuple(teams), patient_id, session_id, cared)


async def caregiver_patients(conn: psycopg.AsyncConnection, user_id: int) -> tuple[int, ...]:
    """Patients this caregiver login may read: active entries whose patient consents to sharing now."""
    now = datetime.now(UTC)
    patients = []
    for c in await caregiver_store.of_user(conn, user_id):
        if await consent.allows(conn, c.patient_id, "share_caregiver", None, now, caregiver_id=c.id):
            patients.append(c.patient_id)
    return tuple(patients)


async def principal_from_request(request: Request, conn: psycopg.AsyncConnection) -> Principal | None:
    """Bearer token first, then the web session cookie; None when neither is present."""
    signer = state(request).signer
    header = request.headers.get("authorization", "")
    try:
        if header:
            scheme, _, token = header.partition(" ")
            if scheme.lower() != "bearer" or not token:
                raise AuthError("use 'Authorization: Bearer <token>'")
            claims = signer.verify_claims(token.strip(), "access")
        elif cookie := request.cookies.get(SESSION_COOKIE):
            claims = signer.verify_claims(cookie, "session")
            # Cookies ride along on cross-site requests; changes need the per-session token too.
            if request.method not in ("GET", "HEAD", "OPTIONS") and not signer.check_csrf(
                claims.session_id, request.headers.get(CSRF_HEADER)
            ):
                raise HTTPException(status_code=403, detail="missing or wrong X-CSRF-Token for a cookie session")
        else:
            return None
    except AuthError as exc:
        raise _unauthorized(str(exc)) from exc
    principal = await load_principal(conn, claims.user_id, claims.session_id, claims.issued_at)
    if principal is None:
        raise _unauthorized("account unknown or disabled, or signed out: sign in again")
    return principal


# Requests a read-only principal (a caregiver) may still make: signing out, changing their password,
# their own language and glucose unit.
_READ_ONLY_ALLOWED = ("/auth/", "/me/preferences")


async def current_principal(request: Request, conn: Conn) -> Principal:
    principal = await principal_from_request(request, conn)
    if principal is None:
        raise _unauthorized("not signed in: POST /auth/token for a bearer token")
    refuse_read_only_change(principal, request)
    return principal


def refuse_read_only_change(principal: Principal, request: Request) -> None:
    """Caregivers read; every change (any non-GET request outside /auth/) is refused with 403."""
    if (
        principal.role == Role.CAREGIVER
        and request.method not in ("GET", "HEAD", "OPTIONS")
        and not request.url.path.startswith(_READ_ONLY_ALLOWED)
    ):
        raise HTTPException(status_code=403, detail=N_("caregivers have read-only access"))


CurrentUser = Annotated[Principal, Depends(current_principal)]


def require_roles(*roles: str) -> Callable[..., Coroutine[Any, Any, Principal]]:
    """A dependency that lets only these roles through (403 for the others)."""

    async def check(principal: CurrentUser) -> Principal:
        if principal.role not in roles:
            raise HTTPException(
                status_code=403, detail=f"role {principal.role!r} may not do this; needs one of {', '.join(roles)}"
            )
        return principal

    return check


StaffUser = Annotated[Principal, Depends(require_roles(*sorted(STAFF_ROLES)))]
AdminUser = Annotated[Principal, Depends(require_roles("admin"))]


def can_see(principal: Principal, patient: Patient) -> bool:
    """A patient sees only themselves; a caregiver the patients sharing with them; staff their teams' patients."""
    if principal.role == "patient":
        return principal.patient_id == patient.id
    if principal.role == Role.CAREGIVER:
        return patient.id in principal.caregiver_of
    if principal.is_staff:
        return patient.care_team_id in principal.team_ids
    return False


async def visible_patient(conn: psycopg.AsyncConnection, principal: Principal, patient_id: int) -> Patient:
    """The patient if this principal may see them; 404 otherwise (no hint whether they exist)."""
    patient = await people.get_patient(conn, patient_id) if -(2**63) <= patient_id < 2**63 else None
    if patient is None or not can_see(principal, patient):
        raise HTTPException(status_code=404, detail=Msg("patient {patient_id} not found", patient_id=patient_id))
    return patient


async def scoped_patient(
    patient_id: Annotated[int, Path(ge=1, le=2**63 - 1, description="patient id")], conn: Conn, principal: CurrentUser
) -> Patient:
    """Dependency form of visible_patient: refuses before the request body is even validated."""
    return await visible_patient(conn, principal, patient_id)


ScopedPatient = Annotated[Patient, Depends(scoped_patient)]


def source_of(request: Request) -> str | None:
    """Where the request came from: the TCP peer, or, behind a trusted proxy, the client it names.

    X-Forwarded-For is read only when the peer is a configured trusted proxy, from the right: the
    first address that is not itself a trusted proxy is the client (anything left of it was
    written by the client and may be forged).
    """
    peer = request.client.host if request.client else None
    proxies = state(request).trusted_proxies
    if peer is None or not proxies or not _trusted(peer, proxies):
        return peer
    hops = [hop.strip() for hop in ",".join(request.headers.getlist("x-forwarded-for")).split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _trusted(hop, proxies):
            return hop if _is_ip(hop) else peer
    return peer


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def _trusted(address: str, proxies: tuple[IPNetwork, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in proxies)


async def audit(
    conn: psycopg.AsyncConnection,
    principal: Principal,
    request: Request,
    action: str,
    patient_id: int | None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Write the audit row of this access and commit it together with any change."""
    await audit_store.record(
        conn,
        actor=principal.username,
        actor_id=principal.user_id,
        role=principal.role,
        action=action,
        patient_id=patient_id,
        source=source_of(request),
        detail={"path": request.url.path, **(detail or {})},
    )
    await conn.commit()


async def audit_list(
    conn: psycopg.AsyncConnection, principal: Principal, request: Request, action: str, patient_ids: list[int]
) -> None:
    """Audit a list view: one row per patient it showed."""
    if patient_ids:
        await audit_store.record_many(
            conn,
            actor=principal.username,
            actor_id=principal.user_id,
            role=principal.role,
            action=action,
            patient_ids=patient_ids,
            source=source_of(request),
            detail={"path": request.url.path},
        )
    await conn.commit()
