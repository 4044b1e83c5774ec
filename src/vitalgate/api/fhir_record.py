"""FHIR R4 Patient, RelatedPerson and Consent of the patient record (pure functions; import reads the same shapes)."""

from __future__ import annotations

from typing import Any

from vitalgate.store.caregivers import Caregiver
from vitalgate.store.consent import ConsentRecord
from vitalgate.store.patient_record import PatientRecord

BCP47 = "urn:ietf:bcp:47"
PROGRAM_SYSTEM = "urn:vitalgate:program:"  # + program name; identifier value = external id
# Core extension for an IANA zone (FHIR R5 core / R4 extension pack): http://hl7.org/fhir/extensions.
EXT_TIMEZONE = "http://hl7.org/fhir/StructureDefinition/timezone"
# VitalGate's own extensions: no core element says which glucose unit a patient reads, their
# pathway stage or which contact channel they prefer (ContactPoint.rank orders, it does not name an SMS).
EXT_GLUCOSE_UNIT = "urn:vitalgate:fhir:extension:glucose-unit"
EXT_JOURNEY_STAGE = "urn:vitalgate:fhir:extension:journey-stage"
EXT_PREFERRED_CHANNEL = "urn:vitalgate:fhir:extension:preferred-channel"
EXT_CONSENT_CHANNEL = "urn:vitalgate:fhir:extension:consent-channel"
EXT_GIVEN_BY = "urn:vitalgate:fhir:extension:consent-given-by"
ROLE_CODE = "http://terminology.hl7.org/CodeSystem/v3-RoleCode"
CONSENT_SCOPE = "http://terminology.hl7.org/CodeSystem/consentscope"
ACT_REASON = "http://terminology.hl7.org/CodeSystem/v3-ActReason"
PURPOSE_SYSTEM = "urn:vitalgate:consent-purpose"
POLICY_PREFIX = "urn:vitalgate:consent-text:"
LOINC = "http://loinc.org"
# v3 RoleCode for each relationship (OTHER has no family code: the v3 "ROLE" root stands for it).
RELATIONSHIP_CODES = {
    "spouse": "SPS", "child": "CHILD", "parent": "PRN", "sibling": "SIB", "family": "FAMMEM", "friend": "FRND",
    "guardian": "GUARD", "other": "ROLE",
}  # fmt: skip
_PURPOSE_REASON = {"monitoring": "TREAT", "contact": "TREAT", "share_caregiver": "FAMRQT", "research": "HRESCH"}


def _telecom(phone: str | None, email: str | None, app_id: str | None, preferred: str | None) -> list[dict[str, Any]]:
    out = []
    for system, value, wins in (
        ("phone", phone, preferred in ("sms", "phone")),
        ("email", email, preferred == "email"),
        ("other", app_id, preferred == "app"),
    ):
        if value:
            point: dict[str, Any] = {"system": system, "value": value}
            if wins:
                point["rank"] = 1
            out.append(point)
    return out


def _language(code: str) -> list[dict[str, Any]]:
    return [{"language": {"coding": [{"system": BCP47, "code": code}]}, "preferred": True}]


def patient(record: PatientRecord, *, care_team: str | None = None, time_zone: str | None = None) -> dict[str, Any]:
    """Patient with identifier (program + external id), telecom, language, and extensions for unit/zone/stage."""
    body: dict[str, Any] = {
        "resourceType": "Patient",
        "id": str(record.id),
        "active": True,
        "name": [{"text": record.display_name}],
        "communication": _language(record.language),
    }
    if record.external_id:
        body["identifier"] = [{"system": PROGRAM_SYSTEM + record.program, "value": record.external_id}]
    if record.sex:
        body["gender"] = record.sex
    if record.birth_date or record.birth_year:
        body["birthDate"] = record.birth_date.isoformat() if record.birth_date else f"{record.birth_year:04d}"
    telecom = _telecom(record.phone, record.email, record.app_id, record.preferred_channel)
    if telecom:
        body["telecom"] = telecom
    if care_team:
        body["managingOrganization"] = {"display": care_team}
    extensions = [{"url": EXT_GLUCOSE_UNIT, "valueCode": record.glucose_unit}]
    if time_zone:
        extensions.append({"url": EXT_TIMEZONE, "valueCode": time_zone})
    if record.journey_stage:
        extensions.append({"url": EXT_JOURNEY_STAGE, "valueCode": record.journey_stage})
    if record.preferred_channel:
        extensions.append({"url": EXT_PREFERRED_CHANNEL, "valueCode": record.preferred_channel})
    body["extension"] = extensions
    return body


