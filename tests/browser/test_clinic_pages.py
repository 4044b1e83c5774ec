"""Clinic pages at 1440 px (English) and 390 px (Simplified Chinese) in Debian's Chromium: the worklist
with 620 tasks (filters, keyset paging, acknowledge assigns, a new urgent task appears live), a meter
patient with 2 readings (no GMI), the visit report and its PDF rendered by pdftoppm, the patient's
latest-low explanation, the admin home and /docs; axe-core finds no serious or critical issue."""

from __future__ import annotations

import asyncio
import secrets
import shutil
import subprocess
import time
from datetime import UTC, datetime, timedelta

import pytest

from benchmarks.worklist_load import LoadedTeam, load_team
from tests.browser.clinic_support import axe_violations, sign_in
from tests.support.world import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, PASSWORD, reading_row, served_app
from vitalgate.core.passwords import hash_password
from vitalgate.i18n import t
from vitalgate.store import alerts as alert_store
from vitalgate.store import people
from vitalgate.store import tasks as task_store
from vitalgate.store.db import connect
from vitalgate.store.readings import write_readings

playwright_api = pytest.importorskip("playwright.async_api", reason="playwright is not installed")
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} missing: apt-get install -y chromium")
VIEWS = [(1440, "en", "en-US"), (390, "zh-Hans", "zh-CN")]
OPEN_TASKS = 620


async def _seed(url: str, suffix: str) -> tuple[LoadedTeam, dict[str, object]]:
    now = datetime.now(UTC).replace(microsecond=0)
    conn = await connect(url)
    async with conn.transaction():
        team = await load_team(conn, suffix, patients=150, open_tasks=OPEN_TASKS, now=now, password=PASSWORD)
        meter = await people.create_patient(conn, f"Mia Meter {suffix}", team.team_id, external_ref=f"MM-{suffix}")
        user = f"mia-{suffix}"
        await people.create_user(conn, user, "Mia", "patient", password_hash=hash_password(PASSWORD))
        await conn.execute(
            "UPDATE patients SET user_id = (SELECT id FROM users WHERE username = %s) WHERE id = %s", (user, meter)
        )
        await conn.execute("UPDATE care_teams SET phone = '+15550100' WHERE id = %s", (team.team_id,))
        # Her record says Chinese: her own page speaks it whatever the browser asks for.
        await conn.execute("UPDATE patients SET language = 'zh-Hans' WHERE id = %s", (meter,))
        await people.bind_device(conn, f"GM-mia-{suffix}", "glucose_meter", meter, valid_from=now - timedelta(days=30))
        low_at = now - timedelta(hours=2)
        await write_readings(
            conn,
            [
                reading_row(f"GM-mia-{suffix}", "glucose", now - timedelta(days=3), 1, glucose_mg_dl=120.0),
                reading_row(f"GM-mia-{suffix}", "glucose", low_at, 2, glucose_mg_dl=48.0),
            ],
        )
        alert = await alert_store.open_or_update_alert(
            conn,
            patient_id=meter,
            rule_id="glucose-very-low",
            severity="urgent",
            dedup_key=f"mia-{suffix}",
            summary="Glucose below 54 mg/dL",
            now=low_at + timedelta(minutes=1),
            evidence={
                "rule_kind": "threshold",
                "worst": 48.0,
                "unit": "mg/dL",
                "readings": [{"at": low_at.isoformat(), "unit": "mg/dL", "glucose_mg_dl": 48.0}],
            },
        )
        await task_store.create_task_for_alert(
            conn,
            alert_id=alert.alert_id,
            patient_id=meter,
            care_team_id=team.team_id,
            assignee_id=None,
            severity="urgent",
            title="Glucose below 54 mg/dL",
            due_at=low_at + timedelta(minutes=16),
            now=low_at + timedelta(minutes=1),
        )
        admin = f"admin-{suffix}"
        await people.create_user(conn, admin, "Admin", "admin", password_hash=hash_password(PASSWORD))
    await conn.close()
    return team, {"meter": meter, "patient_user": user, "admin": admin}


@pytest.fixture(scope="module")
def seeded(database_url: str) -> tuple[LoadedTeam, dict[str, object]]:
    return asyncio.run(_seed(database_url, "cp" + secrets.token_hex(3)))


