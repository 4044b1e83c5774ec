"""Visit report (issue 18 item 3): AGP-style glucose summary and home-BP protocol, as JSON and as a
server-drawn PDF that poppler renders to PNG and whose text says what it should."""

from __future__ import annotations

import asyncio
import secrets
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.support.world import ARTIFACTS, PASSWORD, api_client, reading_row, token
from vitalgate.core.passwords import hash_password
from vitalgate.store import people
from vitalgate.store.db import connect
from vitalgate.store.readings import write_readings

needs_poppler = pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="poppler-utils (pdftoppm) not installed")


async def _seed(url: str, suffix: str) -> dict[str, object]:
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    conn = await connect(url)
    async with conn.transaction():
        team = await people.create_care_team(conn, f"Report {suffix}")
        await people.create_user(
            conn, f"doc-{suffix}", "Doc", "doctor", password_hash=hash_password(PASSWORD), care_team_id=team
        )
        cgm = await people.create_patient(conn, f"Rita Report {suffix}", team)
        meter = await people.create_patient(conn, f"Mats Meter {suffix}", team)
        start = now - timedelta(days=100)
        for pid, key in ((cgm, "cgm"), (meter, "bgm")):
            await people.bind_device(conn, f"GM-{key}-{suffix}", "glucose_meter", pid, valid_from=start)
            await people.bind_device(conn, f"BP-{key}-{suffix}", "bp_cuff", pid, valid_from=start)
        rows = [
            reading_row(
                f"GM-cgm-{suffix}",
                "glucose",
                now - timedelta(minutes=5 * (i + 1)),
                i,
                glucose_mg_dl=60.0 + (i % 60) * 3,
            )
            for i in range(14 * 288)
        ]
        rows += [
            reading_row(f"GM-bgm-{suffix}", "glucose", now - timedelta(hours=h), 90_000 + h, glucose_mg_dl=v)
            for h, v in ((3, 48.0), (50, 120.0))
        ]
        # Eight days of home BP, two in the morning (07:00, 07:05) and two in the evening (20:00, 20:05) UTC.
        today = now.replace(hour=0, minute=0)
        seq = 100_000
        for day in range(8):
            for hour, minute in ((7, 0), (7, 5), (20, 0), (20, 5)):
                at = today - timedelta(days=day) + timedelta(hours=hour, minutes=minute)
                if at >= now:
                    continue
                seq += 1
                sys_ = 150.0 if hour == 7 else 128.0
                rows.append(
                    reading_row(
                        f"BP-cgm-{suffix}",
                        "blood_pressure",
                        at,
                        seq,
                        systolic_mmhg=sys_,
                        diastolic_mmhg=84.0,
                        pulse_bpm=70.0,
                    )
                )
        await write_readings(conn, rows)
    await conn.close()
    return {"cgm": cgm, "meter": meter, "user": f"doc-{suffix}", "suffix": suffix}


@pytest.fixture(scope="module")
def seeded(database_url: str) -> dict[str, object]:
    return asyncio.run(_seed(database_url, "vr" + secrets.token_hex(3)))


async def test_report_figures_and_home_bp_protocol(database_url: str, seeded) -> None:  # type: ignore[no-untyped-def]
    async with api_client(database_url) as client:
        headers = await token(client, str(seeded["user"]))
        response = await client.get(f"/patients/{seeded['cgm']}/report", params={"days": 14}, headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        assert (
            await client.get(f"/patients/{seeded['cgm']}/report", params={"days": 20}, headers=headers)
        ).status_code == 422
    assert body["glucose"]["variant"] == "cgm" and body["glucose"]["gmi_pct"] is not None
    assert len(body["mini_days"]) == 14 and sum(len(d["points"]) for d in body["mini_days"]) > 13 * 40
    bp = body["home_bp"]
    # 7 local days; day 1's four readings discarded; mornings 150, evenings 128 mmHg systolic.
    assert bp["discarded"] == 4 and bp["used"] >= 12 and bp["withheld"] is None
    assert bp["morning"]["systolic_mmhg"] == 150.0 and bp["evening"]["systolic_mmhg"] == 128.0
    assert bp["above_pct"]["esh"] == pytest.approx(100.0 * bp["morning"]["readings"] / bp["used"], abs=0.1)
    assert bp["mean_above"]["esh"] is True  # mean ~139/84 is at or above 135/85


def _pdf_text_and_png(pdf: bytes, name: str) -> str:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.pdf"
    path.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-png", "-r", "70", "-singlefile", str(path), str(ARTIFACTS / name)], check=True)
    png = Path(f"{ARTIFACTS / name}.png")
    assert png.stat().st_size > 10_000  # a drawn page, not a blank one
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True).stdout


@needs_poppler
async def test_pdf_renders_with_the_expected_text(database_url: str, seeded) -> None:  # type: ignore[no-untyped-def]
    async with api_client(database_url) as client:
        headers = await token(client, str(seeded["user"]))
        cgm = await client.get(f"/patients/{seeded['cgm']}/report.pdf", params={"days": 14}, headers=headers)
        meter = await client.get(
            f"/patients/{seeded['meter']}/report.pdf", params={"days": 30, "unit": "mmol/L"}, headers=headers
        )
    assert cgm.status_code == 200 and cgm.headers["content-type"] == "application/pdf"
    assert cgm.content.startswith(b"%PDF")
    text = _pdf_text_and_png(cgm.content, "visit-report-cgm")
    for expected in (
        "Glucose and blood pressure report",
        f"Rita Report {seeded['suffix']}",
        "GMI",
        "Morning: 150/84 mmHg",
    ):
        assert expected in text, expected
    assert "In range 70–180 mg/dL" in text and "goal > 70 %" in text
    text = _pdf_text_and_png(meter.content, "visit-report-meter")
    assert "meter (finger-stick)" in text and "GMI is estimated from CGM data only" in text
    assert "2.7 mmol/L" in text  # lowest 48 mg/dL in the viewer's unit
    assert "Ranges not shown" in text


async def test_report_page_and_meter_patient_without_gmi(database_url: str, seeded) -> None:  # type: ignore[no-untyped-def]
    async with api_client(database_url) as client:
        login = await client.post("/ui/login", data={"username": str(seeded["user"]), "password": PASSWORD})
        assert login.status_code == 303
        page = await client.get(f"/ui/patients/{seeded['cgm']}/report", params={"days": 30})
        assert page.status_code == 200
        assert "Glucose and blood pressure report (AGP-style)" in page.text and "<polyline" in page.text
        assert "report.pdf?days=30" in page.text
        meter = await client.get(f"/ui/patients/{seeded['meter']}/report")
        assert "GMI is estimated from CGM data only" in meter.text and ">GMI<" not in meter.text
        chart = await client.get(f"/ui/patients/{seeded['meter']}", params={"days": 7})
        assert chart.status_code == 200 and 'aria-current="page">7 days' in chart.text
