"""A patient answers a signed link on a 390 px phone; the coordinator's worklist shows "patient responded"."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

import pytest

from tests.support.world import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, PASSWORD, World, seed_world, served_app
from vitalgate.notify import links
from vitalgate.store import patient_record
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
    return seed_world(database_url, "lnk" + secrets.token_hex(3))


async def _check_in_link(database_url: str, world: World, *, language: str) -> str:
    conn = await connect(database_url)
    async with conn.transaction():
        await patient_record.update_record(conn, world.patients["p2"], {"language": language})
        path = await links.issue_link(
            conn,
            links.LinkPurpose.CHECK_IN,
            patient_id=world.patients["p2"],
            task_id=world.tasks["high_p2"],
            now=datetime.now(UTC),
        )
    await conn.close()
    return path


async def test_patient_answers_on_a_phone_and_the_worklist_shows_patient_responded(
    database_url: str, world: World
) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    path = await _check_in_link(database_url, world, language="zh-Hans")
    async with served_app(database_url) as base, playwright_api.async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            phone = await browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
            page = await phone.new_page()
            await page.goto(base + path)
            assert await page.locator("h1").inner_text() == "您现在感觉怎么样？"
            ok = page.locator("button[value=ok]")
            assert await ok.inner_text() == "我很好"
            # Fits the phone: nothing scrolls sideways; large type and a large target.
            assert await page.evaluate("document.documentElement.scrollWidth") <= 390
            size = await ok.evaluate("b => parseFloat(getComputedStyle(b).fontSize)")
            box = await ok.bounding_box()
            assert size >= 20 and box is not None and box["height"] >= 48 and box["width"] >= 300
            await page.screenshot(path=str(ARTIFACTS / "link-check-in-390.png"), full_page=True)
            await ok.tap()
            await page.wait_for_selector("[data-answer=ok]")
            assert "谢谢" in await page.locator(".notice.ok").inner_text()
            await page.screenshot(path=str(ARTIFACTS / "link-check-in-answered-390.png"), full_page=True)
            await phone.close()

            desk = await browser.new_page(viewport={"width": 1360, "height": 900})
            await desk.goto(f"{base}/ui/login")
            await desk.fill("input[name=username]", world.users["coord_a"])
            await desk.fill("input[name=password]", PASSWORD)
            await desk.click("button[type=submit]")
            await desk.wait_for_url(f"{base}/ui/worklist*")
            await desk.goto(f"{base}/ui/worklist?patient_responded=true&assignee=all")
            row = desk.locator(f"#task-{world.tasks['high_p2']}")
            await row.wait_for()
            assert "Patient responded" in await row.inner_text()
            # The unanswered tasks are not in the "responded" view.
            assert await desk.locator(f"#task-{world.tasks['urgent_p1']}").count() == 0
            await desk.screenshot(path=str(ARTIFACTS / "worklist-patient-responded.png"), full_page=True)
        finally:
            await browser.close()