async def _open_urgent(url: str, team: LoadedTeam, title: str) -> int:
    conn = await connect(url)
    now = datetime.now(UTC)
    async with conn.transaction():
        task = await task_store.create_task(
            conn,
            patient_id=team.patient_ids[1],
            care_team_id=team.team_id,
            assignee_id=None,
            severity="urgent",
            title=title,
            due_at=now + timedelta(minutes=15),
            now=now,
            kind="alert",
        )
    await conn.close()
    return task


async def _no_sideways_scroll(page, width: int) -> None:  # type: ignore[no-untyped-def]
    scroll = await page.evaluate("() => document.documentElement.scrollWidth")
    assert scroll <= width + 1, f"page is {scroll} px wide at {width} px"


async def _check_axe(page, name: str) -> None:  # type: ignore[no-untyped-def]
    violations = await axe_violations(page)
    assert violations == [], f"{name}: {violations}"


@pytest.mark.parametrize(("width", "lang", "accept"), VIEWS, ids=["1440-en", "390-zh"])
async def test_worklist_at_scale(database_url: str, seeded, width: int, lang: str, accept: str) -> None:  # type: ignore[no-untyped-def]
    team, extra = seeded
    ARTIFACTS.mkdir(exist_ok=True)
    async with served_app(database_url) as base, playwright_api.async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[*CHROMIUM_ARGS, "--autoplay-policy=no-user-gesture-required"],
            headless=True,
        )
        try:
            context = await browser.new_context(
                viewport={"width": width, "height": 900}, locale=accept, bypass_csp=True
            )
            page = await context.new_page()
            await sign_in(page, base, team.users["coordinator"], PASSWORD)
            await page.goto(f"{base}/ui/worklist")
            rows = page.locator("#worklist-table tbody tr[data-task]")
            assert await rows.count() == 40
            # the meter patient's low, and the live urgent task each earlier run of this test opened
            total = OPEN_TASKS + 1 + int(extra.get("live_opened", 0))  # type: ignore[call-overload]
            note = await page.locator("#paging-note").inner_text()
            assert (
                t(
                    lang,
                    "Showing {shown} of {total} matching tasks, most urgent first, then by due time.",
                    shown=40,
                    total=total,
                )
                in note
            )
            await _no_sideways_scroll(page, width)
            await _check_axe(page, f"worklist {width}")
            await page.screenshot(path=str(ARTIFACTS / f"worklist-scale-{width}.png"), full_page=False)
            first = set(await rows.evaluate_all("rs => rs.map(r => r.dataset.task)"))
            await page.click("#next-page")
            await page.wait_for_load_state()
            second = set(await rows.evaluate_all("rs => rs.map(r => r.dataset.task)"))
            assert len(second) == 40 and not first & second

            # Filters are server-side: urgent only, then a search by external id.
            await page.goto(f"{base}/ui/worklist")
            await page.select_option("select[name=severity]", "urgent")
            await page.click("form.filters button[type=submit]")
            await page.wait_for_url("**severity=urgent**")
            classes = await rows.evaluate_all("rs => rs.map(r => r.className)")
            assert classes and all("sev-urgent" in c for c in classes)
            ref = f"EXT-{team.users['nurse'].split('-', 1)[1]}-00007"
            await page.select_option("select[name=severity]", "")
            await page.fill("#worklist-search", ref)
            await page.click("form.filters button[type=submit]")
            await page.wait_for_load_state()
            assert ref in await page.locator("#worklist-table").inner_text()

            # Acknowledge a task another nurse holds: it becomes the coordinator's.
            await page.goto(f"{base}/ui/worklist?assignee={team.user_ids['nurse']}&severity=routine")
            task_id = await rows.first.get_attribute("data-task")
            await page.click(f"#task-{task_id} button[data-key=a]")
            await page.wait_for_url("**done=ack**")
            assert t(lang, "Task acknowledged: it is yours now.") in await page.locator(".notice.ok").inner_text()
            await page.goto(f"{base}/ui/worklist?assignee=mine&severity=routine")
            assert await page.locator(f"#task-{task_id}").count() == 1

            # A new urgent task appears on the open worklist without a reload, with a banner and a tone.
            await page.goto(f"{base}/ui/worklist")
            await page.wait_for_timeout(1500)  # the event stream is open
            title = f"Live low {secrets.token_hex(2)}"
            opened = time.monotonic()
            new_id = await _open_urgent(database_url, team, title)
            extra["live_opened"] = int(extra.get("live_opened", 0)) + 1  # type: ignore[call-overload]
            await page.wait_for_selector(f"#task-{new_id}", timeout=5000)
            assert time.monotonic() - opened < 2.0
            assert title in await page.locator("#live").inner_text() and await page.locator("#live").is_visible()
            assert await page.evaluate("() => document.documentElement.dataset.lastTone") is not None
            await page.screenshot(path=str(ARTIFACTS / f"worklist-live-{width}.png"), full_page=False)
        finally:
            await browser.close()


