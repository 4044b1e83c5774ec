"""Patient record, caregivers (read-only, scoped, audited logins) and append-only consent, on real PostgreSQL."""

from __future__ import annotations

import secrets

import psycopg
import pytest

from tests.support.world import PASSWORD, World, api_client, seed_world, token
from vitalgate.store import targets


@pytest.fixture(scope="module")
def world(database_url: str) -> World:
    return seed_world(database_url, "rec" + secrets.token_hex(3))


async def test_record_round_trip_with_conditions_and_targets(database_url: str, world: World) -> None:
    pid = world.patients["p1"]
    async with api_client(database_url) as client:
        staff = await token(client, world.users["coord_a"])
        before = (await client.get(f"/patients/{pid}/record", headers=staff)).json()
        assert (
            before["language"] == "en" and before["glucose_unit"] == "mg/dL" and before["target_preset"] == "standard"
        )
        assert before["targets"]["range_low_mg_dl"] == 70 and before["targets"]["in_range_goal_pct"] == 70
        change = {
            "external_id": f"HIS-{world.suffix}-1",
            "birth_year": 1948,
            "sex": "female",
            "journey_stage": "post_operative",
            "language": "zh-Hans",
            "glucose_unit": "mmol/L",
            "phone": "+86 138 0013 8000",
            "preferred_channel": "sms",
            "target_preset": "older_adult",
            "targets": {"fasting_high_mg_dl": 140},
            "conditions": [{"code": "e11.9", "type": "type 2"}, {"code": "C50", "stage": "II", "subtype": "HR+/HER2-"}],
        }
        response = await client.patch(f"/patients/{pid}/record", json=change, headers=staff)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["language"] == "zh-Hans" and body["glucose_unit"] == "mmol/L" and body["birth_year"] == 1948
        assert [c["code"] for c in body["conditions"]] == ["C50", "E11.9"]
        assert body["targets"]["in_range_goal_pct"] == targets.OLDER_ADULT.in_range_goal_pct == 50
        assert body["targets"]["fasting_high_mg_dl"] == 140 and body["target_overrides"] == {"fasting_high_mg_dl": 140}
        # Refusals in plain words: a preferred channel without its contact point, a bad code, a contradiction.
        for bad, words in (
            ({"preferred_channel": "email"}, "needs email"),
            ({"conditions": [{"code": "diabetes"}]}, "code"),
            ({"birth_date": "1950-03-01"}, "does not match"),
            ({"targets": {"range_low_mg_dl": 190, "range_high_mg_dl": 180}}, "range_low_mg_dl"),
            ({"language": "fr"}, "language"),
        ):
            refused = await client.patch(f"/patients/{pid}/record", json=bad, headers=staff)
            assert refused.status_code == 422 and words in refused.text, (bad, refused.text)
        # null on an always-present field resets it (the fuzz test found a 500 here: NOT NULL violation).
        reset = await client.patch(f"/patients/{pid}/record", json={"language": None, "targets": None}, headers=staff)
        assert reset.status_code == 200 and reset.json()["language"] == "en" and reset.json()["target_overrides"] == {}
        nul = await client.patch(f"/patients/{pid}/record", json={"app_id": "a\u0000b"}, headers=staff)
        assert nul.status_code == 422 and "NUL" in nul.text
        # external ids are unique per program.
        dup = await client.patch(
            f"/patients/{world.patients['p2']}/record", json={"external_id": change["external_id"]}, headers=staff
        )
        assert dup.status_code == 409
        # A patient reads their record but does not change it.
        own = await token(client, world.users["p1"])
        assert (await client.get(f"/patients/{pid}/record", headers=own)).json()["phone"] == "+86 138 0013 8000"
        assert (await client.patch(f"/patients/{pid}/record", json={"sex": "male"}, headers=own)).status_code == 403