def related_person(c: Caregiver) -> dict[str, Any]:
    """A caregiver as RelatedPerson (relationship as v3 RoleCode)."""
    body: dict[str, Any] = {
        "resourceType": "RelatedPerson",
        "id": str(c.id),
        "active": c.active,
        "patient": {"reference": f"Patient/{c.patient_id}"},
        "relationship": [{"coding": [{"system": ROLE_CODE, "code": RELATIONSHIP_CODES[c.relationship]}],
                          "text": c.relationship}],
        "name": [{"text": c.name}],
        "communication": _language(c.language),
    }  # fmt: skip
    telecom = _telecom(c.phone, c.email, c.app_id, c.preferred_channel)
    if telecom:
        body["telecom"] = telecom
    if c.preferred_channel:
        body["extension"] = [{"url": EXT_PREFERRED_CHANNEL, "valueCode": c.preferred_channel}]
    return body


def consent(r: ConsentRecord, *, current: bool) -> dict[str, Any]:
    """One consent decision; the one that holds now is `active`, superseded ones `inactive`; withdrawal = deny."""
    provision: dict[str, Any] = {
        "type": "permit" if r.decision == "given" else "deny",
        "period": {"start": r.effective_at.isoformat()},
        "purpose": [{"system": ACT_REASON, "code": _PURPOSE_REASON[r.purpose]}],
    }
    if r.caregiver_id is not None:
        provision["actor"] = [
            {
                "role": {
                    "coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-RoleClass", "code": "CAREGIVER"}]
                },
                "reference": {"reference": f"RelatedPerson/{r.caregiver_id}"},
            }
        ]
    performer = (
        {"reference": f"Patient/{r.patient_id}"}
        if r.given_by == "patient"
        else {"display": r.given_by_name or r.given_by}
    )
    body: dict[str, Any] = {
        "resourceType": "Consent",
        "id": str(r.id),
        "status": "active" if current else "inactive",
        "scope": {"coding": [{"system": CONSENT_SCOPE, "code": "research" if r.purpose == "research" else "patient-privacy"}]},
        "category": [
            {"coding": [{"system": LOINC, "code": "59284-0", "display": "Patient Consent"}]},
            {"coding": [{"system": PURPOSE_SYSTEM, "code": r.purpose}]},
        ],
        "patient": {"reference": f"Patient/{r.patient_id}"},
        "dateTime": r.recorded_at.isoformat(),
        "performer": [performer],
        "policy": [{"uri": POLICY_PREFIX + r.text_version}],
        "provision": provision,
        "extension": [{"url": EXT_GIVEN_BY, "valueCode": r.given_by}],
    }  # fmt: skip
    if r.channel:
        body["extension"].append({"url": EXT_CONSENT_CHANNEL, "valueCode": r.channel})
    return body


def consents(history: list[ConsentRecord]) -> list[dict[str, Any]]:
    """All decisions as Consents, each marked active only if it still holds for its purpose and scope."""
    latest: dict[tuple[str, str | None, int | None], int] = {}
    for r in sorted(history, key=lambda r: (r.effective_at, r.id)):
        latest[(r.purpose, r.channel, r.caregiver_id)] = r.id
    current = set(latest.values())
    return [consent(r, current=r.id in current) for r in history]


def collection(base_url: str, resources: list[dict[str, Any]]) -> dict[str, Any]:
    """A collection Bundle (what import-patients reads back)."""
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"fullUrl": f"{base_url}/{r['resourceType']}/{r['id']}", "resource": r} for r in resources],
    }
