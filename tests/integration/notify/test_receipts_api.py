"""Provider receipts on a signed endpoint (applied once, only forward), the dead-letter list and call outcomes."""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime, timedelta

import pytest

from tests.support.world import World, api_client, seed_world, token
from vitalgate.domain import Medium, RecipientKind
from vitalgate.notify.signing import SIGNATURE_HEADER, sign
from vitalgate.store import deliveries
from vitalgate.store.db import connect
from vitalgate.store.deliveries import DeliveryRequest

RECEIPT_SECRET = "rcpt-" + secrets.token_urlsafe(32)


@pytest.fixture(scope="module")
def world(database_url: str) -> World:
    return seed_world(database_url, "nr" + secrets.token_hex(3))


@pytest.fixture(autouse=True)
def receipt_config(tmp_path, monkeypatch):
    path = tmp_path / "notify.toml"
    path.write_text(f'[notify]\nreceipt_secret = "{RECEIPT_SECRET}"\nreplay_window_s = 300\n')
    monkeypatch.setenv("VITALGATE_NOTIFY_CONFIG", str(path))


async def _delivery(url: str, patient: int, key: str, *, medium=Medium.SMS, status: str = "sent") -> int:
    conn = await connect(url)
    async with conn.transaction():
        now = datetime.now(UTC)
        new = await deliveries.enqueue(
            conn,
            DeliveryRequest(
                idempotency_key=key,
                patient_id=patient,
                recipient_kind=RecipientKind.PATIENT,
                recipient_id=patient,
                channel="message",
                medium=medium,
                template="check-in",
                not_before=now,
            ),
        )
        assert new is not None
        await conn.execute(
            "UPDATE deliveries SET status = %s, provider_message_id = %s, attempts = 3 WHERE id = %s",
            (status, f"prov-{key}", new),
        )
    await conn.close()
    return new


def _signed(body: dict, *, at: datetime | None = None, secret: str = RECEIPT_SECRET) -> tuple[bytes, dict]:
    raw = json.dumps(body).encode()
    return raw, {SIGNATURE_HEADER: sign(secret, raw, at or datetime.now(UTC)), "Content-Type": "application/json"}


async def test_signed_receipts_update_status_once_and_never_backwards(database_url, world):
    key = f"rc-{world.suffix}"
    delivery = await _delivery(database_url, world.patients["p1"], key)
    async with api_client(database_url) as client:
        raw, headers = _signed({"message_id": f"prov-{key}", "status": "delivered", "event_id": f"ev1-{key}"})
        first = await client.post("/notify/receipts", content=raw, headers=headers)
        assert first.status_code == 200 and first.json() == {
            "applied": True,
            "delivery_id": delivery,
            "status": "delivered",
        }
        again = await client.post("/notify/receipts", content=raw, headers=headers)  # the provider retried it
        assert again.json() == {"applied": False, "delivery_id": None, "status": None}
        late, headers = _signed({"idempotency_key": key, "status": "sent", "event_id": f"ev0-{key}"})
        assert (await client.post("/notify/receipts", content=late, headers=headers)).json()["status"] == "delivered"
        # Unsigned, wrongly signed, or replayed outside the window: refused, nothing changes.
        bad = {"delivery_id": delivery, "status": "failed", "event_id": f"ev2-{key}"}
        raw, headers = _signed(bad, secret="not-the-secret")
        assert (await client.post("/notify/receipts", content=raw, headers=headers)).status_code == 401
        raw, headers = _signed(bad, at=datetime.now(UTC) - timedelta(minutes=10))
        assert (await client.post("/notify/receipts", content=raw, headers=headers)).status_code == 401
        assert (await client.post("/notify/receipts", content=raw)).status_code == 401
        raw, headers = _signed({"delivery_id": 2**62, "status": "delivered"})
        assert (await client.post("/notify/receipts", content=raw, headers=headers)).status_code == 404
    conn = await connect(database_url)
    row = await deliveries.get(conn, delivery)
    await conn.close()
    assert row is not None and row.status == "delivered" and row.delivered_at is not None


async def test_staff_see_their_teams_dead_letters_requeue_one_and_record_a_call(database_url, world):
    mine = await _delivery(database_url, world.patients["p1"], f"dl-a-{world.suffix}", status="dead")
    theirs = await _delivery(database_url, world.patients["p3"], f"dl-b-{world.suffix}", status="dead")
    call = await _delivery(
        database_url, world.patients["p1"], f"call-{world.suffix}", medium=Medium.CALL, status="queued"
    )
    async with api_client(database_url) as client:
        coord_a = await token(client, world.users["coord_a"])
        listed = (await client.get("/notify/dead-letters", headers=coord_a)).json()
        ids = {d["id"] for d in listed}
        assert mine in ids and theirs not in ids
        assert (await client.post(f"/notify/dead-letters/{theirs}/requeue", headers=coord_a)).status_code == 404
        again = await client.post(f"/notify/dead-letters/{mine}/requeue", headers=coord_a)
        assert again.status_code == 200 and again.json()["status"] == "queued" and again.json()["attempts"] == 0
        assert (await client.post(f"/notify/dead-letters/{mine}/requeue", headers=coord_a)).status_code == 409
        outcome = await client.post(
            f"/notify/calls/{call}/outcome", json={"outcome": "no_answer", "notes": "rang 10 times"}, headers=coord_a
        )
        assert outcome.status_code == 200
        assert outcome.json()["status"] == "undelivered" and outcome.json()["call_outcome"] == "no_answer"
        second = await client.post(f"/notify/calls/{call}/outcome", json={"outcome": "reached"}, headers=coord_a)
        assert second.status_code == 409


async def test_outbox_page_shows_calls_with_tel_links_and_dead_letters_and_takes_the_outcome(database_url, world):
    import re

    from tests.support.world import PASSWORD

    call = await _delivery(
        database_url, world.patients["p1"], f"wcall-{world.suffix}", medium=Medium.CALL, status="queued"
    )
    dead = await _delivery(database_url, world.patients["p1"], f"wdead-{world.suffix}", status="dead")
    conn = await connect(database_url)
    async with conn.transaction():
        await conn.execute("UPDATE patients SET phone = '+8613812345678' WHERE id = %s", (world.patients["p1"],))
        await conn.execute(
            "UPDATE deliveries SET status_reason = 'no sms address for the patient' WHERE id = %s", (dead,)
        )
    await conn.close()
    async with api_client(database_url) as client:
        await client.post("/ui/login", data={"username": world.users["coord_a"], "password": PASSWORD})
        page = await client.get("/ui/outbox")
        assert page.status_code == 200
        assert 'href="tel:+8613812345678"' in page.text and f'id="c{call}"' in page.text
        assert f'id="d{dead}"' in page.text and "no sms address for the patient" in page.text
        csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text).group(1)  # type: ignore[union-attr]
        done = await client.post(
            f"/ui/outbox/{call}/call", data={"csrf": csrf, "outcome": "wrong_number", "notes": "a bakery"}
        )
        assert done.status_code == 303
        again = await client.post(f"/ui/outbox/{dead}/requeue", data={"csrf": csrf})
        assert again.status_code == 303
        page = await client.get("/ui/outbox")
        assert f'id="c{call}"' not in page.text and f'id="d{dead}"' not in page.text
    conn = await connect(database_url)
    row = await deliveries.get(conn, call)
    await conn.close()
    assert (
        row is not None
        and row.call_outcome == "wrong_number"
        and row.call_notes == "a bakery"
        and row.status == "failed"
    )
