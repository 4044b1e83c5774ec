"""Randomisation seeds and arm allocations (migration 0017): written once, never updated (the table refuses it)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import class_row
from psycopg.types.json import Jsonb

from vitalgate.store.db import scalar
from vitalgate.store.program_rows import ALLOCATION_COLUMNS, Allocation, Randomisation

_RANDOMISATION_COLUMNS = "program_id, seed, block_size, arms, covariates, created_at, created_by"


async def randomisation(conn: psycopg.AsyncConnection, program_id: str) -> Randomisation | None:
    async with conn.cursor(row_factory=class_row(Randomisation)) as cur:
        await cur.execute(
            f"SELECT {_RANDOMISATION_COLUMNS} FROM program_randomisations WHERE program_id = %s", (program_id,)
        )
        return await cur.fetchone()


async def ensure_randomisation(
    conn: psycopg.AsyncConnection,
    program_id: str,
    *,
    seed: int,
    block_size: int,
    arms: Sequence[str],
    covariates: Sequence[str],
    at: datetime,
    by: str,
) -> Randomisation:
    """The program's recorded randomisation; the first call records this one (later calls return the first)."""
    await conn.execute(
        "INSERT INTO program_randomisations (program_id, seed, block_size, arms, covariates, created_at, created_by)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (program_id) DO NOTHING",
        (program_id, seed, block_size, list(arms), list(covariates), at, by),
    )
    found = await randomisation(conn, program_id)
    assert found is not None
    return found


async def lock_program(conn: psycopg.AsyncConnection, program_id: str) -> None:
    """Serialise allocations of one program (block positions are counted per stratum)."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtext('allocate:' || %s))", (program_id,))


async def allocation(conn: psycopg.AsyncConnection, program_id: str, patient_id: int) -> Allocation | None:
    async with conn.cursor(row_factory=class_row(Allocation)) as cur:
        await cur.execute(
            f"SELECT {ALLOCATION_COLUMNS} FROM program_allocations WHERE program_id = %s AND patient_id = %s",
            (program_id, patient_id),
        )
        return await cur.fetchone()


async def allocations(conn: psycopg.AsyncConnection, program_id: str) -> list[Allocation]:
    async with conn.cursor(row_factory=class_row(Allocation)) as cur:
        await cur.execute(
            f"SELECT {ALLOCATION_COLUMNS} FROM program_allocations WHERE program_id = %s ORDER BY allocated_at, patient_id",
            (program_id,),
        )
        return await cur.fetchall()


async def stratum_count(conn: psycopg.AsyncConnection, program_id: str, stratum: str) -> int:
    """How many patients of this stratum were allocated so far (the next one's sequence number)."""
    n = await scalar(
        conn, "SELECT count(*) FROM program_allocations WHERE program_id = %s AND stratum = %s", (program_id, stratum)
    )
    return int(n or 0)


async def insert(
    conn: psycopg.AsyncConnection,
    *,
    program_id: str,
    patient_id: int,
    arm: str,
    stratum: str,
    block_index: int,
    position: int,
    covariates: dict[str, Any],
    at: datetime,
    by: str,
) -> Allocation:
    async with conn.cursor(row_factory=class_row(Allocation)) as cur:
        await cur.execute(
            "INSERT INTO program_allocations (program_id, patient_id, arm, stratum, block_index, position, covariates,"
            f" allocated_at, allocated_by) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING {ALLOCATION_COLUMNS}",
            (program_id, patient_id, arm, stratum, block_index, position, Jsonb(covariates), at, by),
        )
        row = await cur.fetchone()
    assert row is not None
    return row
