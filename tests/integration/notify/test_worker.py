"""The delivery worker against real PostgreSQL and real local receivers: signed webhook, SMTP with
STARTTLS and AUTH, Apprise's json:// scheme; retries, dead letters, consent and quiet hours at send time."""

from __future__ import annotations

import ssl
from datetime import UTC, datetime, time, timedelta

from pydantic import SecretStr

from tests.integration.notify.conftest import SECRET, enqueue, make_patient
from tests.support.clinic import fetch
from vitalgate.app.notify_sinks import SmtpSink, WebhookSink
from vitalgate.core.clock import SimulatedClock
from vitalgate.domain import DeliveryStatus, Medium
from vitalgate.notify.config import AppriseChannel, NotifyConfig, ProgramNotify, SmtpChannel, WebhookChannel
from vitalgate.notify.links import open_link
from vitalgate.notify.signing import verify
from vitalgate.notify.worker import Worker
from vitalgate.store import consent, deliveries, time_zones
from vitalgate.store.consent import NewConsent
from vitalgate.store.db import connect
from vitalgate.store.record_vocab import ConsentDecision, ConsentPurpose

NOON = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)  # noon in UTC: outside the default quiet hours


def webhook_config(url: str, **extra) -> NotifyConfig:
    channels = {Medium.SMS: WebhookChannel(url=url, secret=SecretStr(SECRET)), **extra.pop("channels", {})}
    return NotifyConfig(
        public_base_url="https://care.example.org", programs={"default": ProgramNotify(channels=channels)}, **extra
    )


async def statuses(url: str, ids: list[int]) -> list[DeliveryStatus]:
    conn = await connect(url)
    rows = [await deliveries.get(conn, i) for i in ids]
    await conn.close()
    return [r.status for r in rows if r]


async def test_webhook_messages_arrive_signed_with_key_link_and_text_in_the_patients_language(ledger_db, sink):
    en = await make_patient(ledger_db)
    zh = await make_patient(ledger_db, language="zh-Hans", phone="+8613900139000")
    ids = await enqueue(ledger_db, en.id, 2, at=NOON) + await enqueue(ledger_db, zh.id, 1, at=NOON)
    stats = await Worker(ledger_db, webhook_config(sink.url), SimulatedClock(NOON)).drain()
    assert (stats.claimed, stats.sent, stats.failed) == (3, 3, 0)
    assert all(r.signed for r in sink.received) and sorted(sink.keys().values()) == [1, 1, 1]
    bodies = {r.body["idempotency_key"]: r.body for r in sink.received}
    assert {r.key for r in sink.received} == set(bodies)  # header and body carry the same key
    zh_body = bodies[f"m:{zh.id}:0"]
    assert zh_body["to"] == "+8613900139000" and "医护团队" in zh_body["text"] and zh_body["locale"] == "zh-Hans"
    en_body = bodies[f"m:{en.id}:0"]
    assert "care team" in en_body["text"] and "Ledger Patient" not in en_body["text"]
    assert en_body["link"].startswith("https://care.example.org/l/") and en_body["link"] in en_body["text"]
    # The link opens the patient's check-in page for exactly this message (issued in the worker's batch).
    conn = await connect(ledger_db)
    async with conn.transaction():
        grant = await open_link(conn, en_body["link"].rsplit("/", 1)[1], NOON)
    await conn.close()
    assert (grant.purpose, grant.patient_id, grant.delivery_id) == ("check_in", en.id, en_body["delivery_id"])
    assert await statuses(ledger_db, ids) == [DeliveryStatus.SENT] * 3
    attempts = await fetch(ledger_db, "SELECT * FROM delivery_attempts ORDER BY delivery_id")
    assert [(a["attempt"], a["status"], a["transport"]) for a in attempts] == [(1, "sent", "webhook")] * 3
    assert {a["provider_message_id"] for a in attempts} == {"sink-1", "sink-2", "sink-3"}
    # A tampered body does not verify against the signature the worker sent.
    one = sink.received[0]
    raw = one.body | {"text": "changed"}
    import json

    try:
        verify(SECRET, one.headers["x-vitalgate-signature"], json.dumps(raw).encode(), datetime.now(UTC))
        raise AssertionError("a changed body verified")
    except Exception as exc:
        assert "does not match" in str(exc)


