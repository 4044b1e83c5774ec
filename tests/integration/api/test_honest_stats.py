"""Honest statistics (issue 18 item 2): the meter variant for finger-sticks (no GMI), the CGM variant
only for CGM-like data, every figure withheld with a reason below its stated minimum, and profile
bands only when every local hour holds enough readings."""

from __future__ import annotations

import asyncio
import secrets
from datetime import UTC, datetime, timedelta

import pytest

from tests.support.world import PASSWORD, api_client, reading_row, token
from vitalgate.core.passwords import hash_password
from vitalgate.store import people
from vitalgate.store.db import connect
from vitalgate.store.readings import write_readings


async def _patient(url: str, suffix: str, values: list[tuple[datetime, float]]) -> tuple[int, str]:
    conn = await connect(url)
    async with conn.transaction():
        team = await people.create_care_team(conn, f"Stats {suffix}")
        await people.create_user(
            conn, f"doc-{suffix}", "Doc", "doctor", password_hash=hash_password(PASSWORD), care_team_id=team
        )
        pid = await people.create_patient(conn, f"Stats patient {suffix}", team)
        serial = f"GM-{suffix}"
        await people.bind_device(conn, serial, "glucose_meter", pid, valid_from=datetime.now(UTC) - timedelta(days=100))
        await write_readings(
            conn, [reading_row(serial, "glucose", at, i, glucose_mg_dl=v) for i, (at, v) in enumerate(values)]
        )
    await conn.close()
    return pid, f"doc-{suffix}"


def _cgm(days: float, *, every_min: int = 5) -> list[tuple[datetime, float]]:
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    n = int(days * 24 * 60 / every_min)
    return [(now - timedelta(minutes=every_min * (i + 1)), 120.0 + (i % 40) * 3) for i in range(n)]


@pytest.fixture(scope="module")
def patients(database_url: str) -> dict[str, tuple[int, str]]:
    now = datetime.now(UTC)
    return {
        "two_sticks": asyncio.run(
            _patient(
                database_url,
                "s2" + secrets.token_hex(3),
                [(now - timedelta(hours=3), 48.0), (now - timedelta(days=2), 110.0)],
            )
        ),
        "cgm_full": asyncio.run(_patient(database_url, "cf" + secrets.token_hex(3), _cgm(14))),
        "cgm_short": asyncio.run(_patient(database_url, "cs" + secrets.token_hex(3), _cgm(5))),
    }


async def _stats(url: str, who: tuple[int, str]) -> dict:
    async with api_client(url) as client:
        headers = await token(client, who[1])
        response = await client.get(f"/patients/{who[0]}/statistics", params={"days": 14}, headers=headers)
        assert response.status_code == 200, response.text
        return response.json()["glucose"]


async def test_two_finger_sticks_state_no_gmi_cv_or_ranges(database_url: str, patients) -> None:  # type: ignore[no-untyped-def]
    """Regression: GMI 5.0 %, CV 46.5 % and '50 % of time below 54' were shown from two finger-sticks."""
    g = await _stats(database_url, patients["two_sticks"])
    assert g["variant"] == "bgm" and g["readings"] == 2 and g["days_with_data"] in (2, 3)
    assert g["gmi_pct"] is None and g["cv_pct"] is None and g["mean_mg_dl"] is None and g["time_in_ranges"] is None
    assert g["lowest_mg_dl"] == 48.0 and g["highest_mg_dl"] == 110.0 and g["readings_per_day"] == pytest.approx(0.1)
    reasons = {w["figure"]: w for w in g["withheld"]}
    assert reasons["gmi"]["code"] == "not_for_meter_data"
    assert reasons["readings_in_ranges"]["reason"] == "2 meter readings; % of readings in ranges, mean and CV need ≥ 14"


async def test_cgm_with_14_days_gets_time_based_figures_and_gmi(database_url: str, patients) -> None:  # type: ignore[no-untyped-def]
    g = await _stats(database_url, patients["cgm_full"])
    assert g["variant"] == "cgm" and g["ranges_basis"] == "time" and g["coverage_pct"] > 95
    assert g["gmi_pct"] == pytest.approx(3.31 + 0.02392 * g["mean_mg_dl"], abs=0.06) and g["withheld"] == []
    assert g["time_in_ranges"]["in_range_pct"] > 0


async def test_cgm_covering_5_of_14_days_withholds_ranges_and_gmi(database_url: str, patients) -> None:  # type: ignore[no-untyped-def]
    g = await _stats(database_url, patients["cgm_short"])
    assert g["variant"] == "cgm" and 30 < g["coverage_pct"] < 40
    assert g["gmi_pct"] is None and g["time_in_ranges"] is None and g["mean_mg_dl"] is None
    assert {w["code"] for w in g["withheld"]} == {"coverage_below_minimum", "cgm_days_below_minimum"}


async def test_profile_bands_only_when_every_hour_has_readings(database_url: str, patients) -> None:  # type: ignore[no-untyped-def]
    async with api_client(database_url) as client:
        for key, banded in (("cgm_full", True), ("two_sticks", False)):
            pid, user = patients[key]
            headers = await token(client, user)
            profile = (await client.get(f"/patients/{pid}/daily-profile", headers=headers)).json()
            assert (profile["bands_withheld"] is None) is banded, key
            assert all((h["p05"] is not None) is banded for h in profile["hours"])
            if not banded:
                assert profile["meal_slots"] and sum(s["n"] for s in profile["meal_slots"]) == 2
