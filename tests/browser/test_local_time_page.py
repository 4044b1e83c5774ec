"""A Shanghai patient's page in headless Chromium: 07:30 readings at 07:30, labelled, with the viewer's time."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, time, timedelta

import pytest

from tests.support.world import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, PASSWORD, World, reading_row, seed_world, served_app
from vitalgate.core.localtime import to_instant
from vitalgate.store import time_zones
from vitalgate.store.db import connect
from vitalgate.store.readings import write_readings

playwright_api = pytest.importorskip(
    "playwright.async_api", reason="playwright is not installed (pip install playwright)"
)
pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason=f"{CHROMIUM} missing: apt-get install -y chromium (Playwright's own browsers are not used)",
)
SH = "Asia/Shanghai"


@pytest.fixture(scope="module")
def world(database_url: str) -> World:
    return seed_world(database_url, "ltweb" + secrets.token_hex(3))


async def test_shanghai_patient_profile_shows_0730_readings(database_url: str, world: World) -> None:
    pid, now = world.patients["p3"], datetime.now(UTC)
    today = now.astimezone(UTC).date()
    mornings = [to_instant(today - timedelta(days=d), time(7, 30), SH) for d in range(1, 15)]
    conn = await connect(database_url)
    async with conn.transaction():
        await time_zones.set_patient_time_zone(conn, pid, SH, valid_from=now - timedelta(days=60), now=now, actor="t")
        await conn.execute("DELETE FROM readings WHERE patient_id = %s", (pid,))
        await conn.execute("SELECT readings_daily_rebuild(%s, NULL)", (pid,))
        serial = world.serials["p3_glucose_meter"]
        await write_readings(
            conn,
            [reading_row(serial, "glucose", t, 7000 + i, glucose_mg_dl=110.0 + 3 * i) for i, t in enumerate(mornings)],
        )
    await conn.close()
    ARTIFACTS.mkdir(exist_ok=True)
    async with served_app(database_url) as base, playwright_api.async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            page = await browser.new_page(viewport={"width": 1360, "height": 900})
            await page.goto(f"{base}/ui/login")
            await page.fill("input[name=username]", world.users["coord_b"])
            await page.fill("input[name=password]", PASSWORD)
            await page.click("button[type=submit]")
            await page.wait_for_url(f"{base}/ui/worklist")
            await page.goto(f"{base}/ui/patients/{pid}")
            # only glucose readings: the blood-pressure panel is hidden (empty panels are), so wait for glucose
            await page.wait_for_selector("#glucose-chart .uplot canvas")
            text = await page.locator("main").inner_text()
            assert "07:30 CST" in text  # the readings table, in the patient's zone
            footer = await page.locator("footer").inner_text()
            assert "patient's local time (CST, Asia/Shanghai)" in footer and "yours (UTC)" in footer
            hours = await page.evaluate("JSON.parse(document.getElementById('chart-data').textContent).profile[0]")
            assert hours == [7]  # the daily profile: every reading in the 07:00 hour, local
            await page.screenshot(path=str(ARTIFACTS / "patient-shanghai-0730.png"), full_page=True)
        finally:
            await browser.close()
