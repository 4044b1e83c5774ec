"""Read a FHIR R4 Bundle of Patient (+ RelatedPerson, Consent) into import rows (the shapes fhir_record writes)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from vitalgate.api import fhir_record as fr

_ROLE_TO_RELATIONSHIP = {code: name for name, code in fr.RELATIONSHIP_CODES.items()}


def _ext(resource: dict[str, Any], url: str) -> Any:
    for e in resource.get("extension") or []:
        if isinstance(e, dict) and e.get("url") == url:
            return e.get("valueCode") or e.get("valueString")
    return None


def _contacts(resource: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for point in resource.get("telecom") or []:
        key = {"phone": "phone", "sms": "phone", "email": "email", "other": "app_id"}.get(point.get("system"))
        if key and point.get("value") and key not in out:
            out[key] = point["value"]
    preferred = _ext(resource, fr.EXT_PREFERRED_CHANNEL)
    if preferred:
        out["preferred_channel"] = preferred
    return out


def _language(resource: dict[str, Any]) -> str | None:
    for comm in resource.get("communication") or []:
        for coding in (comm.get("language") or {}).get("coding") or []:
            if coding.get("code"):
                return str(coding["code"])
    return None


def _name(resource: dict[str, Any]) -> str | None:
    for name in resource.get("name") or []:
        text = name.get("text") or " ".join([*(name.get("given") or []), name.get("family") or ""]).strip()
        if text:
            return str(text)
    return None


def _patient_raw(p: dict[str, Any]) -> dict[str, Any]:
    identifiers = p.get("identifier") or []
    ours = [i for i in identifiers if str(i.get("system", "")).startswith(fr.PROGRAM_SYSTEM)] or identifiers
    raw: dict[str, Any] = {
        "external_id": ours[0].get("value") if ours else None,
        "display_name": _name(p),
        "sex": p.get("gender"),
        "language": _language(p),
        "glucose_unit": _ext(p, fr.EXT_GLUCOSE_UNIT),
        "journey_stage": _ext(p, fr.EXT_JOURNEY_STAGE),
        "time_zone": _ext(p, fr.EXT_TIMEZONE),
        "care_team": (p.get("managingOrganization") or {}).get("display"),
        **_contacts(p),
    }
    birth = str(p.get("birthDate") or "")
    if len(birth) == 4:
        raw["birth_year"] = birth
    elif birth:
        raw["birth_date"] = birth[:10]
    return {k: v for k, v in raw.items() if v is not None}


def _caregiver_raw(r: dict[str, Any]) -> dict[str, Any]:
    codes = [c.get("code") for rel in r.get("relationship") or [] for c in rel.get("coding") or []]
    relationship = next((_ROLE_TO_RELATIONSHIP[c] for c in codes if c in _ROLE_TO_RELATIONSHIP), "other")
    raw = {"name": _name(r), "relationship": relationship, "language": _language(r) or "en", **_contacts(r)}
    return {k: v for k, v in raw.items() if v is not None}


def _consent_raw(c: dict[str, Any], caregiver_names: dict[str, str]) -> dict[str, Any]:
    purpose = next(
        (cd.get("code") for cat in c.get("category") or [] for cd in cat.get("coding") or []
         if cd.get("system") == fr.PURPOSE_SYSTEM),
        None,
    )  # fmt: skip
    provision = c.get("provision") or {}
    policy = next((p.get("uri") for p in c.get("policy") or [] if p.get("uri")), "") or ""
    actors = [a.get("reference", {}).get("reference") for a in provision.get("actor") or []]
    caregiver = next((caregiver_names[a] for a in actors if a in caregiver_names), None)
    performer: dict[str, Any] = next(iter(c.get("performer") or []), {})
    raw = {
        "purpose": purpose,
        "decision": "given" if provision.get("type", "permit") == "permit" else "withdrawn",
        "text_version": policy.removeprefix(fr.POLICY_PREFIX) or None,
        "effective_at": (provision.get("period") or {}).get("start") or c.get("dateTime"),
        "channel": _ext(c, fr.EXT_CONSENT_CHANNEL),
        "caregiver_name": caregiver,
        "given_by": _ext(c, fr.EXT_GIVEN_BY) or "patient",
        "given_by_name": performer.get("display") if "display" in performer else None,
    }
    return {k: v for k, v in raw.items() if v is not None}


def read_bundle(text: str) -> Iterator[tuple[int, dict[str, Any] | str]]:
    """(entry number, raw row) per Patient, with its RelatedPersons and Consents; a reason for unusable entries."""
    try:
        bundle = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON: {exc}") from exc
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        raise ValueError("expected a FHIR R4 Bundle")
    entries = [e for e in bundle.get("entry") or [] if isinstance(e, dict) and isinstance(e.get("resource"), dict)]
    patients: dict[str, tuple[int, dict[str, Any]]] = {}
    for number, entry in enumerate(entries, start=1):
        res = entry["resource"]
        if res.get("resourceType") == "Patient":
            row = (number, _patient_raw(res) | {"caregivers": [], "consent_records": []})
            for key in (entry.get("fullUrl"), f"Patient/{res.get('id')}"):
                if key:
                    patients[str(key)] = row
    names: dict[str, str] = {}
    for number, entry in enumerate(entries, start=1):
        res = entry["resource"]
        if res.get("resourceType") != "RelatedPerson":
            continue
        owner = patients.get(str((res.get("patient") or {}).get("reference")))
        if owner is None:
            yield number, "RelatedPerson.patient: refers to no Patient in this Bundle"
            continue
        caregiver = _caregiver_raw(res)
        owner[1]["caregivers"].append(caregiver)
        for key in (entry.get("fullUrl"), f"RelatedPerson/{res.get('id')}"):
            if key and caregiver.get("name"):
                names[str(key)] = caregiver["name"]
    for number, entry in enumerate(entries, start=1):
        res = entry["resource"]
        if res.get("resourceType") != "Consent":
            continue
        owner = patients.get(str((res.get("patient") or {}).get("reference")))
        if owner is None:
            yield number, "Consent.patient: refers to no Patient in this Bundle"
            continue
        owner[1]["consent_records"].append(_consent_raw(res, names))
    seen: set[int] = set()
    for number, raw in patients.values():
        if id(raw) not in seen:
            seen.add(id(raw))
            yield number, raw
