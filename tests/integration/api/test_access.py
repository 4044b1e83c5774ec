"""Access: care-team scoping on every patient endpoint, patients see only themselves, every read is audited."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.support.world import World, api_client, seed_world, token


@pytest.fixture(scope="module")
def world(database_url: str) -> World:
    import secrets

    return seed_world(database_url, "acc" + secrets.token_hex(3))


async def _patient_endpoints(client: httpx.AsyncClient) -> list[tuple[str, str]]:
    """(method, path template) of every operation that takes a patient id, read from the OpenAPI schema."""
    schema = (await client.get("/openapi.json")).json()
    ops = [(m.upper(), p) for p, item in schema["paths"].items() if "{patient_id}" in p for m in item]
    assert len(ops) >= 10, ops  # the list is the API's own: a new patient endpoint is covered automatically
    return ops


def _params(path: str) -> dict[str, str]:
    return {"kind": "glucose"} if path.endswith("/series") else {}


def _body(method: str, path: str) -> dict | None:
    if method == "POST" and path.endswith("/devices"):
        return {"serial": "X-never-seen", "kind": "glucose_meter"}
    if method == "POST" and path.endswith("/login"):  # a valid body, so only the scope check can refuse it
        return {"username": "x-never-created", "display_name": "X", "password": "long-enough-password-1"}
    if method == "POST" and path.endswith("/messages"):
        return {"body": "a message nobody may send"}
    return None


async def test_no_token_and_bad_password_get_401_json(database_url: str, world: World) -> None:
    async with api_client(database_url) as client:
        response = await client.get(f"/patients/{world.patients['p1']}/readings")
        assert response.status_code == 401 and response.json()["detail"].startswith("not signed in")
        assert response.headers["www-authenticate"] == "Bearer"
        bad = await client.post(
            "/auth/token", data={"username": world.users["coord_a"], "password": "wrong-password-123"}
        )
        assert bad.status_code == 401 and bad.json() == {"detail": "wrong username or password"}
        forged = await client.get("/me", headers={"Authorization": "Bearer abc.def.ghi"})
        assert forged.status_code == 401 and forged.json()["detail"] == "invalid token"


async def test_other_team_gets_404_on_every_patient_endpoint(database_url: str, world: World) -> None:
    async with api_client(database_url) as client:
        ops = await _patient_endpoints(client)
        for viewer, patient in (("coord_b", "p1"), ("coord_a", "p3"), ("doctor_a", "p3")):
            headers = await token(client, world.users[viewer])
            for method, template in ops:
                path = template.replace("{patient_id}", str(world.patients[patient]))
                response = await client.request(
                    method, path, headers=headers, json=_body(method, template), params=_params(template)
                )
                assert response.status_code in (403, 404), (viewer, method, path, response.status_code, response.text)
                assert response.headers["content-type"].startswith("application/json")
                assert "Berg" not in response.text and "Fors" not in response.text  # no name leaks in errors
            # ... while their own team's patient answers.
            own = "p3" if viewer == "coord_b" else "p1"
            ok = await client.get(f"/patients/{world.patients[own]}", headers=headers)
            assert ok.status_code == 200 and ok.json()["id"] == world.patients[own]


async def test_patient_sees_only_themselves(database_url: str, world: World) -> None:
    async with api_client(database_url) as client:
        ops = await _patient_endpoints(client)
        headers = await token(client, world.users["p1"])
        for method, template in ops:
            other = template.replace("{patient_id}", str(world.patients["p2"]))
            response = await client.request(
                method, other, headers=headers, json=_body(method, template), params=_params(template)
            )
            assert response.status_code in (403, 404), (method, other, response.text)
        mine = await client.get("/patients", headers=headers)
        assert [p["id"] for p in mine.json()] == [world.patients["p1"]]
        readings = await client.get(f"/patients/{world.patients['p1']}/readings?limit=5", headers=headers)
        assert readings.status_code == 200 and len(readings.json()["readings"]) == 5
        assert (await client.get("/tasks", headers=headers)).status_code == 403
        assert (await client.get("/audit", headers=headers)).status_code == 403


async def test_staff_list_and_worklist_are_scoped(database_url: str, world: World) -> None:
    async with api_client(database_url) as client:
        headers = await token(client, world.users["coord_a"])
        ids = {p["id"] for p in (await client.get("/patients", headers=headers)).json()}
        assert ids == {world.patients["p1"], world.patients["p2"]}
        tasks = (await client.get("/tasks", headers=headers)).json()
        assert {t["patient_id"] for t in tasks} <= ids and world.tasks["urgent_p1"] in {t["id"] for t in tasks}
        assert world.tasks["urgent_p3"] not in {t["id"] for t in tasks}
        for action in ("acknowledge", "escalate"):
            response = await client.post(f"/tasks/{world.tasks['urgent_p3']}/{action}", headers=headers)
            assert response.status_code == 404, response.text
        response = await client.post(
            f"/tasks/{world.tasks['urgent_p3']}/outcome", headers=headers, json={"outcome": "reached"}
        )
        assert response.status_code == 404
        assert (
            await client.get("/tasks", params={"care_team_id": world.teams["b"]}, headers=headers)
        ).status_code == 404
        assert (await client.get("/audit", headers=headers)).status_code == 403


async def test_every_patient_read_leaves_an_audit_row(database_url: str, world: World) -> None:
    async with api_client(database_url) as client:
        ops = [(m, p) for m, p in await _patient_endpoints(client) if m == "GET"]
        headers = await token(client, world.users["doctor_a"])
        admin = await token(client, world.users["admin"])
        patient_id = world.patients["p1"]
        for _, template in ops:
            path = template.replace("{patient_id}", str(patient_id))
            before = (
                await client.get(
                    "/audit", params={"actor": world.users["doctor_a"], "patient_id": patient_id}, headers=admin
                )
            ).json()
            response = await client.get(path, headers=headers, params=_params(template))
            assert response.status_code == 200, (path, response.text)
            after = (
                await client.get(
                    "/audit", params={"actor": world.users["doctor_a"], "patient_id": patient_id}, headers=admin
                )
            ).json()
            assert len(after) == len(before) + 1, path
            row = after[0]
            assert row["role"] == "doctor" and row["patient_id"] == patient_id and row["source"] == "127.0.0.1"
            assert row["detail"]["path"] == path and re.match(r"^(read|export):", row["action"])
        # Filters: by action prefix and time window.
        exports = (
            await client.get("/audit", params={"action": "export:", "patient_id": patient_id}, headers=admin)
        ).json()
        # One action per export format (FHIR, the visit report's PDF); what was exported is in the
        # detail (Patient, RelatedPerson, Consent, Bundle, Observation), so a filter on export:fhir
        # finds every FHIR export.
        assert exports and {r["action"] for r in exports} <= {"export:fhir", "export:visit_report_pdf"}
        fhir = [r for r in exports if r["action"] == "export:fhir"]
        assert {r["detail"]["resource"] for r in fhir} >= {"Patient", "Observation"}
        later = (await client.get("/audit", params={"since": "2199-01-01T00:00:00Z"}, headers=admin)).json()
        assert later == []


async def test_refused_requests_leave_no_read_row(database_url: str, world: World) -> None:
    """A 404 outside the care team is not a read of that patient: the audit trail shows none."""
    async with api_client(database_url) as client:
        ops = await _patient_endpoints(client)
        headers = await token(client, world.users["coord_b"])
        admin = await token(client, world.users["admin"])
        for method, template in ops:
            path = template.replace("{patient_id}", str(world.patients["p2"]))
            response = await client.request(
                method, path, headers=headers, json=_body(method, template), params=_params(template)
            )
            assert response.status_code == 404, (method, path, response.status_code)
        rows = (
            await client.get(
                "/audit", params={"actor": world.users["coord_b"], "patient_id": world.patients["p2"]}, headers=admin
            )
        ).json()
        assert rows == []