async def test_consent_history_is_append_only(database_url: str, world: World) -> None:
    pid = world.patients["p2"]
    async with api_client(database_url) as client:
        staff = await token(client, world.users["doctor_a"])
        given = await client.post(
            f"/patients/{pid}/consents",
            json={"purpose": "research", "decision": "given", "text_version": "research-v2", "given_by": "guardian",
                  "given_by_name": "Maria Dahl"},
            headers=staff,
        )  # fmt: skip
        assert given.status_code == 201, given.text
        withdrawn = await client.post(
            f"/patients/{pid}/consents",
            json={"purpose": "contact", "channel": "sms", "decision": "withdrawn", "text_version": "contact-v1"},
            headers=staff,
        )
        assert withdrawn.status_code == 201
        history = (await client.get(f"/patients/{pid}/consents", headers=staff)).json()
        assert [(h["purpose"], h["decision"], h["given_by"]) for h in history] == [
            ("research", "given", "guardian"),
            ("contact", "withdrawn", "patient"),
        ]
        assert history[0]["recorded_by"] == world.users["doctor_a"]
        for bad in (
            {"purpose": "contact", "decision": "given", "text_version": "v1"},  # no channel
            {"purpose": "monitoring", "decision": "withdrawn", "text_version": "v1", "effective_at": "2020-01-01"},
            {"purpose": "research", "decision": "given", "text_version": "v1", "effective_at": "2999-01-01T00:00:00Z"},
        ):
            assert (await client.post(f"/patients/{pid}/consents", json=bad, headers=staff)).status_code == 422
    with psycopg.connect(database_url) as conn:
        for statement in ("UPDATE consent_records SET decision = 'given'", "DELETE FROM consent_records"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
                conn.execute(statement + " WHERE patient_id = %s", (pid,))
            conn.rollback()
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("TRUNCATE consent_records")


async def test_caregiver_login_reads_only_their_patient_and_cannot_write(database_url: str, world: World) -> None:
    pid, other = world.patients["p1"], world.patients["p2"]
    async with api_client(database_url) as client:
        staff = await token(client, world.users["coord_a"])
        admin = await token(client, world.users["admin"])
        added = await client.post(
            f"/patients/{pid}/caregivers",
            json={"name": "Li Wei", "relationship": "child", "phone": "+86 139 0000 0001", "preferred_channel": "sms",
                  "language": "zh-Hans", "alert_severities": ["urgent", "high"], "receives_reminders": True},
            headers=staff,
        )  # fmt: skip
        assert added.status_code == 201, added.text
        caregiver = added.json()
        assert caregiver["sharing_consent"] is False and caregiver["alert_severities"] == ["urgent", "high"]
        kept = await client.patch(
            f"/patients/{pid}/caregivers/{caregiver['id']}", json={"active": None, "language": None}, headers=staff
        )
        assert kept.status_code == 200 and kept.json()["active"] is True and kept.json()["language"] == "zh-Hans"
        username = f"cg-{world.suffix}"
        user = await client.post(
            "/admin/users",
            json={"username": username, "display_name": "Li Wei", "role": "caregiver", "password": PASSWORD,
                  "caregiver_id": caregiver["id"]},
            headers=admin,
        )  # fmt: skip
        assert user.status_code == 201, user.text
        cg = await token(client, username)
        # Without the patient's consent to share, the login sees nothing.
        assert (await client.get(f"/patients/{pid}", headers=cg)).status_code == 404
        assert (await client.get("/patients", headers=cg)).json() == []
        share = {
            "purpose": "share_caregiver",
            "caregiver_id": caregiver["id"],
            "decision": "given",
            "text_version": "s1",
        }
        assert (await client.post(f"/patients/{pid}/consents", json=share, headers=staff)).status_code == 201
        for path in ("", "/record", "/readings", "/statistics", "/caregivers", "/consents", "/alerts"):
            response = await client.get(f"/patients/{pid}{path}", headers=cg)
            assert response.status_code == 200, (path, response.text)
        assert [p["id"] for p in (await client.get("/patients", headers=cg)).json()] == [pid]
        assert (await client.get(f"/patients/{other}", headers=cg)).status_code == 404
        assert (await client.get(f"/fhir/Patient/{other}/Observation", headers=cg)).status_code == 404
        for method, path, body in (
            ("PATCH", f"/patients/{pid}/record", {"sex": "male"}),
            ("POST", f"/patients/{pid}/consents", share),
            ("POST", f"/patients/{pid}/caregivers", {"name": "X", "relationship": "friend"}),
            ("POST", f"/patients/{pid}/devices", {"serial": "CG-NEVER", "kind": "glucose_meter"}),
            ("POST", "/tasks/1/acknowledge", None),
        ):
            response = await client.request(method, path, json=body, headers=cg)
            assert response.status_code == 403 and "read-only" in response.text, (method, path, response.text)
        # The web pages too: their patient's page (without staff forms), nothing else, no form posts.
        login = await client.post("/ui/login", data={"username": username, "password": PASSWORD})
        assert login.status_code == 303 and login.headers["location"] == "/ui/patients"
        # Li Wei's caregiver record says zh-Hans: the pages are in Chinese until they choose otherwise.
        listing = await client.get("/ui/patients")
        assert listing.status_code == 200 and f"/ui/patients/{pid}" in listing.text and "我的家人" in listing.text
        mine = await client.put("/me/preferences", headers=cg, json={"language": "en", "glucose_unit": None})
        assert mine.status_code == 200  # their own display settings are not a change to the record
        listing = await client.get("/ui/patients")
        assert "My family" in listing.text
        page = await client.get(f"/ui/patients/{pid}")
        assert page.status_code == 200 and "Li Wei" in page.text and "Consent history" in page.text
        assert "Pair a device" not in page.text
        assert (await client.get(f"/ui/patients/{other}")).status_code == 404
        csrf = page.text.split('name="csrf" value="')[1].split('"')[0] if 'name="csrf"' in page.text else ""
        posted = await client.post(f"/ui/patients/{pid}/devices", data={"csrf": csrf, "serial": "CG-WEB"})
        assert posted.status_code == 403
        client.cookies.clear()
        # Audited like staff: the caregiver's reads carry their name and role.
        audit = (await client.get("/audit", params={"actor": username}, headers=admin)).json()
        assert {a["role"] for a in audit} == {"caregiver"} and {a["patient_id"] for a in audit} == {pid}
        assert {"read:record", "read:readings", "read:consents", "read:patient_page"} <= {a["action"] for a in audit}
        # Withdrawing the sharing consent ends the access at once.
        withdraw = share | {"decision": "withdrawn"}
        assert (await client.post(f"/patients/{pid}/consents", json=withdraw, headers=staff)).status_code == 201
        assert (await client.get(f"/patients/{pid}", headers=cg)).status_code == 404
