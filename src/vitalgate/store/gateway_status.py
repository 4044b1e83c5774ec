"""The hubs' retained status as last seen by the server (ingest stores it; the worklist reads it)."""

from __future__ import annotations

from datetime import datetime

import psycopg


async def record_gateway_status(
    conn: psycopg.AsyncConnection,
    gateway_id: str,
    *,
    online: bool,
    backlog: int | None,
    last_publish_at: datetime | None,
    seen_at: datetime,
) -> None:
    """Keep a hub's latest status (online/offline, outbox backlog); an older status never overwrites a newer one."""
    await conn.execute(
        """
        INSERT INTO gateways (id, status, last_seen_at, backlog, last_publish_at) VALUES (%s, %s, %s, %s, %s)
        ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, last_seen_at = EXCLUDED.last_seen_at,
            backlog = EXCLUDED.backlog, last_publish_at = COALESCE(EXCLUDED.last_publish_at, gateways.last_publish_at)
        WHERE gateways.last_seen_at IS NULL OR gateways.last_seen_at <= EXCLUDED.last_seen_at
        """,
        (gateway_id, "online" if online else "offline", seen_at, backlog, last_publish_at),
    )
