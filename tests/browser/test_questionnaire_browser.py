"""The enrolment questionnaire at 390 px in Chinese through a signed link, then the result on the staff page."""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime

import pytest

from tests.integration.questionnaires.test_completion import INTAKE
from tests.support.world import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, PASSWORD, served_app
from vitalgate.core.passwords import hash_password
from vitalgate.domain import LinkPurpose
from vitalgate.notify.links import issue_link
from vitalgate.store import patient_record, people
from vitalgate.store.db import connect

playwright_api = pytest.importorskip("playwright.async_api", reason="playwright is not installed")
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} missing: apt-get install -y chromium")
PHONE = {"width": 390, "height": 844}  # iPhone 12-15 CSS viewport


async def _seed(database_url: str, unique: str) -> tuple[str, int, str]:
    conn = await connect(database_url)
    try:
        async with conn.transaction():
            team = await people.create_care_team(conn, f"bq-{unique}")
            nurse = f"bq-nurse-{unique}"
            await people.create_user(
                conn, nurse, "护士 李", "nurse", password_hash=hash_password(PASSWORD), care_team_id=team
            )
            patient = await people.create_patient(conn, "王芳", team, external_ref=f"bq-{unique}")
            await patient_record.update_record(conn, patient, {"language": "zh-Hans"})
            path = await issue_link(
                conn,
                LinkPurpose.QUESTIONNAIRE,
                patient_id=patient,
                questionnaire="enrolment-intake",
                now=datetime.now(UTC),
            )
    finally:
        await conn.close()
    return nurse, patient, path  # "/l/{token}": the link as a message carries it


async def _current(page):  # type: ignore[no-untyped-def]
    return page.locator(".q-item:not(.q-hidden):not(.q-off)")


async def _answer_current(page) -> str:  # type: ignore[no-untyped-def]
    item = await _current(page)
    link = await item.get_attribute("data-link") or ""
    kind = await item.get_attribute("data-type")
    value = INTAKE.get(link)
    if value is not None and kind in ("boolean", "choice"):
        await item.locator(f"input[value='{value}']").check()
    elif value is not None:
        await item.locator("input, textarea").fill(value)
    return link


async def test_intake_in_chinese_at_390px_through_a_signed_link(database_url: str) -> None:
    unique = secrets.token_hex(4)
    ARTIFACTS.mkdir(exist_ok=True)
    nurse, patient, path = await _seed(database_url, unique)
    async with served_app(database_url) as base, playwright_api.async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            page = await browser.new_page(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
            await page.goto(f"{base}{path}")  # /l/{token} redirects a questionnaire link to /q/{token}
            assert "/q/" in page.url  # the patient's record language: Chinese
            assert await page.locator("h1").inner_text() == "入组问卷"
            assert (await page.locator("#q-count").inner_text()).startswith("第 1 题")
            assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # no sideways scroll
            font_px = await page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
            assert font_px >= 18  # large type
            await page.screenshot(path=str(ARTIFACTS / "questionnaire-390-first.png"))
            # Next without an answer to a required question stays on it.
            await page.click("#q-next")  # the section's first item is the year of birth (required)
            assert await (await _current(page)).get_attribute("data-link") == "birth-year"
            assert "q-missing" in (await (await _current(page)).get_attribute("class") or "")
            answered = []
            for _ in range(5):
                answered.append(await _answer_current(page))
                await page.click("#q-next")
            await page.screenshot(path=str(ARTIFACTS / "questionnaire-390-middle.png"))
            await page.click("button.q-save")  # save and finish later
            assert "已保存" in await page.locator(".q-note").inner_text()
            await page.goto(f"{base}{path}")  # resume through the same link: answers kept, next open question shows
            resumed_at = await (await _current(page)).get_attribute("data-link")
            assert resumed_at not in answered and await page.locator("input[name=sex][value=female]").is_checked()
            for _ in range(40):
                if await page.locator("#q-submit").is_visible():
                    break
                await _answer_current(page)
                await page.click("#q-next")
            await _answer_current(page)
            await page.screenshot(path=str(ARTIFACTS / "questionnaire-390-last.png"))
            await page.click("#q-submit")
            await page.wait_for_selector(".q-done")
            assert "谢谢" in await page.locator(".q-done").inner_text()
            await page.screenshot(path=str(ARTIFACTS / "questionnaire-390-done.png"))

            staff = await browser.new_page(viewport={"width": 1360, "height": 900})
            await staff.goto(f"{base}/ui/login")
            await staff.fill("input[name=username]", nurse)
            await staff.fill("input[name=password]", PASSWORD)
            await staff.click("button[type=submit]")
            await staff.goto(f"{base}/ui/patients/{patient}#questionnaires")
            table = await staff.locator("#questionnaire-responses").inner_text()
            assert "Enrolment questionnaire" in table and "completed" in table and "patient" in table
            for tag in ("diabetes:t2", "treatment:insulin", "smoking:current", "device:glucose-meter"):
                assert tag in table
            await staff.locator("#questionnaires").screenshot(path=str(ARTIFACTS / "questionnaire-staff-result.png"))
            await staff.click("#questionnaire-responses a")
            await staff.wait_for_url(re.compile(r".*/questionnaire-responses/\d+$"))
            assert "4548-4" in await staff.content()
            await staff.screenshot(path=str(ARTIFACTS / "questionnaire-staff-response.png"), full_page=True)
        finally:
            await browser.close()
