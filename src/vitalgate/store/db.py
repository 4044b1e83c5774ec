"""Connections: one place that knows how VitalGate opens PostgreSQL."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row, tuple_row
from psycopg_pool import AsyncConnectionPool

Query = str | sql.SQL | sql.Composed
Params = Sequence[Any] | Mapping[str, Any]


async def connect(url: str, *, autocommit: bool = False) -> psycopg.AsyncConnection[Any]:
    """A single async connection with dict rows (the store's own queries pick their row type per cursor)."""
    conn: psycopg.AsyncConnection[Any] = await psycopg.AsyncConnection.connect(
        url, autocommit=autocommit, row_factory=dict_row
    )
    return conn


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


async def scalar(conn: psycopg.AsyncConnection, query: Query, params: Params | None = None) -> Any:
    """The first column of the first row, or None when there is no row (whatever the connection's row factory)."""
    async with conn.cursor(row_factory=tuple_row) as cur:
        await cur.execute(query, params)
        row = await cur.fetchone()
    return None if row is None else row[0]


async def column(conn: psycopg.AsyncConnection, query: Query, params: Params | None = None) -> list[Any]:
    """The first column of every row."""
    async with conn.cursor(row_factory=tuple_row) as cur:
        await cur.execute(query, params)
        return [row[0] for row in await cur.fetchall()]
