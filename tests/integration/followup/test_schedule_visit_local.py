"""`vitalgate followup schedule-visit --at` reads an offset-less time in the patient's zone (issue 14 item 4).

Regression (failed before): "--at 2026-10-06T09:00" for a Shanghai patient was read as 09:00 UTC
(17:00 in Shanghai), so every reminder of the chain was 8 hours late.
"""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime

import pytest
from typer.testing import CliRunner

from tests.support.clinic import seed_team
from vitalgate.app import cli_support
from vitalgate.app.cli import app
from vitalgate.store import people, sop, time_zones
from vitalgate.store.db import connect

NOW = datetime(2026, 2, 1, 12, 0, tzinfo=UTC)


async def _patient(database_url: str, unique: str, zone_name: str) -> int:
    conn = await connect(database_url)
    try:
        async with conn.transaction():
            team = await seed_team(conn, f"sv-{zone_name[-5:]}-{unique}")
            patient = await people.create_patient(conn, "V", team["team"], external_ref=f"sv-{zone_name}-{unique}")
            await time_zones.set_patient_time_zone(
                conn, patient, zone_name, valid_from=datetime(2026, 1, 1, tzinfo=UTC), now=NOW, actor="t"
            )
        return patient
    finally:
        await conn.close()


async def _anchor(database_url: str, instance_id: int) -> datetime:
    conn = await connect(database_url)
    try:
        instance = await sop.get_instance(conn, instance_id)
        assert instance is not None
        return instance["anchor_at"].astimezone(UTC)
    finally:
        await conn.close()


def _schedule(database_url: str, patient: int, at: str, chain: str) -> datetime:
    out = CliRunner().invoke(app, ["followup", "schedule-visit", str(patient), "--at", at, "--chain", chain])
    assert out.exit_code == 0, out.output
    match = re.search(r"SOP instance (\d+)", out.output)
    assert match, out.output
    return asyncio.run(_anchor(database_url, int(match.group(1))))


def test_offsetless_visit_times_are_the_patients_wall_clock(
    database_url: str, unique: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VITALGATE_DATABASE_URL", database_url)
    monkeypatch.setenv("VITALGATE_FAKE_NOW", NOW.isoformat())
    monkeypatch.setattr("vitalgate.app.cli_support.configure_logging", lambda *a, **k: None)
    monkeypatch.setattr(cli_support.console, "width", 220)
    shanghai = asyncio.run(_patient(database_url, unique, "Asia/Shanghai"))
    new_york = asyncio.run(_patient(database_url, unique, "America/New_York"))
    chain = "visit-reminders"
    assert _schedule(database_url, shanghai, "2026-10-06T09:00", chain) == datetime(2026, 10, 6, 1, 0, tzinfo=UTC)
    # Spring gap: 02:30 on 8 Mar 2026 does not exist in New York -> moved forward to 03:30 EDT.
    assert _schedule(database_url, new_york, "2026-03-08T02:30", chain) == datetime(2026, 3, 8, 7, 30, tzinfo=UTC)
    # Autumn overlap: 01:30 on 1 Nov 2026 happens twice -> the first (EDT, UTC-4).
    assert _schedule(database_url, new_york, "2026-11-01T01:30", chain) == datetime(2026, 11, 1, 5, 30, tzinfo=UTC)
    # An explicit offset or Z is honoured as given.
    assert _schedule(database_url, new_york, "2026-11-01T01:30-05:00", chain) == datetime(
        2026, 11, 1, 6, 30, tzinfo=UTC
    )
    assert _schedule(database_url, shanghai, "2026-10-07T09:00Z", chain) == datetime(2026, 10, 7, 9, 0, tzinfo=UTC)
    helptext = CliRunner().invoke(app, ["followup", "schedule-visit", "--help"], env={"COLUMNS": "200"}).output
    assert "PATIENT's local wall-clock time" in helptext
