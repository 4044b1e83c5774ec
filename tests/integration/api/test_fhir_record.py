"""FHIR export of the record (Patient, RelatedPerson, Consent) validates with fhir.resources and imports back."""

from __future__ import annotations

import json
import secrets

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.consent import Consent
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.relatedperson import RelatedPerson

from tests.support.world import World, api_client, seed_world, token
from vitalgate.api import fhir_record
from vitalgate.api.enrol_fhir import read_bundle
from vitalgate.api.enrol_import import run_import
from vitalgate.store.db import connect


@pytest.fixture(scope="module")
def world(database_url: str) -> World:
    return seed_world(database_url, "fhr" + secrets.token_hex(3))


async def _fill(client, headers, pid: int, suffix: str) -> int:
    change = {
        "external_id": f"F-{suffix}",
        "birth_date": "1950-04-02",
        "sex": "male",
        "journey_stage": "rehabilitation",
        "language": "zh-Hans",
        "glucose_unit": "mmol/L",
        "phone": "+86 138 0000 1111",
        "email": "li@example.org",
        "preferred_channel": "email",
    }
    assert (await client.patch(f"/patients/{pid}/record", json=change, headers=headers)).status_code == 200
    caregiver = await client.post(
        f"/patients/{pid}/caregivers",
        json={"name": "Wang Fang", "relationship": "spouse", "phone": "+86 139 0000 2222", "language": "zh-Hans"},
        headers=headers,
    )
    cid = caregiver.json()["id"]
    for body in (
        {"purpose": "monitoring", "decision": "given", "text_version": "m1", "effective_at": "2026-01-05T08:00:00Z"},
        {"purpose": "contact", "channel": "sms", "decision": "given", "text_version": "c1"},
        {"purpose": "contact", "channel": "sms", "decision": "withdrawn", "text_version": "c1"},
        {"purpose": "share_caregiver", "caregiver_id": cid, "decision": "given", "text_version": "s1",
         "given_by": "guardian", "given_by_name": "Wang Fang"},
    ):  # fmt: skip
        response = await client.post(f"/patients/{pid}/consents", json=body, headers=headers)
        assert response.status_code == 201, response.text
    return cid


async def test_patient_related_person_and_consent_validate(database_url: str, world: World) -> None:
    pid = world.patients["p1"]
    async with api_client(database_url) as client:
        staff = await token(client, world.users["doctor_a"])
        cid = await _fill(client, staff, pid, world.suffix)
        patient = (await client.get(f"/fhir/Patient/{pid}", headers=staff)).json()
        Patient.model_validate(patient)
        assert patient["identifier"] == [{"system": "urn:vitalgate:program:default", "value": f"F-{world.suffix}"}]
        assert patient["communication"][0]["language"]["coding"][0]["code"] == "zh-Hans"
        assert patient["birthDate"] == "1950-04-02" and patient["gender"] == "male"
        ext = {e["url"]: e["valueCode"] for e in patient["extension"]}
        assert ext[fhir_record.EXT_GLUCOSE_UNIT] == "mmol/L" and ext[fhir_record.EXT_TIMEZONE]
        assert next(t for t in patient["telecom"] if t["system"] == "email").get("rank") == 1
        related = (await client.get(f"/fhir/Patient/{pid}/RelatedPerson", headers=staff)).json()
        Bundle.model_validate(related)
        person = related["entry"][0]["resource"]
        RelatedPerson.model_validate(person)
        assert person["relationship"][0]["coding"][0]["code"] == "SPS" and person["id"] == str(cid)
        consents = (await client.get(f"/fhir/Patient/{pid}/Consent", headers=staff)).json()
        Bundle.model_validate(consents)
        resources = [e["resource"] for e in consents["entry"]]
        for resource in resources:
            Consent.model_validate(resource)
        sms = [r for r in resources if {"url": fhir_record.EXT_CONSENT_CHANNEL, "valueCode": "sms"} in r["extension"]]
        assert [(r["status"], r["provision"]["type"]) for r in sms] == [("inactive", "permit"), ("active", "deny")]
        share = next(r for r in resources if r["provision"].get("actor"))
        assert share["provision"]["actor"][0]["reference"]["reference"] == f"RelatedPerson/{cid}"
        assert share["performer"] == [{"display": "Wang Fang"}]
        # A caregiver-less, consent-less patient still exports valid, empty bundles.
        empty = (await client.get(f"/fhir/Patient/{world.patients['p2']}/Consent", headers=staff)).json()
        assert Bundle.model_validate(empty).total == 0


async def test_record_bundle_imports_back_into_another_program(database_url: str, world: World) -> None:
    pid = world.patients["p2"]
    async with api_client(database_url) as client:
        staff = await token(client, world.users["coord_a"])
        await _fill(client, staff, pid, world.suffix + "b")
        bundle = (await client.get(f"/fhir/Patient/{pid}/$record", headers=staff)).json()
        Bundle.model_validate(bundle)
        assert [e["resource"]["resourceType"] for e in bundle["entry"]].count("Consent") == 4
        conn = await connect(database_url)
        try:
            report = await run_import(
                conn, read_bundle(json.dumps(bundle)), program=f"copy-{world.suffix}", recorded_by="test"
            )
        finally:
            await conn.close()
        assert report.rejected == [] and report.accepted == [f"F-{world.suffix}b"]
        patients = (await client.get("/patients", headers=staff)).json()
        copy = next(p for p in patients if p["id"] != pid and p["display_name"] == "Carl Dahl")
        original = (await client.get(f"/patients/{pid}/record", headers=staff)).json()
        imported = (await client.get(f"/patients/{copy['id']}/record", headers=staff)).json()
        same = ("birth_date", "sex", "journey_stage", "language", "glucose_unit", "phone", "email", "preferred_channel")
        assert {k: imported[k] for k in same} == {k: original[k] for k in same}
        before = (await client.get(f"/patients/{pid}/consents", headers=staff)).json()
        after = (await client.get(f"/patients/{copy['id']}/consents", headers=staff)).json()
        keys = ("purpose", "channel", "decision", "text_version", "given_by", "given_by_name")
        assert [{k: c[k] for k in keys} for c in after] == [{k: c[k] for k in keys} for c in before]
        caregivers = (await client.get(f"/patients/{copy['id']}/caregivers", headers=staff)).json()
        assert [(c["name"], c["relationship"], c["sharing_consent"]) for c in caregivers] == [
            ("Wang Fang", "spouse", True)
        ]
