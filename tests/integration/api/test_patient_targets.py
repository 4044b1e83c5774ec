"""Per-patient target ranges drive the in-range figures, the range legend and the charts' band (issue 14 item 1).

Regression (failed before): the statistics, the patient page and the charts counted 70–180 mg/dL
for everybody, whatever target range the record held. Here an older adult's range is raised to
100–180 mg/dL — ADA Standards of Care in Diabetes 2024, §13 Older Adults, Table 13.1 (older adults
with complex/intermediate health: bedtime glucose 100–180 mg/dL), hypoglycaemia still < 70 mg/dL
(level 1; ADA §6) — on the older-adult preset (Battelino et al., Diabetes Care 2019: in range > 50 %).
"""

from __future__ import annotations

import json
import re
import secrets
from datetime import UTC, datetime, timedelta

import httpx

from tests.support.world import PASSWORD, api_client, reading_row, token
from vitalgate.core.passwords import hash_password
from vitalgate.store import patient_record, people
from vitalgate.store.db import connect
from vitalgate.store.readings import write_readings


async def _patient(url: str, suffix: str) -> tuple[int, str]:
    """20 finger-sticks over 10 days (whole hours before now, so the time of day plays no part): 10 at
    90 mg/dL, 10 at 150 mg/dL."""
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    values = [(now - timedelta(hours=12 * (i + 1)), 90.0 if i % 2 else 150.0) for i in range(20)]
    conn = await connect(url)
    async with conn.transaction():
        team = await people.create_care_team(conn, f"Targets {suffix}")
        await people.create_user(
            conn, f"doc-{suffix}", "Doc", "doctor", password_hash=hash_password(PASSWORD), care_team_id=team
        )
        pid = await people.create_patient(conn, f"Targets patient {suffix}", team)
        serial = f"GT-{suffix}"
        await people.bind_device(conn, serial, "glucose_meter", pid, valid_from=now - timedelta(days=100))
        await write_readings(
            conn, [reading_row(serial, "glucose", at, i, glucose_mg_dl=v) for i, (at, v) in enumerate(values)]
        )
    await conn.close()
    return pid, f"doc-{suffix}"


async def _older_adult_100_180(url: str, pid: int) -> None:
    conn = await connect(url)
    async with conn.transaction():
        await patient_record.update_record(
            conn, pid, {"target_preset": "older_adult", "targets": {"range_low_mg_dl": 100.0}}
        )
    await conn.close()


async def _shown(client: httpx.AsyncClient, pid: int, headers: dict[str, str]) -> tuple[dict, dict, str]:
    stats = (await client.get(f"/patients/{pid}/statistics", params={"days": 14}, headers=headers)).json()
    page = (await client.get(f"/ui/patients/{pid}")).text
    match = re.search(r'<script type="application/json" id="chart-data">(.*?)</script>', page, re.S)
    assert match, "no chart data on the page"
    return stats, json.loads(match.group(1)), page


async def test_older_adult_targets_change_the_in_range_share_legend_and_chart_band(database_url: str) -> None:
    pid, doctor = await _patient(database_url, "t" + secrets.token_hex(3))
    async with api_client(database_url) as client:
        headers = await token(client, doctor)
        login = await client.post("/ui/login", data={"username": doctor, "password": PASSWORD})
        assert login.status_code == 303, login.text

        stats, charts, page = await _shown(client, pid, headers)
        ranges = stats["glucose"]["time_in_ranges"]
        assert (ranges["in_range_pct"], ranges["low_pct"]) == (100.0, 0.0)
        standard_targets = stats.get("glucose_targets")
        assert (charts["glucose_ref"]["low"], charts["glucose_ref"]["high"]) == (70.0, 180.0)
        assert "70–180: <b>100.0 %</b>" in page and "(target &gt; 70 %)" in page

        await _older_adult_100_180(database_url, pid)
        stats, charts, page = await _shown(client, pid, headers)
        ranges = stats["glucose"]["time_in_ranges"]
        # The 90 mg/dL readings are now below the patient's range, not in it.
        assert (ranges["in_range_pct"], ranges["low_pct"], ranges["very_low_pct"]) == (50.0, 50.0, 0.0)
        assert stats["glucose_targets"] == {
            "preset": "older_adult",
            "very_low_mg_dl": 54.0,
            "range_low_mg_dl": 100.0,
            "range_high_mg_dl": 180.0,
            "very_high_mg_dl": 250.0,
            "in_range_goal_pct": 50.0,
        }
        assert (charts["glucose_ref"]["low"], charts["glucose_ref"]["high"]) == (100.0, 180.0)
        assert "100–180: <b>50.0 %</b>" in page and "54–99: <b>50.0 %</b>" in page
        assert "(target &gt; 50 %)" in page
        assert standard_targets is not None and standard_targets["range_low_mg_dl"] == 70.0
