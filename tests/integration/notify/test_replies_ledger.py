"""Replies through the real worker: STOP from a patient or a caregiver, and a care-team message's notification."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.integration.notify.conftest import enqueue, make_patient, sink  # noqa: F401 (fixture)
from tests.integration.notify.test_worker import statuses, webhook_config
from tests.support.clinic import fetch
from vitalgate.core.clock import SimulatedClock
from vitalgate.domain import DeliveryStatus, Medium, RecipientKind
from vitalgate.notify import conversation, inbound
from vitalgate.notify.inbound import InboundSms
from vitalgate.notify.replies import Effect
from vitalgate.notify.worker import Worker
from vitalgate.store import caregivers, consent, deliveries, people
from vitalgate.store.consent import NewConsent
from vitalgate.store.db import connect
from vitalgate.store.deliveries import DeliveryRequest
from vitalgate.store.record_vocab import ConsentDecision, ConsentPurpose

NOON = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


async def _sms(url: str, phone: str, text: str, at: datetime, mid: str) -> inbound.InboundResult:
    conn = await connect(url)
    async with conn.transaction():
        result = await inbound.receive_sms(conn, InboundSms("gw", mid, phone, text, at), now=at)
    await conn.close()
    return result


async def test_patient_stop_means_no_sms_is_sent_by_the_worker(ledger_db, sink):  # noqa: F811
    patient = await make_patient(ledger_db, phone="+8613800000001")
    assert (await _sms(ledger_db, "+86 138 0000 0001", "退订", NOON, "s1")).effect == Effect.OPTED_OUT
    ids = await enqueue(ledger_db, patient.id, 2, at=NOON + timedelta(minutes=1))
    stats = await Worker(ledger_db, webhook_config(sink.url), SimulatedClock(NOON + timedelta(minutes=2))).drain()
    assert stats.cancelled == 2 and sink.received == []
    assert await statuses(ledger_db, ids) == [DeliveryStatus.CANCELLED] * 2
    # START: the next message goes out again.
    assert (await _sms(ledger_db, "+8613800000001", "START", NOON + timedelta(hours=1), "s2")).effect == Effect.OPTED_IN
    again = await enqueue(ledger_db, patient.id, 1, at=NOON + timedelta(hours=1), prefix="after")
    await Worker(ledger_db, webhook_config(sink.url), SimulatedClock(NOON + timedelta(hours=1, minutes=1))).drain()
    assert await statuses(ledger_db, again) == [DeliveryStatus.SENT] and len(sink.received) == 1


async def test_caregiver_stop_silences_only_that_caregivers_sms(ledger_db, sink):  # noqa: F811
    patient = await make_patient(ledger_db, phone="+8613800000002")
    conn = await connect(ledger_db)
    async with conn.transaction():
        carer = await caregivers.add(
            conn, patient.id, {"name": "Li Na", "relationship": "child", "phone": "+8613900000002"}
        )
        await consent.record(
            conn,
            patient.id,
            NewConsent(
                ConsentPurpose.SHARE_CAREGIVER, ConsentDecision.GIVEN, "v1", NOON - timedelta(days=1), "patient",
                "test", caregiver_id=carer.id,
            ),
        )  # fmt: skip
    await conn.close()
    stop = await _sms(ledger_db, "+8613900000002", "STOP", NOON, "c1")
    assert (stop.patient_id, stop.caregiver_id, stop.effect) == (patient.id, carer.id, Effect.OPTED_OUT)
    conn = await connect(ledger_db)
    async with conn.transaction():
        ids = []
        for kind, rid in ((RecipientKind.CAREGIVER, carer.id), (RecipientKind.PATIENT, patient.id)):
            ids.append(
                await deliveries.enqueue(
                    conn,
                    DeliveryRequest(
                        idempotency_key=f"cg:{kind}:{rid}",
                        patient_id=patient.id,
                        recipient_kind=kind,
                        recipient_id=rid,
                        channel="message",
                        medium=Medium.SMS,
                        template="check-in",
                        not_before=NOON,
                    ),
                    now=NOON,
                )
            )
    await conn.close()
    await Worker(ledger_db, webhook_config(sink.url), SimulatedClock(NOON + timedelta(minutes=1))).drain()
    assert await statuses(ledger_db, ids) == [DeliveryStatus.CANCELLED, DeliveryStatus.SENT]
    (row,) = await fetch(ledger_db, "SELECT status_reason FROM deliveries WHERE id = %s", ids[0])
    assert "replied STOP" in row["status_reason"]
    assert [r.body["to"] for r in sink.received] == ["+8613800000002"]  # the patient still receives theirs


async def test_care_team_message_notifies_with_an_inbox_link_and_no_text(ledger_db, sink):  # noqa: F811
    patient = await make_patient(ledger_db, phone="+8613800000003", language="zh-Hans")
    conn = await connect(ledger_db)
    async with conn.transaction():
        staff = await people.create_user(conn, "nurse-msg", "Nurse", "nurse", care_team_id=patient.team)
        sent = await conversation.staff_message(
            conn, patient_id=patient.id, author_user_id=staff, now=NOON, body="明天上午请空腹测血糖。"
        )
    await conn.close()
    await Worker(ledger_db, webhook_config(sink.url), SimulatedClock(NOON + timedelta(minutes=1))).drain()
    (got,) = sink.received
    assert got.body["link"] == "https://care.example.org" + sent.link_path
    assert "医护团队给您留言了" in got.body["text"] and "空腹" not in got.body["text"]
