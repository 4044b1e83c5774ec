"""Languages and units in headless Chromium (issue 14 item 5).

A Shanghai patient whose record says zh-Hans and mmol/L reads their page in Chinese with mmol/L
values and their 07:30 readings at 07:30; a coordinator whose browser asks for zh-Hans reads the
worklist in Chinese (task titles too), switches the glucose unit to mmol/L in the settings and the
titles follow; an English coordinator with mg/dL reads English. Screenshots in test-artifacts/.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, time, timedelta

import pytest

from tests.support.world import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, PASSWORD, World, reading_row, seed_world, served_app
from vitalgate.core.localtime import to_instant
from vitalgate.followup.tasks import open_task_for_alert
from vitalgate.store import alerts as alert_store
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
RULE_TITLE = "Level 2 hypoglycemia (glucose < 54 mg/dL)"
# Fasting readings at 07:30 Shanghai time: 54 mg/dL = 3.0, 180 = 10.0, 70 = 3.9 mmol/L.
VALUES_MG_DL = (54.0, 180.0, 70.0)


@pytest.fixture(scope="module")
def world(database_url: str) -> World:
    return seed_world(database_url, "lang" + secrets.token_hex(3))


async def _chinese_shanghai_patient(database_url: str, world: World) -> None:
    """p3 lives in Shanghai, reads Chinese and mmol/L; three 07:30 readings; a level 2 low task."""
    pid, now = world.patients["p3"], datetime.now(UTC)
    today = now.date()
    mornings = [to_instant(today - timedelta(days=d), time(7, 30), SH) for d in (3, 2, 1)]
    conn = await connect(database_url)
    async with conn.transaction():
        await time_zones.set_patient_time_zone(conn, pid, SH, valid_from=now - timedelta(days=60), now=now, actor="t")
        await conn.execute("UPDATE patients SET language = 'zh-Hans', glucose_unit = 'mmol/L' WHERE id = %s", (pid,))
        await conn.execute("DELETE FROM readings WHERE patient_id = %s", (pid,))
        await conn.execute("SELECT readings_daily_rebuild(%s, NULL)", (pid,))
        serial = world.serials["p3_glucose_meter"]
        await write_readings(
            conn,
            [
                reading_row(serial, "glucose", t, 9000 + i, glucose_mg_dl=v)
                for i, (t, v) in enumerate(zip(mornings, VALUES_MG_DL, strict=True))
            ],
        )
        alert = await alert_store.open_or_update_alert(
            conn, patient_id=pid, rule_id="glucose-level2-hypo", severity="urgent",
            dedup_key=f"lang-{world.suffix}", summary=RULE_TITLE, evidence={}, now=now - timedelta(minutes=5),
        )  # fmt: skip
        opened = await open_task_for_alert(
            conn,
            alert_id=alert.alert_id,
            patient_id=pid,
            severity="urgent",
            title=RULE_TITLE,
            now=now - timedelta(minutes=5),
        )
        assert opened is not None
        world.tasks["lang_rule"] = opened.task_id
    await conn.close()


async def _login(page, base: str, username: str) -> None:  # type: ignore[no-untyped-def]
    await page.goto(f"{base}/ui/login")
    await page.fill("input[name=username]", username)
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")


async def test_chinese_pages_mmol_and_english_staff(database_url: str, world: World) -> None:
    await _chinese_shanghai_patient(database_url, world)
    ARTIFACTS.mkdir(exist_ok=True)
    async with served_app(database_url) as base, playwright_api.async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            # The patient: an English browser, but their record says zh-Hans and mmol/L.
            patient = await browser.new_page(
                viewport={"width": 1100, "height": 1000}, extra_http_headers={"Accept-Language": "en-US,en;q=0.9"}
            )
            await _login(patient, base, world.users["p3"])
            await patient.wait_for_url(f"{base}/ui/me")
            await patient.wait_for_selector("#glucose-chart .uplot canvas")
            assert await patient.locator("html").get_attribute("lang") == "zh-Hans"
            main = await patient.locator("main").inner_text()
            assert "我的读数" in main and "我的设备" in main and "最新血糖" in main
            table = await patient.locator("section", has_text="我的读数").last.inner_text()
            for mmol in ("3.0 mmol/L", "10.0 mmol/L", "3.9 mmol/L"):
                assert mmol in table
            assert "mg/dL" not in main
            assert table.count("07:30 CST") == 3  # each reading at its Shanghai wall-clock time
            assert "年" in table and "月" in table  # Babel's Chinese date format
            chart = await patient.evaluate("JSON.parse(document.getElementById('chart-data').textContent)")
            assert (
                chart["unit"] == "mmol/L"
                and chart["glucose_ref"]["low"] == 3.9
                and chart["glucose_ref"]["high"] == 10.0
            )
            # the three 07:30 readings (54, 70, 180 mg/dL) are in the chart in mmol/L, beside the test world's
            # other readings of this patient (the long-window rollups now count readings filed before pairing)
            shown = {v for v in chart["glucose"][1] if v is not None}
            assert {3.0, 3.9, 10.0} <= shown and max(shown) < 40  # all mmol/L, none left in mg/dL
            assert "血糖单位为 mmol/L" in await patient.locator("footer").inner_text()
            await patient.screenshot(path=str(ARTIFACTS / "patient-shanghai-zh-mmol.png"), full_page=True)

            # A coordinator whose browser asks for Chinese: the worklist in Chinese, glucose in mg/dL (staff default).
            staff = await browser.new_page(
                viewport={"width": 1360, "height": 900},
                extra_http_headers={"Accept-Language": "zh-Hans,zh;q=0.9,en;q=0.5"},
            )
            await _login(staff, base, world.users["coord_b"])
            await staff.wait_for_url(f"{base}/ui/worklist")
            assert await staff.locator("html").get_attribute("lang") == "zh-Hans"
            assert await staff.locator("h1").inner_text() == "工作列表"
            row = staff.locator(f"#task-{world.tasks['lang_rule']}")
            row_text = await row.inner_text()
            assert "2 级低血糖（血糖 < 54 mg/dL）" in row_text and "紧急" in row_text and "认领" in row_text
            await staff.screenshot(path=str(ARTIFACTS / "worklist-zh.png"), full_page=True)

            # The settings control: mmol/L for this staff member; titles, cards and tables follow.
            await staff.goto(f"{base}/ui/settings")
            await staff.select_option("select[name=glucose_unit]", "mmol/L")
            await staff.click("#settings button[type=submit]")
            await staff.wait_for_url("**/ui/settings?done=settings*")
            assert "设置已保存" in await staff.locator(".notice.ok").inner_text()
            await staff.goto(f"{base}/ui/worklist")
            assert (
                "2 级低血糖（血糖 < 3.0 mmol/L）"
                in await staff.locator(f"#task-{world.tasks['lang_rule']}").inner_text()
            )
            await staff.goto(f"{base}/ui/patients/{world.patients['p3']}")
            await staff.wait_for_selector("#glucose-chart .uplot canvas")
            page_text = await staff.locator("main").inner_text()
            assert "3.0 mmol/L" in page_text and "3.9–10.0" in page_text  # a reading; the target band
            assert "2 级低血糖（血糖 < 3.0 mmol/L）" in page_text  # the alert, in the viewer's unit
            await staff.screenshot(path=str(ARTIFACTS / "patient-zh-staff-mmol.png"), full_page=True)

            # An English coordinator with mg/dL: English, mg/dL.
            english = await browser.new_page(
                viewport={"width": 1360, "height": 900}, extra_http_headers={"Accept-Language": "en-GB,en;q=0.9"}
            )
            await _login(english, base, world.users["coord_a"])
            await english.wait_for_url(f"{base}/ui/worklist")
            assert await english.locator("html").get_attribute("lang") == "en"
            assert await english.locator("h1").inner_text() == "Worklist"
            assert "Acknowledge" in await english.locator("table.worklist").inner_text()
            await english.goto(f"{base}/ui/patients/{world.patients['p1']}")
            await english.wait_for_selector("#glucose-chart .uplot canvas")
            text = await english.locator("main").inner_text()
            assert "Latest readings" in text and "mg/dL" in text and "mmol/L" not in text.replace("mg/dL · ", "")
            await english.screenshot(path=str(ARTIFACTS / "patient-en-mgdl.png"), full_page=True)
        finally:
            await browser.close()
