"""A patient in a care team with a nurse, on the session database, for questionnaire tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

import psycopg
import pytest

from tests.support.clinic import seed_team
from vitalgate.store import people
from vitalgate.store.db import connect

# A fixed instant: nothing here depends on the wall clock (quiet hours, day boundaries).
NOW = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Clinic:
    team: int
    nurse: int
    patient: int


@pytest.fixture
async def conn(database_url: str) -> AsyncIterator[psycopg.AsyncConnection]:
    connection = await connect(database_url)
    try:
        yield connection
    finally:
        await connection.close()


@pytest.fixture
async def clinic(conn: psycopg.AsyncConnection, unique: str) -> Clinic:
    async with conn.transaction():
        ids = await seed_team(conn, unique)
        patient = await people.create_patient(conn, "Questionnaire Patient", ids["team"], external_ref=f"q-{unique}")
    return Clinic(ids["team"], ids["nurse"], patient)
