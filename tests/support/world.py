"""Test support for the API and web tests: a seeded world of two care teams, and serving the app."""

from __future__ import annotations

import asyncio
import contextlib
import math
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from psycopg.types.json import Jsonb
from pydantic import SecretStr

from vitalgate.api.app import create_app
from vitalgate.app.embedded import free_port
from vitalgate.core.passwords import hash_password
from vitalgate.core.settings import Settings
from vitalgate.followup.tasks import open_task_for_alert
from vitalgate.store import alerts as alert_store
from vitalgate.store import people
from vitalgate.store.db import connect, make_pool
from vitalgate.store.readings import STAGING_COLUMNS, write_readings

PASSWORD = "correct-horse-battery-staple"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@dataclass
class World:
    """Who and what exists: team A (coordinator, doctor, patients p1 p2), team B (coordinator, p3), an admin."""

    suffix: str
    users: dict[str, str] = field(default_factory=dict)  # key -> username
    patients: dict[str, int] = field(default_factory=dict)  # key -> patient id
    teams: dict[str, int] = field(default_factory=dict)
    tasks: dict[str, int] = field(default_factory=dict)
    serials: dict[str, str] = field(default_factory=dict)


def settings() -> Settings:
    return Settings(environment="development", secret_key=SecretStr("test-secret-" + "x" * 40), display_timezone="UTC")


def reading_row(serial: str, kind: str, measured_at: datetime, seq: int, **values: float | None) -> tuple:
    """One staging row (in STAGING_COLUMNS order, by name, so column re-ordering does not break tests)."""
    row = {
        "id": uuid.uuid5(uuid.NAMESPACE_URL, f"{serial}/{seq}"),
        "device_serial": serial,
        "device_kind": "glucose_meter" if kind == "glucose" else "bp_cuff",
        "device_model": "Test",
        "device_manufacturer": "VG",
        "gateway_id": "gw-test",
        "kind": kind,
        "measured_at": measured_at,
        "device_time": measured_at.replace(tzinfo=None),
        "received_at": measured_at,
        "sequence_number": seq,
        "glucose_mg_dl": None,
        "systolic_mmhg": None,
        "diastolic_mmhg": None,
        "map_mmhg": None,
        "pulse_bpm": None,
        "status": [],
        "context": Jsonb({}),
    }
    row.update(values)
    return tuple(row[c] for c in STAGING_COLUMNS)


def year_of_readings(glucose_serial: str, bp_serial: str, now: datetime, days: int = 365) -> list[tuple]:
    """Four finger-sticks and two BP readings a day: a daily glucose wave from ~60 to ~260 mg/dL."""
    rows = []
    for day in range(days):
        base = (now - timedelta(days=day)).replace(hour=0, minute=0, second=0, microsecond=0)
        for i, hour in enumerate((7, 12, 18, 22)):
            at = base + timedelta(hours=hour, minutes=5)
            if at >= now:
                continue
            value = 150 + 100 * math.sin((day * 4 + i) * 0.9) * (0.6 if i else 1.0)
            rows.append(reading_row(glucose_serial, "glucose", at, day * 10 + i, glucose_mg_dl=round(value, 1)))
        for j, hour in enumerate((8, 20)):
            at = base + timedelta(hours=hour)
            if at >= now:
                continue
            sys_, dia = 128 + 12 * math.sin(day * 0.7 + j), 82 + 6 * math.cos(day * 0.5 + j)
            rows.append(
                reading_row(
                    bp_serial,
                    "blood_pressure",
                    at,
                    day * 10 + j,
                    systolic_mmhg=round(sys_, 1),
                    diastolic_mmhg=round(dia, 1),
                    map_mmhg=round(dia + (sys_ - dia) / 3, 1),
                    pulse_bpm=70.0 + j,
                )
            )
    return rows


