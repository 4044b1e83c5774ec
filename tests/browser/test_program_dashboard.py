"""The program dashboard in Chromium: funnel, arm comparison, trends and balance table render; CSV downloads."""

from __future__ import annotations

import secrets

import pytest

from tests.support.clinic import sim_start
from tests.support.program_sim import simulate
from tests.support.world import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, PASSWORD, served_app
from vitalgate.core.passwords import hash_password
from vitalgate.programs.definitions import shipped_programs
from vitalgate.store import people
from vitalgate.store.db import connect
from vitalgate.store.program_kpis import refresh_reading_days

playwright_api = pytest.importorskip("playwright.async_api", reason="playwright is not installed")
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} missing: apt-get install -y chromium")


async def test_program_dashboard_renders_and_exports(database_url: str) -> None:
    unique = secrets.token_hex(4)
    ARTIFACTS.mkdir(exist_ok=True)
    program = shipped_programs()["hypertension-12w"]
    conn = await connect(database_url)
    try:
        log = await simulate(conn, program, patients=60, start=sim_start(130), unique=unique, p_answer=0.7)
        nurse = f"pd-nurse-{unique}"
        team = next(iter(log.staff))
        await people.create_user(
            conn, nurse, "Nurse", "nurse", password_hash=hash_password(PASSWORD), care_team_id=team
        )
        await conn.commit()
        await conn.set_autocommit(True)
        await refresh_reading_days(conn, log.end)
    finally:
        await conn.close()
    period = f"from={log.start:%Y-%m-%d}&to={log.end:%Y-%m-%d}"
    async with served_app(database_url) as base, playwright_api.async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            page = await browser.new_page(viewport={"width": 1280, "height": 900})
            await page.goto(f"{base}/ui/login")
            await page.fill("input[name=username]", nurse)
            await page.fill("input[name=password]", PASSWORD)
            await page.click("button[type=submit]")
            await page.goto(f"{base}/ui/programs")
            await page.click(f"text={program.name}")
            await page.goto(f"{base}/ui/programs/{program.id}?{period}")
            assert await page.locator("h1").inner_text() == program.name
            for section in ("#funnel svg", "#arms svg", "#trends svg", "#balance svg"):
                assert await page.locator(section).count() >= 1, section
            funnel = await page.locator("#funnel-table").inner_text()
            assert "sms" in funnel and "phone" in funnel and "app" in funnel
            kpis = await page.locator("#kpi-table").inner_text()
            assert "follow-up acceptance" in kpis and "arm=experiment" in kpis and "wilson" in kpis
            assert await page.locator("#balance-table tbody tr").count() >= 5
            await page.screenshot(path=str(ARTIFACTS / "program-dashboard.png"), full_page=True)
            async with page.expect_download() as download:
                await page.click("#csv")
            path = await (await download.value).path()
            text = path.read_text(encoding="utf-8")
            assert text.startswith("section,name,group,value") and "balance" in text
        finally:
            await browser.close()
