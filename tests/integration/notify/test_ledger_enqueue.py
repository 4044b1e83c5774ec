"""The delivery ledger's producer side: one message per recipient per fired touchpoint, idempotent, cancellable."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.support.clinic import add_patient, fetch, glucose, seed_team, sim_start, write
from vitalgate.app.pipeline import AlertPipeline
from vitalgate.domain import DeliveryStatus, Medium, RecipientKind
from vitalgate.followup.scheduler import tick
from vitalgate.store import caregivers, consent, deliveries
from vitalgate.store.consent import NewConsent
from vitalgate.store.db import connect
from vitalgate.store.deliveries import DeliveryRequest
from vitalgate.store.record_vocab import ConsentDecision, ConsentPurpose

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _request(key: str, patient: int, **extra) -> DeliveryRequest:
    fields = {
        "idempotency_key": key,
        "patient_id": patient,
        "recipient_kind": RecipientKind.PATIENT,
        "recipient_id": patient,
        "channel": "message",
        "medium": Medium.SMS,
        "template": "check-in",
        "not_before": T0,
    }
    return DeliveryRequest(**(fields | extra))


async def test_enqueue_is_idempotent_by_key_and_cancel_pending_stops_queued(database_url, unique):
    conn = await connect(database_url)
    async with conn.transaction():
        team = await seed_team(conn, unique)
        patient, _ = await add_patient(conn, team["team"], f"l-{unique}", device="glucose_meter", start=sim_start(5))
        first = await deliveries.enqueue(conn, _request(f"k1-{unique}", patient))
        again = await deliveries.enqueue(conn, _request(f"k1-{unique}", patient, template="other"))
        second = await deliveries.enqueue(conn, _request(f"k2-{unique}", patient, locale="zh-Hans"))
    assert first is not None and again is None and second is not None and second != first
    row = await deliveries.get(conn, first)
    assert row is not None and row.status is DeliveryStatus.QUEUED and row.template == "check-in"
    assert row.medium is Medium.SMS and row.recipient_kind is RecipientKind.PATIENT and row.next_attempt_at == T0
    with pytest.raises(ValueError):
        await deliveries.cancel_pending(conn, reason="nothing named")
    await conn.close()


async def test_each_fired_touchpoint_is_one_delivery_per_consenting_recipient(database_url, unique):
    """A level-1 low's chain: the patient and the caregiver who may hear of it get each contact step;
    the phone step is a call task; the doctor step is no message; cancel_pending silences the rest."""
    start = sim_start(40)
    conn = await connect(database_url)
    async with conn.transaction():
        team = await seed_team(conn, unique)
        patient, serial = await add_patient(conn, team["team"], f"d-{unique}", device="glucose_meter", start=start)
        await conn.execute(
            "UPDATE patients SET phone = '+8613800138000', preferred_channel = 'sms', language = 'zh-Hans'"
            " WHERE id = %s",
            (patient,),
        )
        daughter = await caregivers.add(
            conn,
            patient,
            {"name": "Daughter", "relationship": "child", "email": "d@example.org", "alert_severities": ["high"]},
        )
        await caregivers.add(  # shares nothing: no consent record for her
            conn,
            patient,
            {"name": "Neighbour", "relationship": "friend", "phone": "+8613900000002", "alert_severities": ["high"]},
        )
        await consent.record(
            conn,
            patient,
            NewConsent(
                ConsentPurpose.SHARE_CAREGIVER,
                ConsentDecision.GIVEN,
                "s1",
                start,
                "patient",
                "t",
                caregiver_id=daughter.id,
            ),
        )
    at = start + timedelta(days=2, hours=10)
    await AlertPipeline(database_url)(await write(database_url, serial, [glucose(at, 62.0)]), at)
    task = (await fetch(database_url, "SELECT * FROM tasks WHERE patient_id = %s", patient))[0]
    assert task["severity"] == "high"
    now = at + timedelta(minutes=1)
    await tick(database_url, now, patient_ids=[patient], evaluate=False)
    got = await deliveries.listed(conn, task_id=task["id"])
    assert sorted((d.recipient_kind, d.medium, d.locale, d.channel) for d in got) == [
        (RecipientKind.CAREGIVER, Medium.EMAIL, "en", "message"),
        (RecipientKind.PATIENT, Medium.SMS, "zh-Hans", "message"),
    ]
    touchpoint = got[0].touchpoint_id
    assert {d.idempotency_key for d in got} == {
        f"touchpoint:{touchpoint}:patient:{patient}:sms",
        f"touchpoint:{touchpoint}:caregiver:{daughter.id}:email",
    }
    event = await fetch(
        database_url, "SELECT detail FROM task_events WHERE task_id = %s AND kind = 'delivery'", task["id"]
    )
    assert sorted(event[0]["detail"]["deliveries"]) == sorted(d.id for d in got)
    # Walk the chain: questionnaire, voice, phone (a call task), doctor (no message).
    for hours in (1, 2, 3, 4):
        await tick(database_url, at + timedelta(hours=hours, minutes=2), patient_ids=[patient], evaluate=False)
    chain = await deliveries.listed(conn, task_id=task["id"])
    by_channel = sorted((d.channel, d.medium, d.recipient_kind) for d in chain)
    assert by_channel == [
        ("message", Medium.EMAIL, RecipientKind.CAREGIVER),
        ("message", Medium.SMS, RecipientKind.PATIENT),
        ("phone", Medium.CALL, RecipientKind.CAREGIVER),
        ("phone", Medium.CALL, RecipientKind.PATIENT),
        ("questionnaire", Medium.EMAIL, RecipientKind.CAREGIVER),
        ("questionnaire", Medium.SMS, RecipientKind.PATIENT),
        ("voice", Medium.VOICE, RecipientKind.CAREGIVER),
        ("voice", Medium.VOICE, RecipientKind.PATIENT),
    ]
    assert len(await deliveries.open_calls(conn, task_id=task["id"])) == 2
    async with conn.transaction():
        cancelled = await deliveries.cancel_pending(conn, task_id=task["id"], reason="acknowledged", now=now)
    assert cancelled == len(chain)
    statuses = {d.status for d in await deliveries.listed(conn, task_id=task["id"])}
    assert statuses == {DeliveryStatus.CANCELLED}
    await conn.close()
