"""FHIR R4 export validates against the fhir.resources models and follows the PHD IG coding."""

from __future__ import annotations

import secrets

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.observation import Observation
from pydantic import ValidationError

from tests.support.world import World, api_client, seed_world, token

LOINC, MDC, UCUM = "http://loinc.org", "urn:iso:std:iso:11073:10101", "http://unitsofmeasure.org"


@pytest.fixture(scope="module")
def world(database_url: str) -> World:
    return seed_world(database_url, "fhir" + secrets.token_hex(3))


def _codes(concept: dict) -> set[tuple[str, str]]:
    return {(c["system"], c["code"]) for c in concept["coding"]}


async def test_bundle_validates_and_uses_phd_codes(database_url: str, world: World) -> None:
    pid = world.patients["p1"]
    async with api_client(database_url) as client:
        headers = await token(client, world.users["doctor_a"])
        response = await client.get(f"/fhir/Patient/{pid}/Observation", params={"_count": 40}, headers=headers)
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/fhir+json")
    body = response.json()
    bundle = Bundle.model_validate(body)  # raises on any structural error
    assert bundle.type == "searchset" and bundle.total == len(bundle.entry) > 40
    observations = [e["resource"] for e in body["entry"]]
    assert len({o["id"] for o in observations}) == len(observations)
    kinds = {"glucose": 0, "bp": 0, "pulse": 0}
    for obs in observations:
        Observation.model_validate(obs)
        assert obs["subject"] == {"reference": f"Patient/{pid}"} and obs["status"] == "final"
        assert obs["device"]["reference"].startswith("Device/") and obs["effectiveDateTime"]
        assert obs["identifier"][0]["value"] == f"urn:uuid:{obs['id']}"
        codes = _codes(obs["code"])
        if (MDC, "160184") in codes:
            kinds["glucose"] += 1
            assert (LOINC, "41653-7") in codes
            assert obs["valueQuantity"]["system"] == UCUM and obs["valueQuantity"]["code"] == "mg/dL"
        elif (LOINC, "85354-9") in codes:
            kinds["bp"] += 1
            assert (MDC, "150020") in codes and obs["category"][0]["coding"][0]["code"] == "vital-signs"
            comps = {code for c in obs["component"] for code in _codes(c["code"])}
            assert {(LOINC, "8480-6"), (MDC, "150021"), (LOINC, "8462-4"), (MDC, "150022")} <= comps
            assert all(c["valueQuantity"]["code"] == "mm[Hg]" for c in obs["component"])
        else:
            assert (LOINC, "8867-4") in codes and obs["valueQuantity"]["code"] == "/min"
            assert obs["derivedFrom"][0]["reference"].startswith("Observation/")
            kinds["pulse"] += 1
    assert kinds["glucose"] and kinds["bp"] and kinds["pulse"] == kinds["bp"]
    # The validator is not a no-op: a resource without its required status is refused.
    with pytest.raises(ValidationError):
        Observation.model_validate({k: v for k, v in observations[0].items() if k != "status"})


async def test_fhir_filters_and_errors(database_url: str, world: World) -> None:
    pid = world.patients["p1"]
    async with api_client(database_url) as client:
        headers = await token(client, world.users["coord_a"])
        glucose = (
            await client.get(
                f"/fhir/Patient/{pid}/Observation", params={"code": "glucose", "_count": 10}, headers=headers
            )
        ).json()
        Bundle.model_validate(glucose)
        assert glucose["total"] == 10
        empty = (
            await client.get(
                f"/fhir/Patient/{pid}/Observation",
                params=[("date", "ge2001-01-01"), ("date", "lt2001-02-01")],
                headers=headers,
            )
        ).json()
        assert Bundle.model_validate(empty).total == 0
        bad = await client.get(f"/fhir/Patient/{pid}/Observation", params={"date": "2001-01-01"}, headers=headers)
        assert bad.status_code == 422 and "prefix" in bad.json()["detail"]
        other = await client.get(f"/fhir/Patient/{world.patients['p3']}/Observation", headers=headers)
        assert other.status_code == 404
