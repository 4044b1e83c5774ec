"""Definitions: the built-ins validate; a bad definition is refused with the offending item named."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from vitalgate.questionnaires import results
from vitalgate.questionnaires.answers import AnswerError, enabled_items, parse_answers
from vitalgate.questionnaires.definition import parse_definition
from vitalgate.questionnaires.model import DefinitionError
from vitalgate.questionnaires.registry import builtin_definitions


def _resource(qid: str) -> dict[str, Any]:
    return copy.deepcopy(builtin_definitions()[qid].resource)


def _phq9_item(resource: dict[str, Any], link_id: str) -> dict[str, Any]:
    return next(i for i in resource["item"] if i["linkId"] == link_id)


def test_builtins_validate_with_both_languages() -> None:
    defs = builtin_definitions()
    assert {"enrolment-intake", "symptom-check", "post-visit", "phq-9", "gad-7", "mmas-8"} <= set(defs)
    for definition in defs.values():
        for item in definition.items:
            assert item.text.en and item.text.zh
    assert "No permission required to reproduce" in (defs["phq-9"].copyright or "")


@pytest.mark.parametrize(
    ("breakage", "message"),
    [
        (lambda i: i.update(type="slider"), "item 'phq9-3': type 'slider' is not supported"),
        (lambda i: i.update(required="maybe"), "item 'phq9-3': not a valid FHIR R4 Questionnaire"),
        (lambda i: i.pop("_text"), "item 'phq9-3': needs text in English and a zh-Hans translation"),
        (
            lambda i: i.update(enableWhen=[{"question": "nope", "operator": "=", "answerBoolean": True}]),
            "item 'phq9-3': enableWhen refers to 'nope'",
        ),
        (lambda i: i.update(answerOption=[]), "item 'phq9-3': a choice item needs answerOption"),
        (lambda i: i.update(linkId="phq9-2"), "item 'phq9-2': duplicate linkId"),
    ],
)
def test_a_bad_definition_is_refused_naming_the_item(breakage, message) -> None:
    resource = _resource("phq-9")
    breakage(_phq9_item(resource, "phq9-3"))
    with pytest.raises(DefinitionError, match=message.replace("(", r"\(")):
        parse_definition(resource)


def test_a_decimal_without_unit_and_a_bad_tag_are_refused() -> None:
    resource = _resource("post-visit")
    hba1c = next(i for i in resource["item"] if i["linkId"] == "hba1c")
    hba1c["extension"] = [e for e in hba1c["extension"] if "questionnaire-unit" not in e["url"]]
    with pytest.raises(DefinitionError, match="item 'hba1c': a decimal item needs its unit"):
        parse_definition(resource)
    resource = _resource("post-visit")
    changed = next(i for i in resource["item"] if i["linkId"] == "medication-changed")
    changed["extension"][0]["valueString"] = "Medication Changed"
    with pytest.raises(DefinitionError, match="item 'medication-changed': tag"):
        parse_definition(resource)


def test_phq9_bands_and_enable_when() -> None:
    phq9 = builtin_definitions()["phq-9"]
    answers = parse_answers(phq9, {f"phq9-{n}": "LA6571-9" for n in range(1, 10)})
    assert [(s.name, s.value, s.band) for s in results.scores(phq9, answers)] == [
        ("total", 27.0, "severe"),
        ("item-9", 3.0, None),
    ]
    intake = builtin_definitions()["enrolment-intake"]
    assert "bp-medication" not in enabled_items(intake, {"hypertension": False})
    assert "bp-medication" in enabled_items(intake, {"hypertension": True})
    # An answer to a hidden question is dropped; a wrong option is refused with its item.
    assert "bp-medication" not in parse_answers(intake, {"hypertension": "false", "bp-medication": "true"})
    with pytest.raises(AnswerError, match="item 'smoking'"):
        parse_answers(intake, {"smoking": "sometimes"})


def test_an_answer_that_cannot_be_stored_is_refused_with_its_item() -> None:
    symptoms = builtin_definitions()["symptom-check"]
    with pytest.raises(AnswerError, match="item 'symptom-other'"):
        parse_answers(symptoms, {"symptom-other": "dizzy \udb1e"})
    with pytest.raises(AnswerError, match="item 'glucose-now'"):
        parse_answers(symptoms, {"glucose-now": "nan"})
