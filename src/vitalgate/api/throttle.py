"""Failed sign-in throttling: per login name and per source address, durable in PostgreSQL."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

import psycopg
from fastapi import HTTPException

from vitalgate.store import login_throttle


@dataclass(frozen=True, slots=True)
class ThrottlePolicy:
    """How many failed sign-ins are allowed before attempts are refused, and for how long."""

    # OWASP Authentication Cheat Sheet ("Account Lockout": lockout threshold, observation window,
    # lockout duration) with its worked example of 5 failures in 15 minutes -> 15 minutes; well
    # inside NIST SP 800-63B §5.2.2 (rate limiting), which caps consecutive failures on one
    # account at no more than 100.
    max_failures: int = 5
    window: timedelta = timedelta(minutes=15)
    lockout: timedelta = timedelta(minutes=15)
    # Per source address (one client spraying many names, OWASP "Credential Stuffing Prevention"):
    # NIST's ceiling of 100, high enough for a clinic behind one NAT address.
    max_source_failures: int = 100


class Throttled(HTTPException):
    """429 with Retry-After: too many failed sign-ins for this name or from this address."""

    def __init__(self, scope: str, locked_until: datetime, now: datetime) -> None:
        seconds = max(1, math.ceil((locked_until - now).total_seconds()))
        minutes = math.ceil(seconds / 60)
        who = "for this username" if scope == "username" else "from your network address"
        super().__init__(
            status_code=429,
            detail=f"too many failed sign-ins {who}: try again in {minutes} minute{'s' if minutes != 1 else ''}",
            headers={"Retry-After": str(seconds)},
        )
        self.scope = scope
        self.minutes = minutes


async def begin(
    conn: psycopg.AsyncConnection, policy: ThrottlePolicy, username: str, source: str | None, now: datetime
) -> None:
    """Count this attempt (committed before the password check); Throttled if the name or address is locked."""
    scopes = ([("source", source, policy.max_source_failures)] if source else []) + [
        ("username", username, policy.max_failures)
    ]
    try:
        for scope, key, limit in scopes:
            locked_until = await login_throttle.begin_attempt(
                conn, scope, key, now=now, window=policy.window, max_failures=limit, lockout=policy.lockout
            )
            if locked_until is not None:
                raise Throttled(scope, locked_until, now)
    finally:
        # Committed at once, refused or not, so every API process sees the count.
        await conn.commit()


async def failed(
    conn: psycopg.AsyncConnection, policy: ThrottlePolicy, username: str, source: str | None, now: datetime
) -> None:
    """A wrong password (or unknown name): lock whichever key has reached its limit."""
    await login_throttle.record_failure(
        conn, "username", username, now=now, max_failures=policy.max_failures, lockout=policy.lockout
    )
    if source:
        await login_throttle.record_failure(
            conn, "source", source, now=now, max_failures=policy.max_source_failures, lockout=policy.lockout
        )


async def succeeded(
    conn: psycopg.AsyncConnection, policy: ThrottlePolicy, username: str, source: str | None, now: datetime
) -> None:
    """A correct password resets the name's counter."""
    await login_throttle.record_success(conn, username, source, now=now, window=max(policy.window, policy.lockout))
