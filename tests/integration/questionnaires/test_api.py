"""Questionnaire API and pages over HTTP: admin definitions, licences, the signed-link page, staff entry, FHIR."""

from __future__ import annotations

import copy
import re
from datetime import UTC, datetime

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.questionnaire import Questionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

from tests.integration.questionnaires.test_completion import INTAKE, PHQ9_ITEM9
from tests.support.world import PASSWORD, api_client, token
from vitalgate.core.passwords import hash_password
from vitalgate.domain import LinkPurpose
from vitalgate.notify.links import issue_link
from vitalgate.questionnaires.registry import builtin_definitions
from vitalgate.store import people
from vitalgate.store.db import connect


@pytest.fixture
async def staff(database_url: str, unique: str) -> dict[str, object]:
    conn = await connect(database_url)
    try:
        async with conn.transaction():
            team = await people.create_care_team(conn, f"qteam-{unique}")
            pw = hash_password(PASSWORD)
            await people.create_user(conn, f"qnurse-{unique}", "Q Nurse", "nurse", password_hash=pw, care_team_id=team)
            await people.create_user(conn, f"qadmin-{unique}", "Q Admin", "admin", password_hash=pw)
            patient = await people.create_patient(conn, "Wang Fang", team, external_ref=f"qp-{unique}")
    finally:
        await conn.close()
    return {"nurse": f"qnurse-{unique}", "admin": f"qadmin-{unique}", "patient": patient}


async def _link(database_url: str, patient: int, questionnaire: str) -> str:
    conn = await connect(database_url)
    try:
        async with conn.transaction():
            path = await issue_link(
                conn,
                LinkPurpose.QUESTIONNAIRE,
                patient_id=patient,
                questionnaire=questionnaire,
                now=datetime.now(UTC),
            )
    finally:
        await conn.close()
    return "/q/" + path.rsplit("/", 1)[-1]


async def test_admin_adds_a_version_and_a_bad_definition_is_refused_naming_the_item(database_url, staff, unique):
    resource = copy.deepcopy(builtin_definitions()["gad-7"].resource)
    resource["id"], resource["version"] = f"gad-7-{unique}", "2.0.0"
    async with api_client(database_url) as client:
        admin = await token(client, str(staff["admin"]))
        nurse = await token(client, str(staff["nurse"]))
        bad = copy.deepcopy(resource)
        bad["item"][3]["type"] = "slider"
        refused = await client.post("/questionnaires", json=bad, headers=admin)
        assert refused.status_code == 422 and "item 'gad7-3'" in refused.json()["detail"]
        assert (await client.post("/questionnaires", json=resource, headers=nurse)).status_code == 403
        added = await client.post("/questionnaires", json=resource, headers=admin)
        assert added.status_code == 201 and added.json()["version"] == "2.0.0"
        assert (await client.post("/questionnaires", json=resource, headers=admin)).status_code == 422  # immutable
        listed = {d["id"]: d for d in (await client.get("/questionnaires", headers=nurse)).json()}
        assert listed[f"gad-7-{unique}"]["scores"] == ["total"] and "phq-9" in listed
        exported = await client.get(f"/fhir/Questionnaire/{resource['id']}", headers=nurse)
        Questionnaire.model_validate(exported.json())


async def test_licence_required_scale_refused_without_licence(database_url, staff):
    async with api_client(database_url) as client:
        admin = await token(client, str(staff["admin"]))
        nurse = await token(client, str(staff["nurse"]))
        url = f"/patients/{staff['patient']}/questionnaire-responses"
        body = {"questionnaire": "mmas-8", "answers": {}, "complete": False}
        refused = await client.post(url, json=body, headers=nurse)
        assert refused.status_code == 403 and "licence" in refused.json()["detail"]
        licence = {"instrument": "mmas-8", "licensee": "Test", "reference": "L-1", "valid_until": "2000-01-01"}
        assert (await client.post("/questionnaires/licences", json=licence, headers=admin)).status_code == 204
        assert (await client.post(url, json=body, headers=nurse)).status_code == 403  # expired
        licence["valid_until"] = None
        assert (await client.post("/questionnaires/licences", json=licence, headers=admin)).status_code == 204
        assert (await client.post(url, json=body, headers=nurse)).status_code == 200
        conn = await connect(database_url)
        await conn.execute("DELETE FROM questionnaire_licences WHERE instrument = 'mmas-8'")
        await conn.commit()
        await conn.close()


async def test_signed_link_page_saves_resumes_submits_once(database_url, staff):
    path = await _link(database_url, int(staff["patient"]), "enrolment-intake")
    async with api_client(database_url) as client:
        page = await client.get(path + "?lang=zh-Hans")
        assert page.status_code == 200 and "入组问卷" in page.text and "你吸烟吗？" in page.text
        saved = await client.post(path, data={"lang": "zh-Hans", "action": "save", "smoking": "current"})
        assert saved.status_code == 200 and "已保存" in saved.text
        again = await client.get(path + "?lang=zh-Hans")
        assert re.search(r'name="smoking" value="current" checked', again.text)
        missing = await client.post(path, data={"lang": "zh-Hans", "action": "submit", "smoking": "current"})
        assert missing.status_code == 422 and "还有必答题" in missing.text
        done = await client.post(path, data={"lang": "zh-Hans", "action": "submit", **INTAKE})
        assert done.status_code == 200 and "谢谢" in done.text
        assert (await client.get(path)).status_code == 410  # single use
        assert (await client.get("/q/not-a-real-token-at-all-xxxxxxxx")).status_code == 404
        # The staff page shows the response, who entered it and the tags it set.
        await client.post("/ui/login", data={"username": staff["nurse"], "password": PASSWORD})
        patient_page = await client.get(f"/ui/patients/{staff['patient']}")
        assert "Enrolment questionnaire" in patient_page.text and "treatment:insulin" in patient_page.text


async def test_staff_entry_and_fhir_export_validate(database_url, staff):
    async with api_client(database_url) as client:
        nurse = await token(client, str(staff["nurse"]))
        url = f"/patients/{staff['patient']}/questionnaire-responses"
        entered = await client.post(url, json={"questionnaire": "phq-9", "answers": PHQ9_ITEM9}, headers=nurse)
        assert entered.status_code == 200, entered.text
        body = entered.json()
        assert {"name": "total", "value": 10.0, "band": "moderate"} in body["scores"] and len(body["task_ids"]) == 1
        visit = {"visit-happened": True, "hba1c": 6.9, "next-visit": "2027-01-05"}
        assert (
            await client.post(url, json={"questionnaire": "post-visit", "answers": visit}, headers=nurse)
        ).status_code == 200
        bundle = (await client.get(f"/fhir/Patient/{staff['patient']}/QuestionnaireResponse", headers=nurse)).json()
        Bundle.model_validate(bundle)
        kinds = [e["resource"]["resourceType"] for e in bundle["entry"]]
        assert kinds.count("QuestionnaireResponse") == 2
        for entry in bundle["entry"]:
            model = (
                QuestionnaireResponse if entry["resource"]["resourceType"] == "QuestionnaireResponse" else Observation
            )
            model.model_validate(entry["resource"])
        codes = {
            c["code"]
            for e in bundle["entry"]
            if e["resource"]["resourceType"] == "Observation"
            for c in e["resource"]["code"]["coding"]
        }
        assert {"44261-6", "4548-4"} <= codes
        staff_qr = next(
            e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "QuestionnaireResponse"
        )
        assert staff_qr["author"]["reference"].startswith("Practitioner/")
