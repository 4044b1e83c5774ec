"""Consent gates every touchpoint at firing time: a withdrawn channel is never used (real PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

from tests.support.clinic import add_patient, fetch, glucose, seed_team, sim_start, write
from vitalgate.app.pipeline import AlertPipeline
from vitalgate.core.clock import SimulatedClock
from vitalgate.followup.consent_gate import medium_for
from vitalgate.followup.scheduler import tick
from vitalgate.store import consent
from vitalgate.store.consent import NewConsent
from vitalgate.store.db import connect
from vitalgate.store.record_vocab import ConsentDecision, ConsentPurpose


def test_medium_of_each_touchpoint_channel() -> None:
    assert medium_for("message", "email") == "email" and medium_for("questionnaire", "app") == "app"
    assert medium_for("message", None) == "sms" and medium_for("message", "phone") == "sms"
    assert medium_for("voice", "email") == "phone" and medium_for("phone", None) == "phone"
    assert medium_for("doctor", "sms") is None and medium_for("coordinator", None) is None


async def _sms_patient_with_task(database_url, unique):
    """A patient who prefers SMS, with a level-1 low (standard chain: message, questionnaire, voice, phone, doctor)."""
    start = sim_start(40)
    conn = await connect(database_url)
    async with conn.transaction():
        team = await seed_team(conn, unique)
        patient, serial = await add_patient(conn, team["team"], f"c-{unique}", device="glucose_meter", start=start)
        await conn.execute(
            "UPDATE patients SET phone = '+8613800138000', preferred_channel = 'sms' WHERE id = %s", (patient,)
        )
    await conn.close()
    at = start + timedelta(days=2, hours=10)
    await AlertPipeline(database_url)(await write(database_url, serial, [glucose(at, 62.0)]), at)
    task = (await fetch(database_url, "SELECT * FROM tasks WHERE patient_id = %s", patient))[0]
    return SimulatedClock(at), patient, task


async def _withdraw(database_url, patient, purpose, at, channel=None):
    conn = await connect(database_url)
    async with conn.transaction():
        row = await consent.record(
            conn,
            patient,
            NewConsent(purpose, ConsentDecision.WITHDRAWN, "v1", at, "patient", "test", channel=channel),
        )
        await consent.apply_monitoring(conn, row)
    await conn.close()


async def _events(database_url, task_id):
    return await fetch(
        database_url,
        "SELECT kind, detail FROM task_events WHERE task_id = %s AND kind IN ('delivery', 'touchpoint_skipped')"
        " ORDER BY at, id",
        task_id,
    )


async def test_withdrawing_sms_consent_stops_sms_touchpoints_immediately(database_url, unique):
    clock, patient, task = await _sms_patient_with_task(database_url, unique)
    clock.advance(timedelta(minutes=5))
    await tick(database_url, clock.now(), patient_ids=[patient], evaluate=False)
    first = await _events(database_url, task["id"])
    assert [(e["kind"], e["detail"]["channel"], e["detail"]["medium"]) for e in first] == [
        ("delivery", "message", "sms")
    ]
    # The patient withdraws SMS consent; the very next written step (questionnaire by SMS) is not sent.
    clock.advance(timedelta(minutes=10))
    await _withdraw(database_url, patient, ConsentPurpose.CONTACT, clock.now(), channel="sms")
    for _ in range(4 * 12):
        clock.advance(timedelta(minutes=5))
        await tick(database_url, clock.now(), patient_ids=[patient], evaluate=False)
    got = [
        (e["kind"], e["detail"]["channel"], e["detail"].get("medium")) for e in await _events(database_url, task["id"])
    ]
    assert got == [
        ("delivery", "message", "sms"),
        ("touchpoint_skipped", "questionnaire", "sms"),
        ("delivery", "voice", "phone"),  # calls were not withdrawn
        ("delivery", "phone", "phone"),
        ("delivery", "doctor", None),
    ]
    skipped = got[1]
    assert skipped[1] == "questionnaire"
    reason = (await _events(database_url, task["id"]))[1]["detail"]["reason"]
    assert reason.startswith("consent to contact by sms withdrawn at")
    tp = await fetch(
        database_url, "SELECT fired_at, cancel_reason FROM touchpoints WHERE task_id = %s AND channel = %s",
        task["id"], "questionnaire",
    )  # fmt: skip
    assert tp[0]["fired_at"] is None and tp[0]["cancel_reason"] == f"skipped: {reason}"


async def test_withdrawn_monitoring_consent_skips_every_step(database_url, unique):
    clock, patient, task = await _sms_patient_with_task(database_url, unique)
    await _withdraw(database_url, patient, ConsentPurpose.MONITORING, clock.now())
    for _ in range(5 * 12):
        clock.advance(timedelta(minutes=5))
        await tick(database_url, clock.now(), patient_ids=[patient], evaluate=False)
    events = await _events(database_url, task["id"])
    assert [e["kind"] for e in events] == ["touchpoint_skipped"] * 5
    assert all(e["detail"]["reason"].startswith("consent to monitoring withdrawn") for e in events)
    # Monitoring is paused (migration 0007's status), and giving consent again resumes it.
    status = "SELECT status, reason FROM patient_monitoring WHERE patient_id = %s ORDER BY valid_from, id"
    assert [r["status"] for r in await fetch(database_url, status, patient)] == ["paused"]
    conn = await connect(database_url)
    async with conn.transaction():
        row = await consent.record(
            conn,
            patient,
            NewConsent(ConsentPurpose.MONITORING, ConsentDecision.GIVEN, "v2", clock.now(), "patient", "t"),
        )
        assert await consent.apply_monitoring(conn, row) == "active"
    await conn.close()
    assert [r["status"] for r in await fetch(database_url, status, patient)] == ["paused", "active"]


async def test_caregiver_recipients_follow_subscriptions_and_sharing_consent(database_url, unique):
    from datetime import UTC, datetime

    from vitalgate.followup.consent_gate import caregiver_recipients
    from vitalgate.store import caregivers

    now = datetime.now(UTC)
    conn = await connect(database_url)
    async with conn.transaction():
        team = await seed_team(conn, unique)
        patient, _ = await add_patient(conn, team["team"], f"g-{unique}", device="glucose_meter", start=sim_start(5))
        son = await caregivers.add(
            conn,
            patient,
            {
                "name": "Son",
                "relationship": "child",
                "phone": "+8613900000001",
                "alert_severities": ["urgent", "high"],
                "receives_reminders": True,
            },
        )
        friend = await caregivers.add(
            conn,
            patient,
            {"name": "Friend", "relationship": "friend", "email": "f@example.org", "alert_severities": ["urgent"]},
        )
        for who in (son, friend):
            await consent.record(
                conn,
                patient,
                NewConsent(
                    ConsentPurpose.SHARE_CAREGIVER,
                    ConsentDecision.GIVEN,
                    "s1",
                    now,
                    "patient",
                    "t",
                    caregiver_id=who.id,
                ),
            )
    async with conn.transaction():

        async def names(severity, reminder):
            got = await caregiver_recipients(conn, patient, severity=severity, reminder=reminder, now=now)
            return [(r.name, r.medium) for r in got]

        assert await names("urgent", False) == [("Friend", "email"), ("Son", "sms")]
        assert await names("high", False) == [("Son", "sms")]
        assert await names(None, True) == [("Son", "sms")]
        later = now.replace(microsecond=0) + timedelta(seconds=1)
        await consent.record(
            conn,
            patient,
            NewConsent(
                ConsentPurpose.SHARE_CAREGIVER,
                ConsentDecision.WITHDRAWN,
                "s1",
                later,
                "patient",
                "t",
                caregiver_id=son.id,
            ),
        )
        got = await caregiver_recipients(conn, patient, severity="urgent", reminder=False, now=later)
        assert [r.name for r in got] == ["Friend"]
    await conn.close()
