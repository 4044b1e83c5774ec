"""FHIR R4 export of questionnaires (pure): QuestionnaireResponse, and scores and lab values as Observations.

LOINC codes (verified, README "LOINC codes"): PHQ-9 panel 44249-1, total 44261-6, items
44250-9 ... 44260-8 (US Core Questionnaire phq-9-example); GAD-7 panel 69737-5 (HL7 PCO IG
Questionnaire 69737-5), total 70274-6 (MII PRO ObservationDefinition score-gad-7); HbA1c 4548-4
(HL7 Vulcan RWD ValueSet ExampleHbA1cTestCodes). Scores without a LOINC code use VG_SCORES.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from vitalgate.questionnaires.model import Definition, Item, ItemType
from vitalgate.store.questionnaire_rows import ExtractedObservation, Response, Score

UCUM = "http://unitsofmeasure.org"
OBS_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
VG_SCORES = "https://vitalgate.org/fhir/CodeSystem/questionnaire-score"
ENTERED_BY = "https://vitalgate.org/fhir/StructureDefinition/entered-by"


def response_id(response_id: int) -> str:
    return f"qr-{response_id}"


def _answer(item: Item, value: Any) -> dict[str, Any]:
    if item.type == ItemType.BOOLEAN:
        return {"valueBoolean": bool(value)}
    if item.type == ItemType.CHOICE:
        option = item.option(str(value))
        coding = {"code": str(value)}
        if option is not None:
            coding["display"] = option.text.en
            if option.system:
                coding["system"] = option.system
        return {"valueCoding": coding}
    if item.type == ItemType.INTEGER:
        return {"valueInteger": int(value)}
    if item.type == ItemType.DECIMAL:
        return {"valueDecimal": float(value)}
    if item.type == ItemType.DATE:
        return {"valueDate": str(value)}
    return {"valueString": str(value)}


def _items(definition: Definition, answers: dict[str, Any], section: str | None) -> list[dict[str, Any]]:
    out = []
    for item in definition.items:
        if item.section != section or item.type == ItemType.DISPLAY:
            continue
        if item.type == ItemType.GROUP:
            children = _items(definition, answers, item.link_id)
            if children:
                out.append({"linkId": item.link_id, "text": item.text.en, "item": children})
        elif item.link_id in answers:
            out.append({"linkId": item.link_id, "text": item.text.en, "answer": [_answer(item, answers[item.link_id])]})
    return out


def questionnaire_response(response: Response, definition: Definition) -> dict[str, Any]:
    """The stored response with the exact definition version it answered (canonical url|version)."""
    url = definition.resource.get("url", f"Questionnaire/{definition.id}")
    body: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "id": response_id(response.id),
        "questionnaire": f"{url}|{response.questionnaire_version}",
        "status": response.status,
        "subject": {"reference": f"Patient/{response.patient_id}"},
        "authored": (response.completed_at or response.updated_at).isoformat(),
        "language": response.language,
        "extension": [{"url": ENTERED_BY, "valueCode": response.entered_by}],
        "item": _items(definition, response.answers, None),
    }
    if response.entered_by == "staff" and response.entered_by_user_id is not None:
        body["author"] = {"reference": f"Practitioner/{response.entered_by_user_id}"}
        body["source"] = {"reference": f"Patient/{response.patient_id}"}  # the patient answered, staff typed
    else:
        body["author"] = body["source"] = {"reference": f"Patient/{response.patient_id}"}
    return body


def _effective(value: datetime) -> str:
    return value.isoformat()


def score_observation(score: Score, definition: Definition) -> dict[str, Any]:
    rule = next((s for s in definition.scores if s.name == score.name), None)
    if rule is not None and rule.code is not None:
        coding = dict(rule.code)
    else:
        coding = {"system": VG_SCORES, "code": f"{score.questionnaire_id}.{score.name}"}
        if rule is not None:
            coding["display"] = rule.title.en
    body: dict[str, Any] = {
        "resourceType": "Observation",
        "id": f"qs-{score.response_id}-{score.name}",
        "status": "final",
        "category": [{"coding": [{"system": OBS_CATEGORY, "code": "survey", "display": "Survey"}]}],
        "code": {"coding": [coding]},
        "subject": {"reference": f"Patient/{score.patient_id}"},
        "effectiveDateTime": _effective(score.scored_at),
        "valueQuantity": {"value": score.value, "unit": "{score}", "system": UCUM, "code": "{score}"},
        "derivedFrom": [{"reference": f"QuestionnaireResponse/{response_id(score.response_id)}"}],
    }
    if score.band:
        body["interpretation"] = [{"text": score.band}]
    return body


def extracted_observation(obs: ExtractedObservation) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": f"qo-{obs.response_id}-{obs.link_id}",
        "status": "final",
        "category": [{"coding": [{"system": OBS_CATEGORY, "code": "laboratory", "display": "Laboratory"}]}],
        "code": {"coding": [{"system": obs.code_system, "code": obs.code, "display": obs.display}]},
        "subject": {"reference": f"Patient/{obs.patient_id}"},
        "effectiveDateTime": _effective(obs.effective_at),
        "valueQuantity": {"value": obs.value, "unit": obs.unit, "system": UCUM, "code": obs.unit},
        "derivedFrom": [{"reference": f"QuestionnaireResponse/{response_id(obs.response_id)}"}],
    }


def bundle(resources: Sequence[dict[str, Any]], base_url: str, self_url: str) -> dict[str, Any]:
    """A searchset Bundle of mixed resources (responses, then their Observations)."""
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(resources),
        "link": [{"relation": "self", "url": self_url}],
        "entry": [
            {"fullUrl": f"{base_url}/{r['resourceType']}/{r['id']}", "resource": r, "search": {"mode": "match"}}
            for r in resources
        ],
    }
