"""Staff alerts against PostgreSQL: the assignee at once, the next on-call person after the due time,
an acknowledgement stops them, through the delivery ledger with a one-click staff_ack link."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from vitalgate.domain import LinkPurpose
from vitalgate.followup.actions import acknowledge_task
from vitalgate.notify import links
from vitalgate.notify.oncall import alerts
from vitalgate.notify.triage import TriageCategory, route_message
from vitalgate.store import deliveries, people, time_zones
from vitalgate.store import oncall as oncall_store
from vitalgate.store import tasks as task_store
from vitalgate.store.db import connect, scalar

# Monday 2026-03-02 10:00 in Shanghai.
NOW = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


async def _team(conn, unique: str, *, a_reachable: bool = True) -> dict[str, int]:
    team = await people.create_care_team(conn, f"oncall-{unique}")
    await time_zones.set_team_time_zone(conn, team, "Asia/Shanghai")
    ids = {"team": team}
    for name, role in (("nurse_a", "nurse"), ("nurse_b", "nurse"), ("nurse_c", "nurse"), ("doctor", "doctor")):
        ids[name] = await people.create_user(conn, f"{name}-{unique}", name, role, care_team_id=team)
    if a_reachable:
        await oncall_store.set_alert_channel(conn, ids["nurse_a"], medium="sms", address="+8613800000001")
    await oncall_store.set_alert_channel(conn, ids["nurse_b"], medium="email", address=f"b-{unique}@example.org")
    # Monday day shift: A first, B second; C is on call only at night (not now).
    await oncall_store.replace_shifts(
        conn,
        team,
        [
            (ids["nurse_a"], 1, time(8), time(20), 1),
            (ids["nurse_b"], 1, time(8), time(20), 2),
            (ids["nurse_c"], 1, time(20), time(8), 1),
        ],
    )
    ids["patient"] = await people.create_patient(conn, "Alert Patient", team, external_ref=f"alert-{unique}")
    return ids


async def _urgent(conn, ids) -> int:
    decision = await route_message(
        conn,
        patient_id=ids["patient"],
        text="My father fainted and is confused",
        received_at=NOW,
        inbound_message_id=None,
    )
    assert decision.category == TriageCategory.URGENT_CLINICAL
    await conn.commit()
    assert decision.task_id is not None
    return decision.task_id


async def _staff_deliveries(conn, task_id: int):
    return [d for d in await deliveries.listed(conn, task_id=task_id) if d.recipient_kind == "staff"][::-1]


async def test_assignee_at_once_then_next_on_call_after_due_then_cycle(database_url, unique):
    conn = await connect(database_url)
    ids = await _team(conn, unique)
    task_id = await _urgent(conn, ids)
    sent = await _staff_deliveries(conn, task_id)
    assert [(d.recipient_id, d.medium, d.address, d.urgent) for d in sent] == [
        (ids["nurse_a"], "sms", "+8613800000001", True)
    ]
    assert sent[0].idempotency_key == f"staff-alert:{task_id}:{ids['nurse_a']}:1"
    assert sent[0].template == alerts.TEMPLATE and sent[0].params["link"].startswith("/l/")
    # The link is a one-click acknowledgement for that nurse and task.
    grant = await links.open_link(conn, sent[0].params["link"].removeprefix("/l/"), NOW + timedelta(minutes=1))
    assert grant.purpose == LinkPurpose.STAFF_ACK and grant.task_id == task_id and grant.user_id == ids["nurse_a"]
    await conn.commit()

    # Before the due time (15 min) nobody else is called; after it, the next on-call nurse (B).
    assert await alerts.tick(
        database_url, care_team_ids=[ids["team"]], now=NOW + timedelta(minutes=14)
    ) == alerts.TickResult(0, 0)
    assert await alerts.tick(
        database_url, care_team_ids=[ids["team"]], now=NOW + timedelta(minutes=15)
    ) == alerts.TickResult(0, 1)
    assert await alerts.tick(
        database_url, care_team_ids=[ids["team"]], now=NOW + timedelta(minutes=16)
    ) == alerts.TickResult(0, 0)
    # Another 15 minutes unanswered: everyone on call was alerted, so back to A (not the night nurse C).
    assert await alerts.tick(
        database_url, care_team_ids=[ids["team"]], now=NOW + timedelta(minutes=30)
    ) == alerts.TickResult(0, 1)
    who = [(d.recipient_id, d.medium) for d in await _staff_deliveries(conn, task_id)]
    assert who == [(ids["nurse_a"], "sms"), (ids["nurse_b"], "email"), (ids["nurse_a"], "sms")]
    events = [e.detail["attempt"] for e in await task_store.task_events(conn, task_id) if e.kind == "staff_alerted"]
    assert events == [1, 2, 3]
    await conn.close()


async def test_acknowledgement_stops_renotification(database_url, unique):
    conn = await connect(database_url)
    ids = await _team(conn, unique)
    task_id = await _urgent(conn, ids)
    await acknowledge_task(conn, task_id, actor=f"nurse_a-{unique}", now=NOW + timedelta(minutes=5))
    await conn.commit()
    assert await alerts.tick(
        database_url, care_team_ids=[ids["team"]], now=NOW + timedelta(minutes=20)
    ) == alerts.TickResult(0, 0)
    assert len(await _staff_deliveries(conn, task_id)) == 1
    await conn.close()


async def test_unreachable_assignee_falls_to_the_next_on_call_and_any_urgent_task_is_caught(database_url, unique):
    conn = await connect(database_url)
    ids = await _team(conn, unique, a_reachable=False)
    # An urgent task opened by another producer (e.g. the alert engine), assigned to A, who has no channel.
    task_id = await task_store.create_task(
        conn,
        patient_id=ids["patient"],
        care_team_id=ids["team"],
        assignee_id=ids["nurse_a"],
        severity="urgent",
        title="Glucose level 2",
        due_at=NOW + timedelta(minutes=15),
        now=NOW,
        kind="alert",
    )
    await conn.commit()
    assert await alerts.tick(
        database_url, care_team_ids=[ids["team"]], now=NOW + timedelta(seconds=10)
    ) == alerts.TickResult(1, 0)
    assert await alerts.tick(
        database_url, care_team_ids=[ids["team"]], now=NOW + timedelta(seconds=20)
    ) == alerts.TickResult(0, 0)
    assert [(d.recipient_id, d.medium) for d in await _staff_deliveries(conn, task_id)] == [(ids["nurse_b"], "email")]
    assert await scalar(conn, "SELECT count(*) FROM staff_alerts WHERE task_id = %s", (task_id,)) == 1
    await conn.close()


async def test_an_urgent_task_from_a_reading_alerts_its_assignee_at_once(database_url, unique):
    from tests.support.clinic import add_patient, glucose, seed_team, sim_start, write
    from vitalgate.app.pipeline import AlertPipeline

    start = sim_start(40)
    conn = await connect(database_url)
    team = await seed_team(conn, unique, doctor=False)
    await oncall_store.set_alert_channel(conn, team["nurse"], medium="sms", address="+8613800000009")
    patient, serial = await add_patient(conn, team["team"], f"pl-{unique}", device="glucose_meter", start=start)
    await conn.commit()
    at = start + timedelta(days=1, hours=9)
    await AlertPipeline(database_url)(await write(database_url, serial, [glucose(at, 48.0)]), at)
    task_id = await scalar(conn, "SELECT id FROM tasks WHERE patient_id = %s AND severity = 'urgent'", (patient,))
    sent = await _staff_deliveries(conn, task_id)
    assert [(d.recipient_id, d.address, d.created_at) for d in sent] == [(team["nurse"], "+8613800000009", at)]
    await conn.close()


async def test_an_inbound_sms_with_urgent_symptoms_reaches_the_on_call_nurse(database_url, unique):
    """End to end through notify.inbound: the SMS is matched, triaged, an urgent task opened for the
    on-call nurse, and her alert queued in the ledger, all in the inbound message's transaction."""
    import hashlib

    from vitalgate.notify import inbound
    from vitalgate.notify.inbound import InboundSms
    from vitalgate.store import patient_record

    digits = int.from_bytes(hashlib.sha256(unique.encode()).digest()[:8], "big") % 10**8
    phone = "+86 139 " + str(digits).zfill(8)
    conn = await connect(database_url)
    ids = await _team(conn, unique)
    await patient_record.update_record(conn, ids["patient"], {"phone": phone, "preferred_channel": "sms"})
    await conn.commit()
    sms = InboundSms("test-gw", f"urgent-{unique}", phone.replace(" ", ""), "我爸胸口疼，喘不上气", NOW)
    result = await inbound.receive_sms(conn, sms, now=NOW)
    await conn.commit()
    assert result.patient_id == ids["patient"] and result.routed_task_id is not None
    task = await scalar(
        conn, "SELECT task_id FROM inbound_triage WHERE inbound_message_id = %s AND category = 'urgent_clinical'",
        (result.message_id,),
    )  # fmt: skip
    assert task == result.routed_task_id
    assert (await task_store.get_task(conn, task)).assignee_id == ids["nurse_a"]  # type: ignore[union-attr]
    assert [(d.recipient_id, d.medium) for d in await _staff_deliveries(conn, task)] == [(ids["nurse_a"], "sms")]
    await conn.close()


async def test_the_alert_reads_as_a_staff_message_in_the_nurses_language(database_url, unique):
    from vitalgate.notify.templates import render

    conn = await connect(database_url)
    ids = await _team(conn, unique)
    await conn.execute("UPDATE users SET language = 'zh-Hans' WHERE id = %s", (ids["nurse_a"],))
    task_id = await _urgent(conn, ids)
    [alert] = await _staff_deliveries(conn, task_id)
    text = render(alert.template, alert.params, alert.locale, link="https://vg.example" + alert.params["link"])
    assert alert.locale == "zh-Hans" and text.subject == "紧急任务：请立即处理"
    assert "紧急随访任务" in text.text and "https://vg.example/l/" in text.text
    assert "Alert Patient" not in text.text  # no name in the message
    await conn.close()
