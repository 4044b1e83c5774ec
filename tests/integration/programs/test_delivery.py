"""Weekly module items go out through the delivery ledger once each, only while active and with contact consent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.support.clinic import seed_team
from vitalgate.programs.definitions import parse_program
from vitalgate.programs.delivery import education_path, send_due
from vitalgate.programs.enrolment import transition
from vitalgate.store import consent, people, program_modules
from vitalgate.store.consent import NewConsent
from vitalgate.store.db import connect
from vitalgate.store.program_rows import FunnelStep as S
from vitalgate.store.record_vocab import ConsentDecision, ConsentPurpose

T = datetime(2026, 3, 2, 1, tzinfo=UTC)  # the team is on UTC: modules go out at 09:00 UTC


def _program(unique: str):  # type: ignore[no-untyped-def]
    return parse_program(
        f'id = "dl-{unique}"\nname = "Delivery test"\nduration_weeks = 2\n'
        '[[modules]]\nweek = 1\neducation = ["bp-salt"]\ncheckin = "symptom-check"\n'
        '[[modules]]\nweek = 2\neducation = ["bp-activity"]\n'
    )


async def test_due_items_are_enqueued_once_with_links(database_url: str, unique: str) -> None:
    program = _program(unique)
    conn = await connect(database_url, autocommit=True)
    try:
        team = (await seed_team(conn, unique, doctor=False))["team"]
        patient = await people.create_patient(conn, "Delivery Patient", team, external_ref=f"dl-{unique}")
        await conn.execute(
            "UPDATE patients SET phone = '+8613800000000', preferred_channel = 'sms', language = 'zh-Hans'"
            " WHERE id = %s",
            (patient,),
        )
        for step in (S.INVITED, S.CONSENTED, S.ENROLLED, S.ACTIVE):
            await transition(conn, program, patient, step, at=T, actor="nurse")
        items = await program_modules.items_of(conn, program.id, patient)
        assert [(i.week, i.item_kind, i.item_key) for i in items] == [
            (1, "checkin", "symptom-check"),
            (1, "education", "bp-salt"),
            (2, "education", "bp-activity"),
        ]
        assert (await send_due(conn, T + timedelta(hours=7))).enqueued == 0  # 08:00: not yet
        report = await send_due(conn, T + timedelta(hours=8))
        assert (report.enqueued, report.waiting, report.refused) == (2, 0, 0)
        rows = await (
            await conn.execute(
                "SELECT template, medium, locale, params, idempotency_key FROM deliveries WHERE patient_id = %s"
                " ORDER BY template",
                (patient,),
            )
        ).fetchall()
        assert [(r["template"], r["medium"], r["locale"]) for r in rows] == [
            ("program-checkin", "sms", "zh-Hans"),
            ("program-education", "sms", "zh-Hans"),
        ]
        assert rows[0]["params"]["link"].startswith("/l/")
        week1_education = next(i for i in items if i.item_kind == "education" and i.week == 1)
        assert rows[1]["params"]["link"] == education_path(week1_education.id)
        assert (await send_due(conn, T + timedelta(hours=9))).enqueued == 0  # sent once

        # Week 2: paused patients wait; without contact consent on SMS nothing is sent.
        week2 = T + timedelta(days=7, hours=8)
        await transition(conn, program, patient, S.PAUSED, at=week2 - timedelta(hours=2), actor="nurse", reason="away")
        assert (await send_due(conn, week2)).waiting == 1
        await transition(conn, program, patient, S.ACTIVE, at=week2, actor="nurse")
        await consent.record(
            conn,
            patient,
            NewConsent(ConsentPurpose.CONTACT, ConsentDecision.WITHDRAWN, "v1", week2, "patient", "t", channel="sms"),
        )
        assert (await send_due(conn, week2 + timedelta(minutes=1))).refused == 1
        assert (await program_modules.items_of(conn, program.id, patient))[2].sent_at is None
    finally:
        await conn.close()


async def test_matched_content_is_sent_and_the_patient_page_records_the_opening(database_url: str, unique: str) -> None:
    import httpx

    from tests.support.world import PASSWORD, served_app
    from vitalgate.core.passwords import hash_password
    from vitalgate.programs import content
    from vitalgate.store import content_sends

    program = _program(unique)
    conn = await connect(database_url, autocommit=True)
    try:
        team = (await seed_team(conn, unique, doctor=False))["team"]
        patient = await people.create_patient(conn, "Reader", team, external_ref=f"rd-{unique}", tags=["hypertension"])
        other = await people.create_patient(conn, "Other", team, external_ref=f"rd2-{unique}")
        await conn.execute("UPDATE patients SET language = 'zh-Hans' WHERE id = %s", (patient,))
        await conn.execute("INSERT INTO patient_conditions (patient_id, code) VALUES (%s, 'I10')", (patient,))
        for pid, name in ((patient, f"rd-{unique}"), (other, f"rd2-{unique}")):
            user = await people.create_user(conn, name, "P", "patient", password_hash=hash_password(PASSWORD))
            await people.link_patient_user(conn, pid, user)
        for step in (S.INVITED, S.CONSENTED, S.ENROLLED, S.ACTIVE):
            await transition(conn, program, patient, step, at=T, actor="nurse")
        scheduled = await content.schedule_next(conn, patient, at=T)
        assert scheduled is not None and scheduled[1].item.key == "bp-home-measurement"  # modules' items excluded
        report = await send_due(conn, T + timedelta(hours=8))
        assert report.enqueued == 3  # week 1: check-in + education, and the matched item
        item = next(i for i in await program_modules.items_of(conn, program.id, patient) if i.item_key == "bp-salt")
        send_id = scheduled[0]
    finally:
        await conn.close()
    async with served_app(database_url) as base, httpx.AsyncClient(base_url=base) as client:
        await client.post("/ui/login", data={"username": f"rd2-{unique}", "password": PASSWORD})
        assert (await client.get(f"/ui/me/education/{item.id}")).status_code == 404  # not theirs
        client.cookies.clear()
        await client.post("/ui/login", data={"username": f"rd-{unique}", "password": PASSWORD})
        page = await client.get(f"/ui/me/education/{item.id}")
        assert page.status_code == 200 and "少盐，血压更低" in page.text
        assert "在家测量血压" in (await client.get(f"/ui/me/content/{send_id}")).text
    conn = await connect(database_url, autocommit=True)
    try:
        opened = [i for i in await program_modules.items_of(conn, program.id, patient) if i.opened_at is not None]
        assert [i.item_key for i in opened] == ["bp-salt"]
        assert (await content_sends.get(conn, send_id)).opened_at is not None
    finally:
        await conn.close()
