"""FHIR CommunicationRequest (planned touchpoints) and Communication (sent and received), validated with fhir.resources."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.communication import Communication
from fhir.resources.R4B.communicationrequest import CommunicationRequest

from tests.support.world import World, api_client, seed_world, token
from vitalgate.followup.escalation import fire_due
from vitalgate.notify import inbound
from vitalgate.notify.inbound import InboundSms
from vitalgate.store import patient_record
from vitalgate.store.db import connect


@pytest.fixture(scope="module")
def world(database_url: str) -> World:
    return seed_world(database_url, "fc" + secrets.token_hex(3))


async def test_touchpoints_and_messages_export_as_valid_fhir(database_url: str, world: World) -> None:
    pid, task = world.patients["p2"], world.tasks["high_p2"]
    phone = f"+8615{pid:09d}"
    now = datetime.now(UTC)
    conn = await connect(database_url)
    async with conn.transaction():
        await patient_record.update_record(conn, pid, {"phone": phone, "preferred_channel": "sms"})
        fired = await fire_due(conn, now, task_id=task, quiet_hours=False)  # the first step goes to the outbox
        await inbound.receive_sms(conn, InboundSms("test", f"fc-{world.suffix}", phone, "feeling dizzy", now), now=now)
    await conn.close()
    assert fired
    async with api_client(database_url) as client:
        staff = await token(client, world.users["coord_a"])
        sent = await client.post(f"/patients/{pid}/messages", headers=staff, json={"body": "We will call you today."})
        assert sent.status_code == 201
        requests = (await client.get(f"/fhir/Patient/{pid}/CommunicationRequest", headers=staff)).json()
        communications = (await client.get(f"/fhir/Patient/{pid}/Communication", headers=staff)).json()
        record = (await client.get(f"/fhir/Patient/{pid}/$record", headers=staff)).json()
        other = await token(client, world.users["coord_b"])
        assert (await client.get(f"/fhir/Patient/{pid}/Communication", headers=other)).status_code == 404
    for bundle in (requests, communications, record):
        Bundle.model_validate(bundle)
    reqs = [CommunicationRequest.model_validate(e["resource"]) for e in requests["entry"]]
    assert {r.status for r in reqs} == {"completed", "revoked"}
    revoked = [r for r in reqs if r.status == "revoked"]
    assert revoked and all(r.statusReason is not None for r in revoked)
    # The free-text reply answered the (high, not urgent) task: its chain stopped there.
    assert {r.statusReason.text for r in revoked} == {"patient responded"}
    comms = [Communication.model_validate(e["resource"]) for e in communications["entry"]]
    by_id = {c.id: c for c in comms}
    first = next(c for c in comms if c.id.startswith("delivery-") and c.basedOn)
    assert first.basedOn[0].reference == f"CommunicationRequest/tp-{fired[0].touchpoint_id}"
    assert first.medium[0].text == "sms" and first.recipient[0].reference == f"Patient/{pid}"
    received = next(c for c in comms if c.payload and c.payload[0].contentString == "feeling dizzy")
    assert received.sender.reference == f"Patient/{pid}" and received.received is not None
    outbound = by_id[f"message-{sent.json()['id']}"]
    assert outbound.payload[0].contentString == "We will call you today." and outbound.sender.display == "Coord A"
    types = [e["resource"]["resourceType"] for e in record["entry"]]
    assert types.count("CommunicationRequest") == len(reqs) and types.count("Communication") == len(comms)