async def _seed(url: str, suffix: str) -> World:
    world = World(suffix)
    pw = hash_password(PASSWORD)
    now = datetime.now(UTC)
    conn = await connect(url)
    try:
        async with conn.transaction():
            for team in ("a", "b"):
                world.teams[team] = await people.create_care_team(conn, f"Team {team.upper()} {suffix}")
            for key, role, team in (
                ("coord_a", "coordinator", "a"),
                ("doctor_a", "doctor", "a"),
                ("coord_b", "coordinator", "b"),
                ("admin", "admin", None),
            ):
                world.users[key] = f"{key}-{suffix}"
                await people.create_user(
                    conn,
                    world.users[key],
                    key.replace("_", " ").title(),
                    role,
                    password_hash=pw,
                    care_team_id=world.teams[team] if team else None,
                )
            for key, team, name, tags in (
                ("p1", "a", "Anna Berg", ["type-2", "insulin"]),
                ("p2", "a", "Carl Dahl", ["hypertension"]),
                ("p3", "b", "Eva Fors", ["type-1"]),
            ):
                user_id = await people.create_user(conn, f"{key}-{suffix}", name, "patient", password_hash=pw)
                world.users[key] = f"{key}-{suffix}"
                world.patients[key] = await people.create_patient(
                    conn, name, world.teams[team], external_ref=f"ref-{key}-{suffix}", tags=tags, user_id=user_id
                )
            for key in ("p1", "p3"):
                for kind, prefix in (("glucose_meter", "GM"), ("bp_cuff", "BP")):
                    serial = f"{prefix}-{key}-{suffix}"
                    world.serials[f"{key}_{kind}"] = serial
                    await people.bind_device(
                        conn, serial, kind, world.patients[key], valid_from=now - timedelta(days=400)
                    )
            await write_readings(
                conn, year_of_readings(world.serials["p1_glucose_meter"], world.serials["p1_bp_cuff"], now)
            )
            await write_readings(
                conn, year_of_readings(world.serials["p3_glucose_meter"], world.serials["p3_bp_cuff"], now, days=20)
            )
            # A meter that sent readings before anyone paired it.
            world.serials["unbound"] = f"GM-new-{suffix}"
            await write_readings(
                conn,
                [
                    reading_row(
                        world.serials["unbound"], "glucose", now - timedelta(hours=h), h, glucose_mg_dl=110.0 + h
                    )
                    for h in range(1, 4)
                ],
            )
            for key, pkey, severity, summary in (
                ("urgent_p1", "p1", "urgent", "Glucose 48 mg/dL (level 2 hypoglycemia)"),
                ("high_p2", "p2", "high", "Home BP 7-day mean 152/95 mmHg"),
                ("routine_p1", "p1", "routine", "No glucose reading for 3 days"),
                ("urgent_p3", "p3", "urgent", "Glucose 41 mg/dL"),
            ):
                alert = await alert_store.open_or_update_alert(
                    conn,
                    patient_id=world.patients[pkey],
                    rule_id=f"test-{key}",
                    severity=severity,
                    dedup_key=f"test-{key}-{suffix}",
                    summary=summary,
                    evidence={},
                    now=now - timedelta(hours=1),
                )
                opened = await open_task_for_alert(
                    conn,
                    alert_id=alert.alert_id,
                    patient_id=world.patients[pkey],
                    severity=severity,
                    title=summary,
                    now=now - timedelta(hours=1),
                )
                assert opened is not None
                world.tasks[key] = opened.task_id
    finally:
        await conn.close()
    return world


def seed_world(url: str, suffix: str) -> World:
    """Seed on a private event loop (usable from a sync, module-scoped fixture)."""
    return asyncio.run(_seed(url, suffix))


@contextlib.asynccontextmanager
async def api_client(url: str) -> AsyncIterator[httpx.AsyncClient]:
    """The app over ASGITransport (no sockets), with its pool opened for the test."""
    pool = make_pool(url, max_size=4)
    await pool.open()
    try:
        app = create_app(url, settings=settings(), pool=pool)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
            yield client
    finally:
        await pool.close()


async def token(client: httpx.AsyncClient, username: str, password: str = PASSWORD) -> dict[str, str]:
    """Authorization header for a user (OAuth2 password flow)."""
    response = await client.post("/auth/token", data={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


@contextlib.asynccontextmanager
async def served_app(url: str, app_settings: Settings | None = None) -> AsyncIterator[str]:
    """uvicorn as `vitalgate api serve` runs it, on a free 127.0.0.1 port, as a task on this loop; yields the base URL."""
    import uvicorn

    from vitalgate.api.app import uvicorn_config

    port = free_port()
    app = create_app(url, settings=app_settings or settings())
    server = uvicorn.Server(uvicorn_config(app, "127.0.0.1", port, log_level="warning"))
    task = asyncio.create_task(server.serve())
    try:
        for _ in range(200):
            if server.started:
                break
            if task.done():
                task.result()
            await asyncio.sleep(0.05)
        else:
            raise RuntimeError("uvicorn did not start")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
