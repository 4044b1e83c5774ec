"""Sign-in: OAuth2 password flow for bearer tokens; who am I."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.security import OAuth2PasswordRequestForm
from starlette.concurrency import run_in_threadpool

from vitalgate.api import throttle
from vitalgate.api.deps import Conn, CurrentUser, source_of, state
from vitalgate.api.schemas import ErrorOut, MeOut, TokenOut
from vitalgate.core.passwords import verify_password
from vitalgate.store import audit as audit_store
from vitalgate.store import users as user_store
from vitalgate.store.rows import User

router = APIRouter(tags=["auth"])


# Throttle keys are the name as typed (capped): an unknown name is counted like a known one.
_MAX_KEY = 256


async def authenticate(conn: Conn, request: Request, username: str, password: str) -> User | None:
    """The user row if the password matches (argon2 runs off the loop); failures are audited.

    Raises api.throttle.Throttled (429) while the name or the source address is locked out; known
    and unknown names are counted, locked and answered alike.
    """
    api = state(request)
    source, key = source_of(request), username[:_MAX_KEY]
    try:
        await throttle.begin(conn, api.throttle, key, source, api.clock())
    except throttle.Throttled as exc:
        await audit_store.record(
            conn,
            actor=username[:64],
            actor_id=None,
            role="unknown",
            action="auth:throttled",
            patient_id=None,
            source=source,
            detail={"scope": exc.scope},
        )
        await conn.commit()
        raise
    user = await user_store.get_user_by_username(conn, username)
    # argon2 takes ~50 ms of CPU on purpose: run it in the worker pool, not on the event loop.
    # An unknown name is checked against a dummy hash, so it costs the same time as a known one.
    ok = await run_in_threadpool(verify_password, user.password_hash if user else None, password)
    if not ok or user is None or user.disabled:
        await throttle.failed(conn, api.throttle, key, source, api.clock())
        await audit_store.record(
            conn,
            actor=username[:64],
            actor_id=None,
            role="unknown",
            action="auth:failed",
            patient_id=None,
            source=source,
        )
        await conn.commit()
        return None
    await throttle.succeeded(conn, api.throttle, key, source, api.clock())
    await user_store.touch_login(conn, int(user.id))
    await conn.commit()
    return user


@router.post(
    "/auth/token",
    response_model=TokenOut,
    responses={
        401: {"model": ErrorOut},
        429: {"model": ErrorOut, "description": "too many failed sign-ins; see Retry-After"},
    },
)
async def login_for_token(
    request: Request, conn: Conn, form: Annotated[OAuth2PasswordRequestForm, Depends()]
) -> TokenOut:
    """OAuth2 password flow: a short-lived bearer token (see `expires_in`).

    After 5 failed sign-ins for a name within 15 minutes (or 100 from one address), further attempts
    answer 429 with `Retry-After` (seconds) until the lockout ends; a successful sign-in resets the name.
    """
    user = await authenticate(conn, request, form.username, form.password)
    if user is None:
        raise HTTPException(
            status_code=401, detail="wrong username or password", headers={"WWW-Authenticate": "Bearer"}
        )
    signer = state(request).signer
    token = signer.issue(int(user.id), user.role, "access")
    return TokenOut(access_token=token, expires_in=int(signer.lifetime("access").total_seconds()))


@router.get("/me", response_model=MeOut, responses={401: {"model": ErrorOut}})
async def me(principal: CurrentUser) -> MeOut:
    """The signed-in user, their care teams and (for patients) their patient record."""
    return MeOut(
        id=principal.user_id,
        username=principal.username,
        display_name=principal.display_name,
        role=principal.role,
        care_team_ids=list(principal.team_ids),
        patient_id=principal.patient_id,
    )