async def test_failures_retry_with_backoff_then_dead_letter_after_three_attempts(ledger_db):
    patient = await make_patient(ledger_db)
    flaky = WebhookSink(secret=SECRET, fail_first=2)
    await flaky.start()
    clock = SimulatedClock(NOON)
    ok_id = (await enqueue(ledger_db, patient.id, 1, at=NOON, prefix="ok"))[0]
    config = webhook_config(flaky.url, backoff_s=[30.0, 120.0])
    worker = Worker(ledger_db, config, clock)
    await worker.drain()  # attempt 1: 503
    assert await statuses(ledger_db, [ok_id]) == [DeliveryStatus.QUEUED]
    clock.advance(timedelta(seconds=29))
    assert (await worker.drain()).claimed == 0  # the backoff holds it
    clock.advance(timedelta(seconds=2))
    await worker.drain()  # attempt 2: 503
    clock.advance(timedelta(seconds=121))
    await worker.drain()  # attempt 3: 200
    assert await statuses(ledger_db, [ok_id]) == [DeliveryStatus.SENT]
    assert len(flaky.received) == 1 and flaky.keys()[f"ok:{patient.id}:0"] == 1
    await flaky.stop()
    await worker.close()

    # A receiver that is down: three attempts, then the dead-letter list (staff-visible).
    dead_id = (await enqueue(ledger_db, patient.id, 1, at=clock.now(), prefix="down"))[0]
    worker = Worker(ledger_db, webhook_config(flaky.url, backoff_s=[30.0]), clock)
    for _ in range(3):
        await worker.drain()
        clock.advance(timedelta(seconds=31))
    assert (await worker.drain()).claimed == 0
    await worker.close()
    conn = await connect(ledger_db)
    dead = await deliveries.dead_letters(conn)
    assert [d.id for d in dead] == [dead_id] and dead[0].attempts == 3
    assert dead[0].status_reason.startswith("dead after 3 attempt(s): ClientConnectorError")
    assert [a.status for a in await deliveries.attempts(conn, dead_id)] == ["failed"] * 3
    await conn.close()


async def test_consent_withdrawn_after_enqueue_cancels_at_send_time_and_nothing_is_sent(ledger_db, sink):
    patient = await make_patient(ledger_db)
    ids = await enqueue(ledger_db, patient.id, 1, at=NOON)
    conn = await connect(ledger_db)
    async with conn.transaction():
        await consent.record(
            conn,
            patient.id,
            NewConsent(ConsentPurpose.CONTACT, ConsentDecision.WITHDRAWN, "v1", NOON, "patient", "sms:STOP", "sms"),
        )
    await conn.close()
    stats = await Worker(ledger_db, webhook_config(sink.url), SimulatedClock(NOON + timedelta(minutes=1))).drain()
    assert stats.cancelled == 1 and sink.received == []
    row = (await fetch(ledger_db, "SELECT status, status_reason FROM deliveries WHERE id = %s", ids[0]))[0]
    assert row["status"] == "cancelled" and "withdrawn" in row["status_reason"]


async def test_quiet_hours_hold_routine_messages_until_the_patients_morning_urgent_ones_go(ledger_db, sink):
    patient = await make_patient(ledger_db, zone="Asia/Shanghai")
    conn = await connect(ledger_db)
    async with conn.transaction():
        await time_zones.set_quiet_hours(conn, patient.id, time(21, 0), time(8, 0))
    await conn.close()
    late = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)  # 23:00 in Shanghai
    routine = await enqueue(ledger_db, patient.id, 1, at=late, prefix="routine")
    urgent = await enqueue(ledger_db, patient.id, 1, at=late, prefix="urgent", urgent=True)
    clock = SimulatedClock(late)
    worker = Worker(ledger_db, webhook_config(sink.url), clock)
    stats = await worker.drain()
    assert (stats.sent, stats.held) == (1, 1) and sink.keys() == {f"urgent:{patient.id}:0": 1}
    held = (await fetch(ledger_db, "SELECT next_attempt_at, status FROM deliveries WHERE id = %s", routine[0]))[0]
    assert held["status"] == "queued" and held["next_attempt_at"] == datetime(2026, 3, 3, 0, 0, tzinfo=UTC)
    clock.set(datetime(2026, 3, 3, 0, 0, tzinfo=UTC))  # 08:00 in Shanghai
    assert (await worker.drain()).sent == 1
    assert await statuses(ledger_db, routine + urgent) == [DeliveryStatus.SENT, DeliveryStatus.SENT]
    await worker.close()


