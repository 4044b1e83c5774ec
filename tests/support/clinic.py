"""Helpers shared by the alerts/follow-up scenario tests (no tests here)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import NAMESPACE_URL, uuid5

import psycopg

from vitalgate.store import people
from vitalgate.store import readings as reading_store
from vitalgate.store.db import connect
from vitalgate.store.readings import STAGING_COLUMNS, StoredReading, write_readings


def _context(value: dict[str, Any]) -> Any:
    """Binary COPY (STAGING_TYPES present) takes a dict for jsonb; text COPY takes JSON text."""
    return value if hasattr(reading_store, "STAGING_TYPES") else json.dumps(value)


def sim_start(days_ago: int = 60) -> datetime:
    """A simulated start inside the readings partitions (they cover the past year)."""
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    return (now - timedelta(days=days_ago)).replace(hour=0)


async def seed_team(conn: psycopg.AsyncConnection, unique: str, *, doctor: bool = True) -> dict[str, int]:
    team = await people.create_care_team(conn, f"team-{unique}")
    ids = {
        "team": team,
        "nurse": await people.create_user(conn, f"nurse-{unique}", "Nurse", "nurse", care_team_id=team),
    }
    if doctor:
        ids["doctor"] = await people.create_user(conn, f"doc-{unique}", "Doctor", "doctor", care_team_id=team)
    return ids


async def add_patient(
    conn: psycopg.AsyncConnection, team: int, ref: str, *, device: str, start: datetime, tags: list[str] | None = None
) -> tuple[int, str]:
    """A patient with one device bound since `start`; returns (patient id, serial)."""
    patient = await people.create_patient(conn, "Scenario Patient", team, external_ref=ref, tags=tags or [])
    serial = f"SER-{ref}"
    await people.bind_device(conn, serial, device, patient, valid_from=start)
    return patient, serial


def glucose(at: datetime, mg_dl: float, meal: str | None = None) -> dict[str, Any]:
    return {"kind": "glucose", "measured_at": at, "glucose_mg_dl": mg_dl, "context": {"meal": meal} if meal else {}}


def bp(at: datetime, systolic: float, diastolic: float) -> dict[str, Any]:
    return {
        "kind": "blood_pressure",
        "measured_at": at,
        "systolic_mmhg": systolic,
        "diastolic_mmhg": diastolic,
        "map_mmhg": round(diastolic + (systolic - diastolic) / 3, 1),
        "pulse_bpm": 70.0,
    }


async def write(database_url: str, serial: str, items: list[dict[str, Any]]) -> list[StoredReading]:
    """Store readings through store.readings.write_readings (the ingest path), committed."""
    rows = []
    for item in items:
        at: datetime = item["measured_at"]
        device_kind = "glucose_meter" if item["kind"] == "glucose" else "bp_cuff"
        values = {
            "id": uuid5(NAMESPACE_URL, f"{serial}/{at.isoformat()}/{item['kind']}"),
            "device_serial": serial,
            "device_kind": device_kind,
            "gateway_id": "gw-scenario",
            "measured_at": at,
            "device_time": at.replace(tzinfo=None),
            "received_at": at,
            "sequence_number": None,
            "status": [],
            **item,
            "context": _context(item.get("context") or {}),
        }
        rows.append(tuple(values.get(c) for c in STAGING_COLUMNS))
    conn = await connect(database_url)
    try:
        async with conn.transaction():
            return await write_readings(conn, rows)
    finally:
        await conn.close()


async def fetch(database_url: str, sql: str, *params: Any) -> list[dict[str, Any]]:
    conn = await connect(database_url)
    try:
        return list(await (await conn.execute(sql, params)).fetchall())
    finally:
        await conn.close()
