"""Rate limits for signed-link requests (/l/...): per client address and per token, durable in PostgreSQL."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

import psycopg
from fastapi import HTTPException

from vitalgate.notify.links import token_key
from vitalgate.store import links as link_store


@dataclass(frozen=True, slots=True)
class LinkRatePolicy:
    """A patient opens and answers a link a handful of times; a sweep for valid tokens needs millions."""

    window: timedelta = timedelta(minutes=10)
    per_source: int = 120  # one clinic or family behind a NAT address opening many links
    per_token: int = 30  # one link reopened, reloaded and answered


class LinkRateLimited(HTTPException):
    def __init__(self, window_start: datetime, window: timedelta, now: datetime) -> None:
        seconds = max(1, math.ceil((window_start + window - now).total_seconds()))
        super().__init__(
            status_code=429, detail="too many requests: try again later", headers={"Retry-After": str(seconds)}
        )


async def check(
    conn: psycopg.AsyncConnection, policy: LinkRatePolicy, token: str, source: str | None, now: datetime
) -> None:
    """Count this request (committed at once, so every API process sees it); 429 when over either limit."""
    scopes = [("token", token_key(token), policy.per_token)]
    if source:
        scopes.insert(0, ("source", source, policy.per_source))
    try:
        for scope, key, limit in scopes:
            hits, start = await link_store.count_hit(conn, scope, key, now=now, window=policy.window)
            if hits > limit:
                raise LinkRateLimited(start, policy.window, now)
    finally:
        await conn.commit()