@pytest.mark.parametrize(("width", "lang", "accept"), VIEWS, ids=["1440-en", "390-zh"])
async def test_patient_report_and_own_page(database_url: str, seeded, width: int, lang: str, accept: str) -> None:  # type: ignore[no-untyped-def]
    team, extra = seeded
    meter = extra["meter"]
    async with served_app(database_url) as base, playwright_api.async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            context = await browser.new_context(
                viewport={"width": width, "height": 900}, locale=accept, bypass_csp=True
            )
            page = await context.new_page()
            await sign_in(page, base, team.users["doctor"], PASSWORD)
            # A meter patient with 2 readings: no GMI, the reason instead.
            await page.goto(f"{base}/ui/patients/{meter}")
            main = await page.locator("main").inner_text()
            assert t(lang, "GMI is estimated from CGM data only") in main
            assert await page.locator(".card.stat .label", has_text=t(lang, "GMI")).count() == 0
            await _no_sideways_scroll(page, width)
            await _check_axe(page, f"patient page {width}")
            await page.screenshot(path=str(ARTIFACTS / f"patient-meter-{width}.png"), full_page=True)
            # The visit report page and its PDF.
            await page.goto(f"{base}/ui/patients/{meter}/report?days=30")
            assert t(lang, "Glucose and blood pressure report (AGP-style)") in await page.locator("h1").inner_text()
            await _check_axe(page, f"report {width}")
            await page.screenshot(path=str(ARTIFACTS / f"visit-report-{width}.png"), full_page=True)
            pdf = await page.request.get(f"{base}/patients/{meter}/report.pdf?days=30")
            assert pdf.ok and (await pdf.body()).startswith(b"%PDF")
            if shutil.which("pdftoppm"):
                path = ARTIFACTS / f"visit-report-{lang}.pdf"
                path.write_bytes(await pdf.body())
                subprocess.run(
                    ["pdftoppm", "-png", "-r", "60", "-singlefile", str(path), str(path.with_suffix(""))], check=True
                )
                text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
                if (
                    lang == "en"
                ):  # CJK text extraction depends on poppler-data; the English one is checked word for word
                    assert (
                        "Glucose and blood pressure report (AGP-style)" in text
                        and "GMI is estimated from CGM data only" in text
                    )
            # The admin's home and /docs.
            await context.clear_cookies()
            await sign_in(page, base, str(extra["admin"]), PASSWORD)
            assert page.url.endswith("/ui/admin")
            await _check_axe(page, f"admin home {width}")
            await page.goto(f"{base}/docs")
            await page.wait_for_selector(".swagger-ui .info", timeout=15000)  # rendered from the vendored assets
            # The patient's own page (in her record's language): the latest low explained, care team told, a call button.
            lang = "zh-Hans"
            await context.clear_cookies()
            await sign_in(page, base, str(extra["patient_user"]), PASSWORD)
            explain = page.locator("section.explain.level-serious-low")
            assert t(lang, "Your glucose is very low.") in await explain.inner_text()
            assert t(lang, "Your care team has been told and will contact you.") in await explain.inner_text()
            assert await explain.locator("a.call[href='tel:+15550100']").count() == 1
            await _no_sideways_scroll(page, width)
            await _check_axe(page, f"own page {width}")
            await page.screenshot(path=str(ARTIFACTS / f"patient-own-low-{width}.png"), full_page=True)
        finally:
            await browser.close()
