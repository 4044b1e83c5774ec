"""Staff edit a patient's record on the page (issue 14 item 1), in headless Chromium.

A doctor types an unknown zone: the page answers with the error next to the field and keeps what
was typed; with Asia/Shanghai and zh-Hans the record saves (audited), the patient page labels
times in Shanghai time and the patient's own page turns Chinese. Screenshots in test-artifacts/.
"""

from __future__ import annotations

import secrets

import pytest

from tests.support.world import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, PASSWORD, World, seed_world, served_app
from vitalgate.store.db import connect

playwright_api = pytest.importorskip(
    "playwright.async_api", reason="playwright is not installed (pip install playwright)"
)
pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason=f"{CHROMIUM} missing: apt-get install -y chromium (Playwright's own browsers are not used)",
)


@pytest.fixture(scope="module")
def world(database_url: str) -> World:
    return seed_world(database_url, "rec" + secrets.token_hex(3))


async def _login(page, base: str, username: str) -> None:  # type: ignore[no-untyped-def]
    await page.goto(f"{base}/ui/login")
    await page.fill("input[name=username]", username)
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")


async def _audit_changes(database_url: str, patient_id: int) -> list[dict]:
    conn = await connect(database_url)
    try:
        cur = await conn.execute(
            "SELECT detail FROM audit_log WHERE patient_id = %s AND action = 'change:record' ORDER BY id", (patient_id,)
        )
        return [row["detail"] for row in await cur.fetchall()]
    finally:
        await conn.close()


async def test_staff_edit_zone_and_language_and_the_pages_follow(database_url: str, world: World) -> None:
    pid = world.patients["p1"]
    ARTIFACTS.mkdir(exist_ok=True)
    async with served_app(database_url) as base, playwright_api.async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            staff = await browser.new_page(
                viewport={"width": 1200, "height": 1400}, extra_http_headers={"Accept-Language": "en"}
            )
            await _login(staff, base, world.users["doctor_a"])
            await staff.wait_for_url(f"{base}/ui/worklist")
            await staff.goto(f"{base}/ui/patients/{pid}")
            await staff.click("#edit-record")
            await staff.wait_for_url(f"{base}/ui/patients/{pid}/record")

            await staff.fill("input[name=time_zone]", "Mars/Olympus_Mons")
            await staff.select_option("select[name=language]", "zh-Hans")
            await staff.fill("input[name=phone]", "+8613800000000")
            await staff.click("#record-form button[type=submit]")
            error = staff.locator("#time_zone-error")
            assert "Unknown time zone" in await error.inner_text()
            # What was typed is kept, the error sits next to its field, nothing was saved.
            assert await staff.input_value("input[name=time_zone]") == "Mars/Olympus_Mons"
            assert await staff.input_value("select[name=language]") == "zh-Hans"
            assert await staff.input_value("input[name=phone]") == "+8613800000000"
            assert await staff.get_attribute("input[name=time_zone]", "aria-describedby") == "time_zone-error"
            assert await _audit_changes(database_url, pid) == []
            await staff.screenshot(path=str(ARTIFACTS / "record-edit-error.png"), full_page=True)

            await staff.fill("input[name=time_zone]", "Asia/Shanghai")
            await staff.click("#record-form button[type=submit]")
            await staff.wait_for_url(f"{base}/ui/patients/{pid}?done=record*")
            assert "Record saved." in await staff.locator("main").inner_text()
            record = await staff.locator("#record").inner_text()
            assert "Simplified Chinese" in record and "+8613800000000" in record
            assert "Asia/Shanghai" in await staff.locator("footer").inner_text()
            assert len(await _audit_changes(database_url, pid)) == 1
            await staff.screenshot(path=str(ARTIFACTS / "record-edit-saved.png"), full_page=True)

            # The patient's own page follows their record's language (their browser asks for English).
            patient = await browser.new_page(extra_http_headers={"Accept-Language": "en-US,en;q=0.9"})
            await _login(patient, base, world.users["p1"])
            await patient.wait_for_url(f"{base}/ui/me")
            assert await patient.locator("html").get_attribute("lang") == "zh-Hans"
            assert "我的设备" in await patient.locator("main").inner_text()
        finally:
            await browser.close()
