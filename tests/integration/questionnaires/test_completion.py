"""Completing built-in questionnaires against PostgreSQL: tags, fields, tasks, SOP chains, licences."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

from tests.integration.questionnaires.conftest import NOW
from vitalgate.alerts.config import RuleSet, ThresholdRule
from vitalgate.alerts.engine import evaluate_patients
from vitalgate.alerts.selection import rule_groups
from vitalgate.followup.tasks import act_on_alerts
from vitalgate.questionnaires import service
from vitalgate.questionnaires.answers import Incomplete
from vitalgate.questionnaires.licences import LicenceRequired
from vitalgate.store import alert_inputs, patient_record, people
from vitalgate.store import questionnaires as q_store

INTAKE = {
    "birth-year": "1958",
    "sex": "female",
    "language": "zh-Hans",
    "diabetes-type": "t2",
    "insulin": "true",
    "hypertension": "true",
    "bp-medication": "true",
    "smoking": "current",
    "exercise": "none",
    "diet": "high-sugar",
    "family-diabetes": "true",
    "family-hypertension": "false",
    "has-glucose-meter": "true",
    "has-bp-cuff": "false",
    "testing-frequency": "daily",
    "last-hba1c": "8.1",
}
PHQ9_ITEM9 = {f"phq9-{n}": "LA6569-3" for n in range(1, 9)} | {"phq9-9": "LA6570-1"}  # 8x1 + 2 = 10


async def answer(conn, clinic, qid, answers, *, now=NOW, entered_by="patient", user=None):
    async with conn.transaction():
        response, _ = await service.start_or_resume(
            conn,
            patient_id=clinic.patient,
            questionnaire_id=qid,
            entered_by=entered_by,
            user_id=user,
            language="zh-Hans",
            now=now,
        )
        return await service.save(conn, response.id, answers, now=now, complete=True)


async def urgent_tasks(conn, patient):
    cur = await conn.execute(
        "SELECT t.id, t.severity, t.escalation_chain, a.rule_id FROM tasks t JOIN alerts a ON a.id = t.alert_id"
        " WHERE t.patient_id = %s AND t.severity = 'urgent' ORDER BY t.id",
        (patient,),
    )
    return await cur.fetchall()


async def test_intake_sets_tags_and_fields_and_a_segment_then_selects_the_patient(conn, clinic, unique):
    async with conn.transaction():
        other = await people.create_patient(conn, "Not Asked", clinic.team, external_ref=f"q2-{unique}")
    done = await answer(conn, clinic, "enrolment-intake", INTAKE)
    assert done is not None
    patient = await people.get_patient(conn, clinic.patient)
    assert set(patient.tags) == {
        "diabetes:t2",
        "treatment:insulin",
        "hypertension",
        "treatment:bp-medication",
        "smoking:current",
        "exercise:none",
        "diet:high-sugar",
        "family-history:diabetes",
        "device:glucose-meter",
        "testing:daily",
    }
    record = await patient_record.get_record(conn, clinic.patient)
    assert (record.birth_year, record.sex, record.language) == (1958, "female", "zh-Hans")
    observations = await q_store.observations_of(conn, clinic.patient)
    assert [(o.code, o.value, o.unit) for o in observations] == [("4548-4", 8.1, "%")]
    extracted = {(e.target, e.name, e.link_id) for e in await q_store.extractions_of(conn, clinic.patient)}
    assert ("tag_added", "treatment:insulin", "insulin") in extracted
    assert ("field", "birth_year", "birth-year") in extracted

    # The engine's own input (tags as stored) selects the patient for a segment rule; the other is not in it.
    rule = ThresholdRule.model_validate(
        {
            "id": "insulin-smokers-low",
            "title": "t",
            "severity": "high",
            "measurement": "glucose",
            "segment": "diabetes:t2 and treatment:insulin and smoking:current",
            "conditions": [{"field": "glucose_mg_dl", "op": "<", "value": 70, "unit": "mg/dL"}],
        }
    )
    facts = await alert_inputs.patient_facts(conn, [clinic.patient, other])
    groups = rule_groups(RuleSet(rules=[rule]), {p: f[0] for p, f in facts.items()})
    assert [list(np.asarray(members)) for _, members in groups] == [[clinic.patient]]

    # Answered again: the answers' own tags are replaced, other tags stay.
    async with conn.transaction():
        await q_store.set_tags(conn, clinic.patient, add=["program:home-glucose"], remove=[])
    await answer(
        conn,
        clinic,
        "enrolment-intake",
        INTAKE | {"smoking": "former", "insulin": "false"},
        now=NOW + timedelta(days=1),
    )
    tags = set((await people.get_patient(conn, clinic.patient)).tags)
    assert {"smoking:former", "treatment:no-insulin", "program:home-glucose"} <= tags
    assert not {"smoking:current", "treatment:insulin"} & tags


async def test_phq9_item9_above_zero_opens_exactly_one_urgent_task(conn, clinic):
    done = await answer(conn, clinic, "phq-9", PHQ9_ITEM9)
    assert {(s.name, s.value, s.band) for s in done.scores} == {("total", 10.0, "moderate"), ("item-9", 2.0, None)}
    tasks = await urgent_tasks(conn, clinic.patient)
    assert [(t["severity"], t["escalation_chain"], t["rule_id"]) for t in tasks] == [
        ("urgent", "urgent", "phq9-self-harm")
    ]
    # A scheduled evaluation and a second alarming answer while it is open add no second task.
    async with conn.transaction():
        later = NOW + timedelta(minutes=5)
        await act_on_alerts(conn, await evaluate_patients(conn, [clinic.patient], now=later), now=later)
    await answer(conn, clinic, "phq-9", PHQ9_ITEM9 | {"phq9-9": "LA6571-9"}, now=NOW + timedelta(hours=2))
    assert len(await urgent_tasks(conn, clinic.patient)) == 1


async def test_phq9_without_item9_opens_no_task(conn, clinic):
    done = await answer(conn, clinic, "phq-9", PHQ9_ITEM9 | {"phq9-9": "LA6568-5"})
    assert [s.value for s in done.scores if s.name == "item-9"] == [0.0]
    assert await urgent_tasks(conn, clinic.patient) == []


async def test_symptom_check_alarming_answer_escalates(conn, clinic):
    calm = {
        k: "false"
        for k in (
            "hypo-shaky",
            "hypo-fainted",
            "hyper-thirst",
            "hyper-vomiting",
            "bp-headache",
            "bp-chest",
            "bp-weakness",
        )
    }
    done = await answer(conn, clinic, "symptom-check", calm)
    assert done.tasks == ()
    done = await answer(conn, clinic, "symptom-check", calm | {"bp-chest": "true"}, now=NOW + timedelta(minutes=30))
    assert [(t.severity, t.escalation_chain) for t in done.tasks] == [("urgent", "urgent")]
    cur = await conn.execute(
        "SELECT channel FROM touchpoints WHERE task_id = %s ORDER BY step_index", (done.tasks[0].task_id,)
    )
    steps = await cur.fetchall()
    assert [s["channel"] for s in steps] == ["message", "voice", "phone", "doctor"]


async def test_post_visit_form_schedules_the_next_sop_chain_and_stores_labs(conn, clinic):
    visit = (NOW + timedelta(days=40)).date()
    done = await answer(
        conn,
        clinic,
        "post-visit",
        {
            "visit-happened": "true",
            "medication-changed": "true",
            "medication-change-note": "metformin 1000 mg",
            "hba1c": "7.2",
            "next-visit": visit.isoformat(),
        },
        entered_by="staff",
        user=clinic.nurse,
    )
    assert [s.chain_id for s in done.sops] == ["visit-reminders"] and done.sops[0].created
    cur = await conn.execute("SELECT anchor_at, status FROM sop_instances WHERE id = %s", (done.sops[0].instance_id,))
    row = await cur.fetchone()
    anchor, status = row["anchor_at"], row["status"]
    assert status == "scheduled" and anchor.date() in (visit, visit - timedelta(days=1))
    assert [(o.code, o.value, o.unit) for o in await q_store.observations_of(conn, clinic.patient)] == [
        ("4548-4", 7.2, "%")
    ]
    response = await q_store.get_response(conn, done.response_id)
    assert (response.entered_by, response.entered_by_user_id) == ("staff", clinic.nurse)
    assert "medication:changed-recently" in (await people.get_patient(conn, clinic.patient)).tags


async def test_partial_answers_are_kept_and_resumed(conn, clinic):
    async with conn.transaction():
        response, _ = await service.start_or_resume(
            conn,
            patient_id=clinic.patient,
            questionnaire_id="gad-7",
            entered_by="patient",
            user_id=None,
            language="en",
            now=NOW,
        )
        assert await service.save(conn, response.id, {"gad7-1": "LA6569-3"}, now=NOW, complete=False) is None
    async with conn.transaction():
        again, _ = await service.start_or_resume(
            conn,
            patient_id=clinic.patient,
            questionnaire_id="gad-7",
            entered_by="patient",
            user_id=None,
            language="en",
            now=NOW + timedelta(hours=3),
        )
    assert again.id == response.id and again.answers == {"gad7-1": "LA6569-3"}
    with pytest.raises(Incomplete) as missing:
        async with conn.transaction():
            await service.save(conn, response.id, {"gad7-2": "LA6569-3"}, now=NOW, complete=True)
    assert missing.value.missing == ["gad7-3", "gad7-4", "gad7-5", "gad7-6", "gad7-7"]


async def test_a_licence_required_scale_is_refused_until_a_licence_is_recorded(conn, clinic):
    with pytest.raises(LicenceRequired, match="mmas-8"):
        async with conn.transaction():
            await service.start_or_resume(
                conn,
                patient_id=clinic.patient,
                questionnaire_id="mmas-8",
                entered_by="patient",
                user_id=None,
                language="en",
                now=NOW,
            )
    async with conn.transaction():
        await q_store.record_licence(
            conn, "mmas-8", licensee="Test Clinic", reference="MMAR-123", valid_until=None, recorded_by="admin"
        )
        response, definition = await service.start_or_resume(
            conn,
            patient_id=clinic.patient,
            questionnaire_id="mmas-8",
            entered_by="patient",
            user_id=None,
            language="en",
            now=NOW,
        )
        await conn.execute("DELETE FROM questionnaire_licences WHERE instrument = 'mmas-8'")
    assert definition.licence == "mmas-8" and response.status == "in-progress"


async def test_a_symptom_check_sent_for_a_task_marks_the_patient_as_responded(conn, clinic):
    from vitalgate.followup.tasks import open_task_for_alert
    from vitalgate.store import alerts as alert_store

    async with conn.transaction():
        alert = await alert_store.open_or_update_alert(
            conn,
            patient_id=clinic.patient,
            rule_id="test-high",
            severity="high",
            dedup_key=f"qt-{clinic.patient}",
            summary="test",
            evidence={},
            now=NOW,
        )
        task = await open_task_for_alert(
            conn, alert_id=alert.alert_id, patient_id=clinic.patient, severity="high", title="t", now=NOW
        )
        response, _ = await service.start_or_resume(
            conn,
            patient_id=clinic.patient,
            questionnaire_id="symptom-check",
            entered_by="patient",
            user_id=None,
            language="zh-Hans",
            now=NOW,
            task_id=task.task_id,
        )
        calm = {
            k: "false"
            for k in (
                "hypo-shaky",
                "hypo-fainted",
                "hyper-thirst",
                "hyper-vomiting",
                "bp-headache",
                "bp-chest",
                "bp-weakness",
            )
        }
        await service.save(conn, response.id, calm, now=NOW + timedelta(minutes=70), complete=True)
    cur = await conn.execute("SELECT patient_responded_at FROM tasks WHERE id = %s", (task.task_id,))
    assert (await cur.fetchone())["patient_responded_at"] == NOW + timedelta(minutes=70)
    cur = await conn.execute(
        "SELECT detail FROM task_events WHERE task_id = %s AND kind = 'questionnaire_answered'", (task.task_id,)
    )
    assert (await cur.fetchone())["detail"]["scores"]["alarming"] == 0
