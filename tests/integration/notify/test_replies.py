"""What a reply does, end to end against PostgreSQL and the real scheduler: keywords, links, acknowledgement."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest

from tests.support.clinic import add_patient, fetch, glucose, seed_team, sim_start, write
from vitalgate.app.pipeline import AlertPipeline
from vitalgate.followup.actions import acknowledge_task, record_outcome
from vitalgate.followup.scheduler import tick
from vitalgate.followup.sop import schedule_sop
from vitalgate.notify import inbound, links, replies
from vitalgate.notify.inbound import InboundSms
from vitalgate.notify.replies import Effect
from vitalgate.store import consent, patient_record
from vitalgate.store.db import connect


def _phone(unique: str) -> str:
    digits = int.from_bytes(hashlib.sha256(unique.encode()).digest()[:8], "big") % 10**8
    return "+86 138 " + str(digits).zfill(8)


async def _patient(database_url: str, unique: str, *, start):
    conn = await connect(database_url)
    async with conn.transaction():
        team = await seed_team(conn, unique)
        patient, serial = await add_patient(conn, team["team"], f"r-{unique}", device="glucose_meter", start=start)
        await patient_record.update_record(conn, patient, {"phone": _phone(unique), "preferred_channel": "sms"})
    await conn.close()
    return patient, serial, team


async def _alert_task(database_url: str, unique: str, value: float):
    start = sim_start(50)
    patient, serial, _team = await _patient(database_url, unique, start=start)
    at = start + timedelta(days=2, hours=10)
    await AlertPipeline(database_url)(await write(database_url, serial, [glucose(at, value)]), at)
    (task,) = await fetch(database_url, "SELECT * FROM tasks WHERE patient_id = %s", patient)
    return at, patient, task


async def _sms(database_url: str, unique: str, text: str, at, suffix: str = "") -> inbound.InboundResult:
    conn = await connect(database_url)
    async with conn.transaction():
        result = await inbound.receive_sms(
            conn,
            InboundSms("test-gw", f"msg-{unique}-{text}-{suffix}", _phone(unique).replace(" ", ""), text, at),
            now=at,
        )
    await conn.close()
    return result


async def _outbox(database_url: str, task_id: int):
    return await fetch(
        database_url,
        "SELECT medium, status, status_reason, created_at FROM deliveries WHERE task_id = %s ORDER BY id",
        task_id,
    )


async def _touchpoints(database_url: str, task_id: int):
    return await fetch(
        database_url,
        "SELECT step_name, channel, fired_at, cancelled_at, cancel_reason FROM touchpoints WHERE task_id = %s"
        " ORDER BY step_index",
        task_id,
    )


async def _delivered(database_url: str, task_id: int) -> list[str]:
    rows = await fetch(
        database_url, "SELECT detail FROM task_events WHERE task_id = %s AND kind = 'delivery' ORDER BY id", task_id
    )
    return [r["detail"]["step"] for r in rows]


@pytest.mark.parametrize("word", ["确认", "YES"])
async def test_inbound_confirm_confirms_the_visit_and_cancels_remaining_reminders(database_url, unique, word):
    start = sim_start(60)
    patient, _serial, _team = await _patient(database_url, unique, start=start)
    anchor = start + timedelta(days=20, hours=10)
    conn = await connect(database_url)
    async with conn.transaction():
        sop = await schedule_sop(conn, patient_id=patient, anchor_at=anchor, now=start)
    await conn.close()
    for days in (-7, -2):  # the T-7 message and the T-2 confirmation request go out
        await tick(database_url, anchor + timedelta(days=days), patient_ids=[patient], evaluate=False)
    assert [d["status"] for d in await _outbox(database_url, sop.task_id)] == ["queued", "queued"]  # no worker
    result = await _sms(database_url, unique, word, anchor - timedelta(days=2, hours=-2))
    # The reminders still in the outbox are cancelled with the chain.
    assert {(d["status"], d["status_reason"]) for d in await _outbox(database_url, sop.task_id)} == {
        ("cancelled", "visit confirmed")
    }
    assert (result.patient_id, result.effect, result.task_id) == (patient, Effect.VISIT_CONFIRMED, sop.task_id)
    t = anchor - timedelta(days=2)
    while t <= anchor + timedelta(days=3):
        t += timedelta(hours=1)
        await tick(database_url, t, patient_ids=[patient], evaluate=False)
    # T-1 voice and the day-of call were cancelled; the T+2 check still ran.
    assert await _delivered(database_url, sop.task_id) == ["T-7 message", "T-2 confirmation link", "T+2 visit check"]
    reasons = {r["step_name"]: r["cancel_reason"] for r in await _touchpoints(database_url, sop.task_id)}
    assert reasons["T-1 voice message"] == reasons["day-of phone call"] == "confirmed"
    (task,) = await fetch(database_url, "SELECT patient_responded_at FROM tasks WHERE id = %s", sop.task_id)
    assert task["patient_responded_at"] is not None
    (msg,) = await fetch(database_url, "SELECT keyword, effect, task_id FROM messages WHERE id = %s", result.message_id)
    assert (msg["keyword"], msg["effect"], msg["task_id"]) == ("confirm", "visit_confirmed", sop.task_id)


@pytest.mark.parametrize("word", ["退订", "STOP"])
async def test_stop_withdraws_sms_consent_and_no_sms_follows(database_url, unique, word):
    at, patient, task = await _alert_task(database_url, unique, 62.0)  # high: message, questionnaire, ...
    await tick(database_url, at + timedelta(minutes=5), patient_ids=[patient], evaluate=False)
    sent_before = await _delivered(database_url, task["id"])
    assert sent_before  # the first message went out by SMS before the STOP
    result = await _sms(database_url, unique, word, at + timedelta(minutes=10))
    assert result.effect == Effect.OPTED_OUT and result.keyword == "opt_out"
    conn = await connect(database_url)
    verdict = await consent.decide(conn, patient, "contact", "sms", at + timedelta(minutes=11))
    await conn.close()
    assert not verdict.allowed
    # The written steps that follow would go by SMS (preferred): skipped, never delivered.
    for minutes in range(15, 125, 5):
        await tick(database_url, at + timedelta(minutes=minutes), patient_ids=[patient], evaluate=False)
    after = await fetch(
        database_url,
        "SELECT detail FROM task_events WHERE task_id = %s AND kind = 'delivery' AND at > %s ORDER BY id",
        task["id"],
        at + timedelta(minutes=10),
    )
    skipped = await fetch(
        database_url,
        "SELECT detail FROM task_events WHERE task_id = %s AND kind = 'touchpoint_skipped' ORDER BY id",
        task["id"],
    )
    assert [d["detail"]["medium"] for d in after] == ["phone"]  # the voice call; no SMS
    outbox = await _outbox(database_url, task["id"])
    assert outbox[0]["medium"] == "sms"  # the message before the STOP
    assert [d["medium"] for d in outbox if d["created_at"] > at + timedelta(minutes=10)] == ["voice"]
    assert skipped and all(s["detail"]["medium"] == "sms" for s in skipped)
    # START gives it back: the consent holds again from then on.
    again = await _sms(database_url, unique, "START" if word == "STOP" else "订阅", at + timedelta(hours=3))
    assert again.effect == Effect.OPTED_IN
    conn = await connect(database_url)
    assert (await consent.decide(conn, patient, "contact", "sms", at + timedelta(hours=3, minutes=1))).allowed
    await conn.close()


async def test_im_ok_link_stops_a_routine_chain_but_not_an_urgent_one(database_url, unique):
    at, patient, task = await _alert_task(database_url, unique, 62.0)
    assert task["severity"] != "urgent"
    await tick(database_url, at + timedelta(minutes=5), patient_ids=[patient], evaluate=False)
    conn = await connect(database_url)
    async with conn.transaction():
        path = await links.issue_link(conn, links.LinkPurpose.CHECK_IN, patient_id=patient, task_id=task["id"], now=at)
        grant = await links.answer_link(conn, path.removeprefix("/l/"), "ok", at + timedelta(minutes=20))
        assert await replies.apply_link_answer(conn, grant, now=at + timedelta(minutes=20)) == Effect.CHAIN_STOPPED
    await conn.close()
    sent = await _delivered(database_url, task["id"])
    for hours in range(1, 30, 2):
        await tick(database_url, at + timedelta(hours=hours), patient_ids=[patient], evaluate=False)
    assert await _delivered(database_url, task["id"]) == sent
    pending = [r for r in await _touchpoints(database_url, task["id"]) if r["fired_at"] is None]
    assert pending and all(r["cancel_reason"] == "patient responded" for r in pending)
    outbox = await _outbox(database_url, task["id"])
    assert outbox and {(d["status"], d["status_reason"]) for d in outbox} == {("cancelled", "patient responded")}

    # An urgent task: the answer is shown, the chain goes on until staff act.
    at2, patient2, urgent = await _alert_task(database_url, unique + "u", 45.0)
    assert urgent["severity"] == "urgent"
    conn = await connect(database_url)
    async with conn.transaction():
        path = await links.issue_link(
            conn, links.LinkPurpose.CHECK_IN, patient_id=patient2, task_id=urgent["id"], now=at2
        )
        grant = await links.answer_link(conn, path.removeprefix("/l/"), "ok", at2)
        assert await replies.apply_link_answer(conn, grant, now=at2) == Effect.SHOWN
    await conn.close()
    for minutes in range(1, 20):
        await tick(database_url, at2 + timedelta(minutes=minutes), patient_ids=[patient2], evaluate=False)
    assert len(await _delivered(database_url, urgent["id"])) == 4
    (row,) = await fetch(database_url, "SELECT patient_responded_at FROM tasks WHERE id = %s", urgent["id"])
    assert row["patient_responded_at"] == at2


async def test_staff_acknowledgement_cancels_pending_touchpoints_on_every_channel(database_url, unique):
    at, patient, task = await _alert_task(database_url, unique, 62.0)
    await tick(database_url, at + timedelta(minutes=5), patient_ids=[patient], evaluate=False)
    sent = await _delivered(database_url, task["id"])
    assert [d["status"] for d in await _outbox(database_url, task["id"])] == ["queued"]
    conn = await connect(database_url)
    async with conn.transaction():
        await acknowledge_task(conn, task["id"], actor="nurse-x", now=at + timedelta(minutes=6))
    await conn.close()
    assert [(d["status"], d["status_reason"]) for d in await _outbox(database_url, task["id"])] == [
        ("cancelled", "acknowledged by staff")
    ]
    pending = [r for r in await _touchpoints(database_url, task["id"]) if r["fired_at"] is None]
    assert {r["channel"] for r in pending} >= {"questionnaire", "voice", "phone", "doctor"}
    assert all(r["cancel_reason"] == "acknowledged by staff" for r in pending)
    for hours in range(1, 30, 2):
        await tick(database_url, at + timedelta(hours=hours), patient_ids=[patient], evaluate=False)
    assert await _delivered(database_url, task["id"]) == sent
    # Referring to the doctor afterwards delivers the doctor step only; the silenced steps stay silent.
    conn = await connect(database_url)
    async with conn.transaction():
        await record_outcome(conn, task["id"], "referred_to_doctor", actor="nurse-x", now=at + timedelta(hours=31))
    await conn.close()
    for hours in range(32, 60, 4):
        await tick(database_url, at + timedelta(hours=hours), patient_ids=[patient], evaluate=False)
    assert await _delivered(database_url, task["id"]) == [*sent, "doctor"]


async def test_unknown_or_shared_number_is_held_and_retries_are_ignored(database_url, unique):
    at = sim_start(10)
    stranger = await _sms(database_url, unique + "0", "who is this", at)  # no such number
    assert stranger.effect == Effect.HELD and stranger.patient_id is None
    retry = await _sms(database_url, unique + "0", "who is this", at)
    assert retry.message_id is None
    # Two patients sharing one number: not exactly one match, held for review.
    conn = await connect(database_url)
    async with conn.transaction():
        team = await seed_team(conn, unique + "s", doctor=False)
        for n in (1, 2):
            p, _ = await add_patient(conn, team["team"], f"s{n}-{unique}", device="bp_cuff", start=at)
            await patient_record.update_record(conn, p, {"phone": _phone(unique + "5")})
    await conn.close()
    shared = await _sms(database_url, unique + "5", "YES", at)
    assert shared.effect == Effect.HELD
    held = await fetch(database_url, "SELECT review_state FROM messages WHERE id = %s", shared.message_id)
    assert held[0]["review_state"] == "held"