async def test_email_over_smtp_with_starttls_and_auth_reaches_a_real_smtp_server(ledger_db, tls_cert):
    cert, key = tls_cert
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    server = SmtpSink(username="vitalgate", password="s3cret-pass", tls_context=context)
    port = server.start()
    try:
        patient = await make_patient(ledger_db, email="li.na@example.org", language="zh-Hans")
        ids = await enqueue(ledger_db, patient.id, 1, at=NOON, medium=Medium.EMAIL)
        smtp = SmtpChannel(
            host="127.0.0.1",
            port=port,
            username="vitalgate",
            password=SecretStr("s3cret-pass"),
            sender="care@clinic.example.org",
            ca_file=cert,
        )
        config = NotifyConfig(programs={"default": ProgramNotify(channels={Medium.EMAIL: smtp})})
        stats = await Worker(ledger_db, config, SimulatedClock(NOON)).drain()
        assert stats.sent == 1
        [mail] = server.messages
        assert mail["To"] == "li.na@example.org" and mail["X-Idempotency-Key"] == f"m:{patient.id}:0"
        assert "医护团队" in mail.get_payload(decode=True).decode("utf-8")
        row = (await fetch(ledger_db, "SELECT provider_message_id FROM deliveries WHERE id = %s", ids[0]))[0]
        assert row["provider_message_id"] == mail["Message-ID"]
        # Wrong password: authentication fails, the attempt is recorded as failed (retried later).
        bad = smtp.model_copy(update={"password": SecretStr("wrong")})
        more = await enqueue(ledger_db, patient.id, 1, at=NOON, medium=Medium.EMAIL, prefix="bad")
        config = NotifyConfig(programs={"default": ProgramNotify(channels={Medium.EMAIL: bad})})
        assert (await Worker(ledger_db, config, SimulatedClock(NOON)).drain()).failed == 1
        attempts = await fetch(ledger_db, "SELECT error FROM delivery_attempts WHERE delivery_id = %s", more[0])
        assert "authentication" in attempts[0]["error"] and len(server.messages) == 1
    finally:
        server.stop()


async def test_apprise_delivers_through_its_json_scheme_to_a_local_receiver(ledger_db):
    receiver = WebhookSink()  # Apprise's json:// posts {"title", "message", "type"...} unsigned
    port = await receiver.start()
    patient = await make_patient(ledger_db)
    await enqueue(ledger_db, patient.id, 1, at=NOON, medium=Medium.APP)
    await _set_app_id(ledger_db, patient.id)
    channel = AppriseChannel(url=SecretStr(f"json://127.0.0.1:{port}/notify"))
    config = NotifyConfig(programs={"default": ProgramNotify(channels={Medium.APP: channel})})
    stats = await Worker(ledger_db, config, SimulatedClock(NOON)).drain()
    assert stats.sent == 1
    [got] = receiver.received
    assert got.body["title"] == "A message from your care team" and "care team" in got.body["message"]
    assert got.key == f"m:{patient.id}:0"  # the Idempotency-Key header Apprise added from the URL
    await receiver.stop()


async def _set_app_id(url: str, patient: int) -> None:
    conn = await connect(url)
    async with conn.transaction():
        await conn.execute("UPDATE patients SET app_id = 'app-user-1' WHERE id = %s", (patient,))
    await conn.close()


async def test_a_program_without_a_channel_for_the_medium_dead_letters_with_the_reason(ledger_db, sink):
    patient = await make_patient(ledger_db)
    await enqueue(ledger_db, patient.id, 1, at=NOON, medium=Medium.EMAIL)
    stats = await Worker(ledger_db, webhook_config(sink.url), SimulatedClock(NOON)).drain()
    assert stats.dead == 1 and sink.received == []
    conn = await connect(ledger_db)
    [dead] = await deliveries.dead_letters(conn)
    assert dead.status_reason == "program default has no email channel"
    assert await deliveries.requeue(conn, dead.id, now=NOON, by="coordinator")
    await conn.commit()
    await conn.close()
