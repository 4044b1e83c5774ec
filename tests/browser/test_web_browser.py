"""The web pages in headless Chromium (Debian's package, driven by Playwright): worklist, charts, pairing."""

from __future__ import annotations

import secrets
import time

import pytest

from tests.support.claims import register_claim
from tests.support.world import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, PASSWORD, World, seed_world, served_app

playwright_api = pytest.importorskip(
    "playwright.async_api", reason="playwright is not installed (pip install playwright)"
)
pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason=f"{CHROMIUM} missing: apt-get install -y chromium (Playwright's own browsers are not used)",
)


@pytest.fixture(scope="module")
def world(database_url: str) -> World:
    return seed_world(database_url, "web" + secrets.token_hex(3))


async def _login(page, base: str, username: str) -> None:  # type: ignore[no-untyped-def]
    await page.goto(f"{base}/ui/login")
    await page.fill("input[name=username]", username)
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")


async def test_coordinator_works_the_worklist_and_reads_charts(database_url: str, world: World) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    async with served_app(database_url) as base, playwright_api.async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            page = await browser.new_page(viewport={"width": 1360, "height": 900})
            await page.goto(f"{base}/ui/worklist")
            assert "/ui/login" in page.url  # not signed in: sent to the login page
            await _login(page, base, world.users["coord_a"])
            await page.wait_for_url(f"{base}/ui/worklist")
            rows = page.locator("table.worklist tbody tr[data-task]")
            ids = [int(x) for x in await rows.evaluate_all("rows => rows.map(r => r.dataset.task)")]
            assert (
                world.tasks["urgent_p1"] == ids[0] and world.tasks["urgent_p3"] not in ids
            )  # urgent first; other team hidden
            urgent = page.locator(f"#task-{world.tasks['urgent_p1']}")
            assert "is-overdue" in (await urgent.get_attribute("class") or "")
            assert "insulin" in await urgent.inner_text()
            await page.screenshot(path=str(ARTIFACTS / "worklist.png"), full_page=True)

            # Record an outcome with one selection and one click.
            row = page.locator(f"#task-{world.tasks['routine_p1']}")
            await row.locator("select[name=outcome]").select_option("reached")
            await row.locator("form.outcome button").click()
            await page.wait_for_url("**/ui/worklist?done=outcome*")
            assert "Outcome recorded" in await page.locator(".notice.ok").inner_text()
            assert await page.locator(f"#task-{world.tasks['routine_p1']}").count() == 0
            assert "Reached" in await page.locator("section", has_text="Recently closed").inner_text()
            await page.screenshot(path=str(ARTIFACTS / "worklist-after-outcome.png"), full_page=True)

            # Open the patient's charts from the worklist.
            started = time.perf_counter()
            await page.locator(f"#task-{world.tasks['urgent_p1']} a.patient").click()
            await page.wait_for_url(f"{base}/ui/patients/{world.patients['p1']}")
            await page.wait_for_selector("#bp-chart .uplot canvas")
            load_s = time.perf_counter() - started
            # Glucose and blood pressure; four finger-sticks a day get meal-time summaries, not percentile bands.
            assert await page.locator(".uplot").count() == 2
            text = await page.locator("main").inner_text()
            assert "Anna Berg" in text and "GMI is estimated from CGM data only" in text and "70–180" in text
            assert "Readings by meal time" in text and "GM-p1-" in text
            await page.screenshot(path=str(ARTIFACTS / "patient-charts.png"), full_page=True)
            print(f"patient page with a year of readings: {load_s:.2f} s to charts drawn")

            # A coordinator of team A cannot open a team B patient.
            response = await page.goto(f"{base}/ui/patients/{world.patients['p3']}")
            assert response is not None and response.status == 404
        finally:
            await browser.close()


async def test_patient_pairs_a_device_with_the_claim_code(database_url: str, world: World) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    serial = world.serials["unbound"]
    code = await register_claim(database_url, serial)  # what the device's hub did when it paired it
    async with served_app(database_url) as base, playwright_api.async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            page = await browser.new_page(viewport={"width": 1100, "height": 900})
            await _login(page, base, world.users["p2"])
            await page.wait_for_url(f"{base}/ui/me")
            assert "No devices paired" in await page.locator("#devices").inner_text()
            await page.fill("input[name=claim_code]", "0000-0000-0000")
            await page.click("form.pair button[type=submit]")
            # The error sits next to the field, which keeps what was typed.
            assert "no device with this claim code" in (await page.locator("#pair-error").inner_text()).lower()
            assert await page.input_value("input[name=claim_code]") == "0000-0000-0000"
            assert await page.get_attribute("input[name=claim_code]", "aria-invalid") == "true"
            await page.fill("input[name=claim_code]", code.lower())
            await page.click("form.pair button[type=submit]")
            await page.wait_for_url("**/ui/me?done=paired*")
            assert "Waiting for the first reading" in await page.locator("#devices .notice.ok").inner_text()
            # Once paired, device details leave the main view (folded away), still one click off.
            assert not await page.locator("#devices table").is_visible()
            assert serial in (await page.locator("#devices table").text_content() or "")
            await page.screenshot(path=str(ARTIFACTS / "patient-paired.png"), full_page=True)
            # A patient never reaches staff pages.
            await page.goto(f"{base}/ui/worklist")
            assert page.url.endswith("/ui/me")
        finally:
            await browser.close()
