"""Signed-link pages, the inbound SMS webhook and the staff conversation, through the real app and PostgreSQL."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from pydantic import SecretStr

from tests.support.world import World, api_client, seed_world, settings, token
from vitalgate.api.app import create_app
from vitalgate.api.link_throttle import LinkRatePolicy
from vitalgate.notify import links
from vitalgate.notify.signing import SIGNATURE_HEADER, sign
from vitalgate.store import patient_record
from vitalgate.store.db import connect, make_pool

SECRET = "inbound-sms-test-secret-" + "y" * 24


@pytest.fixture(scope="module")
def world(database_url: str) -> World:
    import secrets

    return seed_world(database_url, "lm" + secrets.token_hex(3))


@contextlib.asynccontextmanager
async def client_for(url: str, *, rate: LinkRatePolicy | None = None) -> AsyncIterator[httpx.AsyncClient]:
    pool = make_pool(url, max_size=4)
    await pool.open()
    try:
        app_settings = settings().model_copy(update={"sms_inbound_secret": SecretStr(SECRET)})
        app = create_app(url, settings=app_settings, pool=pool, link_rate=rate)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
            yield client
    finally:
        await pool.close()


async def _issue(url: str, purpose: str, patient_id: int, **kw) -> str:
    conn = await connect(url)
    async with conn.transaction():
        path = await links.issue_link(
            conn, links.LinkPurpose(purpose), patient_id=patient_id, now=datetime.now(UTC), **kw
        )
    await conn.close()
    return path


async def _one(url: str, sql: str, *params):
    conn = await connect(url)
    try:
        return await (await conn.execute(sql, params)).fetchone()
    finally:
        await conn.close()


async def test_check_in_link_page_answers_once_and_stops_the_chain(database_url: str, world: World) -> None:
    task = world.tasks["high_p2"]
    path = await _issue(database_url, "check_in", world.patients["p2"], task_id=task)
    async with client_for(database_url) as client:
        page = await client.get(path)
        assert page.status_code == 200 and "I&#39;m OK" in page.text and "Please call me" in page.text
        assert page.headers["referrer-policy"] == "no-referrer" and page.headers["cache-control"] == "no-store"
        done = await client.post(path, data={"answer": "ok"})
        assert done.status_code == 303 and done.headers["location"] == path
        after = await client.get(path)
        assert 'data-answer="ok"' in after.text
        again = await client.post(path, data={"answer": "call_me"})
        assert again.status_code == 409 and "answered already" in again.text
        assert (await client.get("/l/" + "A" * 32)).status_code == 404
    row = await _one(database_url, "SELECT patient_responded_at FROM tasks WHERE id = %s", task)
    assert row["patient_responded_at"] is not None
    pending = await _one(
        database_url,
        "SELECT count(*) AS n FROM touchpoints WHERE task_id = %s AND fired_at IS NULL AND cancelled_at IS NULL",
        task,
    )
    assert pending["n"] == 0
    audit = await _one(
        database_url,
        "SELECT count(*) FILTER (WHERE action = 'read:link') AS opened,"
        " count(*) FILTER (WHERE action = 'change:link_answer') AS answered FROM audit_log WHERE patient_id = %s"
        " AND actor LIKE 'link:%%'",
        world.patients["p2"],
    )
    assert audit["opened"] >= 2 and audit["answered"] == 1


async def test_expired_link_and_rate_limits(database_url: str, world: World) -> None:
    conn = await connect(database_url)
    async with conn.transaction():
        old = await links.issue_link(
            conn,
            links.LinkPurpose.CHECK_IN,
            patient_id=world.patients["p1"],
            ttl=timedelta(minutes=1),
            now=datetime.now(UTC) - timedelta(hours=1),
        )
    await conn.close()
    path = await _issue(database_url, "visit", world.patients["p1"])
    async with client_for(database_url, rate=LinkRatePolicy(per_source=1000, per_token=3)) as client:
        assert (await client.get(old)).status_code == 410
        codes = [(await client.get(path)).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
    async with client_for(database_url, rate=LinkRatePolicy(per_source=2, per_token=1000)) as client:
        # One address guessing tokens: refused after its budget, whatever the token.
        guesses = [(await client.get(f"/l/{'g' * 31}{n}")).status_code for n in range(3)]
        assert guesses[-1] == 429


def _signed(body: dict, *, at: datetime | None = None, secret: str = SECRET) -> tuple[bytes, dict[str, str]]:
    raw = json.dumps(body).encode()
    return raw, {SIGNATURE_HEADER: sign(secret, raw, at or datetime.now(UTC)), "content-type": "application/json"}


async def test_inbound_sms_webhook_checks_the_signature_and_acts(database_url: str, world: World) -> None:
    phone = f"+8613{world.patients['p3']:09d}"
    conn = await connect(database_url)
    async with conn.transaction():
        await patient_record.update_record(conn, world.patients["p3"], {"phone": phone})
    await conn.close()
    sms = {"provider": "test", "message_id": f"in-{world.suffix}", "from": phone, "text": "STOP"}
    async with client_for(database_url) as client:
        raw, headers = _signed(sms)
        assert (await client.post("/webhooks/sms/inbound", content=raw)).status_code == 401  # unsigned
        _, wrong = _signed(sms, secret="not-the-secret")
        assert (await client.post("/webhooks/sms/inbound", content=raw, headers=wrong)).status_code == 401
        _, stale = _signed(sms, at=datetime.now(UTC) - timedelta(minutes=10))
        assert (await client.post("/webhooks/sms/inbound", content=raw, headers=stale)).status_code == 401
        ok = await client.post("/webhooks/sms/inbound", content=raw, headers=headers)
        assert ok.status_code == 200, ok.text
        assert ok.json() | {"message_id": 0} == {
            "message_id": 0,
            "matched": True,
            "keyword": "opt_out",
            "effect": "opted_out",
            "duplicate": False,
        }
        repeat = await client.post("/webhooks/sms/inbound", content=raw, headers=headers)
        assert repeat.json()["duplicate"] is True
    consent = await _one(
        database_url,
        "SELECT decision FROM consent_records WHERE patient_id = %s AND channel = 'sms' ORDER BY id DESC LIMIT 1",
        world.patients["p3"],
    )
    assert consent["decision"] == "withdrawn"
    async with api_client(database_url) as client:  # no secret configured: the endpoint is off
        assert (await client.post("/webhooks/sms/inbound", content=raw, headers=headers)).status_code == 404


async def test_staff_message_reaches_the_inbox_and_the_reply_comes_back(database_url: str, world: World) -> None:
    p1 = world.patients["p1"]
    async with client_for(database_url) as client:
        coord = await token(client, world.users["coord_a"])
        sent = await client.post(
            f"/patients/{p1}/messages", headers=coord, json={"body": "Please bring your meter on Monday."}
        )
        assert sent.status_code == 201, sent.text
        assert sent.json()["direction"] == "outbound" and sent.json()["author"] == "Coord A"
        other = await token(client, world.users["coord_b"])
        assert (await client.post(f"/patients/{p1}/messages", headers=other, json={"body": "x"})).status_code == 404
        delivery = await _one(
            database_url,
            "SELECT template, params, status, medium FROM deliveries WHERE idempotency_key = %s",
            f"message:{sent.json()['id']}",
        )
        assert delivery["template"] == "care-team-message" and delivery["status"] == "queued"
        inbox = delivery["params"]["link"]
        assert "meter" not in json.dumps(delivery["params"])  # the text stays behind the link
        # An automated message the ledger sent the patient shows in the inbox too, in their words.
        conn = await connect(database_url)
        async with conn.transaction():
            await conn.execute(
                "INSERT INTO deliveries (idempotency_key, patient_id, recipient_kind, recipient_id, channel, medium,"
                " template, next_attempt_at, created_at, updated_at, status, sent_at)"
                " VALUES (%s, %s, 'patient', %s, 'message', 'sms', 'check-in', now(), now(), now(), 'sent', now())",
                (f"inbox-test:{p1}", p1, p1),
            )
        await conn.close()
        page = await client.get(inbox)
        assert page.status_code == 200 and "Please bring your meter on Monday." in page.text
        assert "Your care team would like to know how you are." in page.text
        reply = await client.post(f"{inbox}/reply", data={"text": "Will do, thanks"})
        assert reply.status_code == 303 and reply.headers["location"].endswith("?sent=1")
        shown = await client.get(reply.headers["location"])
        assert "Will do, thanks" in shown.text
        convo = await client.get(f"/patients/{p1}/messages", headers=coord)
        assert [m["direction"] for m in convo.json()][-2:] == ["outbound", "inbound"]
    triaged = await _one(
        database_url,
        "SELECT t.category FROM inbound_triage t JOIN messages m ON m.id = t.inbound_message_id WHERE m.body = %s",
        "Will do, thanks",
    )
    assert triaged is not None  # the free text went through triage's routing


async def test_questionnaire_link_goes_to_the_questionnaire_page(database_url: str, world: World) -> None:
    path = await _issue(database_url, "questionnaire", world.patients["p1"], questionnaire="symptom-check")
    async with client_for(database_url) as client:
        response = await client.get(path)
    assert response.status_code == 303 and response.headers["location"] == path.replace("/l/", "/q/")


async def test_staff_reply_from_the_patient_page_with_a_script(database_url: str, world: World) -> None:
    from vitalgate.store import reply_scripts

    p1 = world.patients["p1"]
    conn = await connect(database_url)
    script = (await reply_scripts.listed(conn))[0]
    await conn.close()
    async with client_for(database_url) as client:
        login = await client.post(
            "/ui/login", data={"username": world.users["coord_a"], "password": "correct-horse-battery-staple"}
        )
        assert login.status_code == 303
        page = await client.get(f"/ui/patients/{p1}")
        assert page.status_code == 200 and 'id="conversation"' in page.text
        csrf = page.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        sent = await client.post(
            f"/ui/patients/{p1}/messages",
            data={"csrf": csrf, "script_id": str(script.id), "task_id": str(world.tasks["routine_p1"]), "body": ""},
        )
        assert sent.status_code == 303
        forged = await client.post(f"/ui/patients/{p1}/messages", data={"csrf": "wrong", "body": "x"})
        assert forged.status_code == 403
        page = await client.get(f"/ui/patients/{p1}?task={world.tasks['routine_p1']}")
        expected = script.body_en.split("{")[0].strip()[:20]
        assert expected in page.text
    conn = await connect(database_url)
    after = await reply_scripts.get(conn, script.id)
    await conn.close()
    assert after is not None and after.usage_count == script.usage_count + 1


async def test_visit_link_confirms_the_visit_and_a_staff_link_acknowledges(database_url: str, world: World) -> None:
    from vitalgate.followup.sop import schedule_sop
    from vitalgate.store import users

    now = datetime.now(UTC)
    conn = await connect(database_url)
    async with conn.transaction():
        sop = await schedule_sop(
            conn, patient_id=world.patients["p3"], anchor_at=now + timedelta(days=10), now=now - timedelta(days=1)
        )
        visit = await links.issue_link(
            conn,
            links.LinkPurpose.VISIT,
            patient_id=world.patients["p3"],
            task_id=sop.task_id,
            sop_instance_id=sop.instance_id,
            now=now,
        )
        nurse = await users.get_user_by_username(conn, world.users["coord_a"])
        assert nurse is not None
        ack = await links.issue_link(
            conn,
            links.LinkPurpose.STAFF_ACK,
            patient_id=world.patients["p1"],
            user_id=nurse.id,
            task_id=world.tasks["urgent_p1"],
            now=now,
        )
    await conn.close()
    async with client_for(database_url) as client:
        page = await client.get(visit)
        assert "I will come" in page.text and "Visit time" in page.text
        assert (await client.post(visit, data={"answer": "confirm"})).status_code == 303
        assert (await client.post(ack, data={"answer": "acknowledged"})).status_code == 303
    instance = await _one(database_url, "SELECT status FROM sop_instances WHERE id = %s", sop.instance_id)
    assert instance["status"] == "confirmed"
    steps = await _one(
        database_url,
        "SELECT array_agg(step_name ORDER BY step_index) FILTER (WHERE cancel_reason = 'confirmed') AS cancelled,"
        " array_agg(step_name ORDER BY step_index) FILTER (WHERE fired_at IS NULL AND cancelled_at IS NULL) AS pending"
        " FROM touchpoints WHERE sop_instance_id = %s",
        sop.instance_id,
    )
    # The confirmation reminders stop; the T-7 note (not cancel_on_confirm) and the T+2 check still run.
    assert steps["cancelled"] == ["T-2 confirmation link", "T-1 voice message", "day-of phone call"]
    assert steps["pending"] == ["T-7 message", "T+2 visit check"]
    task = await _one(database_url, "SELECT status, assignee_id FROM tasks WHERE id = %s", world.tasks["urgent_p1"])
    assert task["status"] == "in_progress"
