"""Routing inbound messages against PostgreSQL: the right queue and person, one task per route, re-routes kept."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from vitalgate.notify.triage import TriageCategory, reroute, route_message
from vitalgate.store import oncall as oncall_store
from vitalgate.store import people, time_zones
from vitalgate.store import tasks as task_store
from vitalgate.store import triage as triage_store
from vitalgate.store.db import connect, scalar

# Monday 2026-03-02 10:00 in Shanghai.
NOW = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


async def _team(conn, unique: str) -> dict[str, int]:
    team = await people.create_care_team(conn, f"triage-{unique}")
    await time_zones.set_team_time_zone(conn, team, "Asia/Shanghai")
    ids = {"team": team}
    for name, role in (("nurse_a", "nurse"), ("nurse_b", "nurse"), ("doctor", "doctor"), ("coord", "coordinator")):
        ids[name] = await people.create_user(conn, f"{name}-{unique}", name, role, care_team_id=team)
    ids["patient"] = await people.create_patient(conn, "Triage Patient", team, external_ref=f"tri-{unique}")
    return ids


async def test_each_category_reaches_its_queue_and_urgent_goes_to_the_on_call_nurse(database_url, unique):
    conn = await connect(database_url)
    ids = await _team(conn, unique)
    # Nurse B is on call on Monday mornings in Shanghai; nurse A (lower id, least loaded) is not.
    await oncall_store.replace_shifts(conn, ids["team"], [(ids["nurse_b"], 1, time(8), time(20), 1)])
    cases = [
        ("我爸从早上开始胸口疼，还往左胳膊窜", TriageCategory.URGENT_CLINICAL, "nurse_b", "urgent"),
        ("I forgot to take my metformin this morning", TriageCategory.MEDICATION, "doctor", "high"),
        ("血糖仪一插试纸就显示E-3", TriageCategory.DEVICE, "coord", "routine"),
        ("Can I eat watermelon with diabetes?", TriageCategory.EDUCATION, "coord", "routine"),
    ]
    for i, (text, category, who, severity) in enumerate(cases):
        decision = await route_message(
            conn,
            patient_id=ids["patient"],
            text=text,
            received_at=NOW,
            inbound_message_id=None,
            now=NOW + timedelta(seconds=i),
        )
        assert decision.category == category
        task = await task_store.get_task(conn, decision.task_id)
        assert task is not None and task.assignee_id == ids[who] and task.severity == severity, (text, task)
        assert task.kind == "message"
    urgent = await triage_store.listed(conn, patient_id=ids["patient"])
    assert [r.category for r in urgent][-1] == "urgent_clinical" and urgent[-1].evidence
    # The device message and the education question both went to the coordinator: one task, two events.
    device, education = urgent[1], urgent[0]
    assert device.task_id == education.task_id
    events = [e.kind for e in await task_store.task_events(conn, device.task_id)]
    assert events.count("message") == 2
    # Education carries a suggested answer from the script library (the fruit script).
    script_key = await scalar(conn, "SELECT key FROM reply_scripts WHERE id = %s", (education.suggested_script_id,))
    assert script_key == "edu.fruit"
    await conn.rollback()
    await conn.close()


async def test_the_same_inbound_message_is_routed_once(database_url, unique):
    conn = await connect(database_url)
    ids = await _team(conn, unique)
    message_id = 9_000_000 + int(unique, 16) % 1_000_000
    first = await route_message(
        conn,
        patient_id=ids["patient"],
        text="blood sugar 42 and shaking",
        received_at=NOW,
        inbound_message_id=message_id,
    )
    again = await route_message(
        conn,
        patient_id=ids["patient"],
        text="blood sugar 42 and shaking",
        received_at=NOW,
        inbound_message_id=message_id,
    )
    assert first.opened_task and not first.duplicate
    assert again.duplicate and again.triage_id == first.triage_id and again.task_id == first.task_id
    assert await scalar(conn, "SELECT count(*) FROM tasks WHERE patient_id = %s", (ids["patient"],)) == 1
    await conn.rollback()
    await conn.close()


async def test_reroute_moves_the_task_and_is_recorded_as_labelled_feedback(database_url, unique):
    conn = await connect(database_url)
    ids = await _team(conn, unique)
    decision = await route_message(
        conn, patient_id=ids["patient"], text="你好，请问在吗", received_at=NOW, inbound_message_id=None
    )
    assert decision.category == TriageCategory.EDUCATION and decision.needs_person
    later = NOW + timedelta(minutes=3)
    moved = await reroute(
        conn,
        decision.triage_id,
        TriageCategory.URGENT_CLINICAL,
        user_id=ids["coord"],
        actor=f"coord-{unique}",
        now=later,
    )
    task = await task_store.get_task(conn, decision.task_id)
    assert moved.task_id == decision.task_id and task is not None
    assert task.severity == "urgent" and task.due_at == later + timedelta(minutes=15)
    assert task.assignee_id in (ids["nurse_a"], ids["nurse_b"])  # no roster: an on-duty nurse
    assert "rerouted" in [e.kind for e in await task_store.task_events(conn, task.id)]
    feedback = await triage_store.feedback(conn, care_team_ids=[ids["team"]])
    assert [(f.body, f.from_category, f.to_category, f.user_id) for f in feedback] == [
        ("你好，请问在吗", "education", "urgent_clinical", ids["coord"])
    ]
    await conn.rollback()
    await conn.close()


async def test_an_urgent_message_at_night_goes_to_whoever_the_roster_has_on_call(database_url, unique):
    conn = await connect(database_url)
    ids = await _team(conn, unique)
    # Nurses by day; only the doctor overnight (Monday 20:00 to Tuesday 08:00 in Shanghai).
    await oncall_store.replace_shifts(
        conn,
        ids["team"],
        [(ids["nurse_a"], 1, time(8), time(20), 1), (ids["doctor"], 1, time(20), time(8), 1)],
    )
    night = datetime(2026, 3, 2, 15, 30, tzinfo=UTC)  # Monday 23:30 in Shanghai
    decision = await route_message(
        conn,
        patient_id=ids["patient"],
        text="she passed out and is confused",
        received_at=night,
        inbound_message_id=None,
    )
    task = await task_store.get_task(conn, decision.task_id)
    assert task is not None and task.severity == "urgent" and task.assignee_id == ids["doctor"]
    await conn.rollback()
    await conn.close()
