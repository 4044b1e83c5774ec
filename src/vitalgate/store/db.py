"""Connections: one place that knows how VitalGate opens PostgreSQL."""

from __future__ import annotations

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool


async def connect(url: str, *, autocommit: bool = False) -> psycopg.AsyncConnection:
    """A single async connection with dict rows."""
    return await psycopg.AsyncConnection.connect(url, autocommit=autocommit, row_factory=dict_row)


def make_pool(url: str, *, min_size: int = 1, max_size: int = 8) -> AsyncConnectionPool:
    """An async pool (open it with `await pool.open()`); `check` drops dead connections."""
    return AsyncConnectionPool(
        url,
        min_size=min_size,
        max_size=max_size,
        kwargs={"row_factory": dict_row},
        check=AsyncConnectionPool.check_connection,
        open=False,
    )
