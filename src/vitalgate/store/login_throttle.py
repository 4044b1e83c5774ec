"""Failed sign-in counters per login name and per source address (table login_throttle, 0006)."""

from __future__ import annotations

from datetime import datetime, timedelta

import psycopg

from vitalgate.store.db import scalar

# One atomic statement per attempt: count it *before* the password is checked, so parallel
# guesses cannot slip past the limit while argon2 runs. A row whose window or lock is over
# starts afresh; a row over the limit gets (or keeps) its lock.
_BEGIN = """
INSERT INTO login_throttle AS t (scope, key, failures, window_start)
VALUES (%(scope)s, %(key)s, 1, %(now)s)
ON CONFLICT (scope, key) DO UPDATE SET
    failures = CASE
        WHEN t.locked_until > %(now)s THEN t.failures
        WHEN t.window_start <= %(now)s - %(window)s OR t.locked_until <= %(now)s THEN 1
        ELSE t.failures + 1 END,
    window_start = CASE
        WHEN t.locked_until > %(now)s THEN t.window_start
        WHEN t.window_start <= %(now)s - %(window)s OR t.locked_until <= %(now)s THEN %(now)s
        ELSE t.window_start END,
    locked_until = CASE
        WHEN t.locked_until > %(now)s THEN t.locked_until
        WHEN t.window_start <= %(now)s - %(window)s OR t.locked_until <= %(now)s THEN NULL
        WHEN t.failures + 1 > %(max)s THEN %(now)s + %(lockout)s
        ELSE NULL END
RETURNING locked_until
"""


async def begin_attempt(
    conn: psycopg.AsyncConnection,
    scope: str,
    key: str,
    *,
    now: datetime,
    window: timedelta,
    max_failures: int,
    lockout: timedelta,
) -> datetime | None:
    """Count one attempt; the lock's end if this key is locked out (the attempt is refused), else None."""
    locked_until = await scalar(
        conn,
        _BEGIN,
        {"scope": scope, "key": key, "now": now, "window": window, "max": max_failures, "lockout": lockout},
    )
    return locked_until if locked_until is not None and locked_until > now else None


async def record_failure(
    conn: psycopg.AsyncConnection, scope: str, key: str, *, now: datetime, max_failures: int, lockout: timedelta
) -> datetime | None:
    """After a failed attempt (already counted): lock the key once it reached the limit; the lock's end."""
    locked_until: datetime | None = await scalar(
        conn,
        "UPDATE login_throttle SET locked_until = %(now)s + %(lockout)s"
        " WHERE scope = %(scope)s AND key = %(key)s AND failures >= %(max)s"
        "   AND (locked_until IS NULL OR locked_until <= %(now)s)"
        " RETURNING locked_until",
        {"scope": scope, "key": key, "now": now, "lockout": lockout, "max": max_failures},
    )
    return locked_until


async def record_success(
    conn: psycopg.AsyncConnection, username: str, source: str | None, *, now: datetime, window: timedelta
) -> None:
    """A correct password: the name's counter starts over; the address gets its attempt back; stale rows go."""
    await conn.execute("DELETE FROM login_throttle WHERE scope = 'username' AND key = %s", (username,))
    if source is not None:
        # Not a reset: one valid account must not wipe an address's record of guesses at others.
        await conn.execute(
            "UPDATE login_throttle SET failures = greatest(failures - 1, 0)"
            " WHERE scope = 'source' AND key = %s AND (locked_until IS NULL OR locked_until <= %s)",
            (source, now),
        )
    await conn.execute(
        "DELETE FROM login_throttle WHERE window_start <= %(now)s - %(window)s"
        " AND (locked_until IS NULL OR locked_until <= %(now)s)",
        {"now": now, "window": window},
    )
