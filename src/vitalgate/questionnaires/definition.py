"""A questionnaire definition: a FHIR R4 Questionnaire validated by fhir.resources, read into typed items.

VitalGate reads these FHIR elements and extensions (src/vitalgate/questionnaires/README.md):
- item types boolean, choice, integer, decimal, date, string, display and group (a section);
  `required`, `enableWhen` / `enableBehavior`, `answerOption.valueCoding`, `item.code`;
- zh-Hans text in the standard `translation` extension on `_text`, `_title` and `_display`;
- `ordinalValue` on answer options (scores), `questionnaire-unit` on decimal items (required),
  SDC `observationExtract` on coded decimal items (stored as observations);
- VitalGate extensions (base EXT): `tag` and `field-value` on options, `tag-when-true`,
  `tag-when-false` and `record-field` on items, `schedules-sop` on a date item, `score` (complex)
  and `licence-required` on the Questionnaire.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import ValidationError

from vitalgate.alerts.segments import SegmentError, compile_segment
from vitalgate.questionnaires.model import (
    Band,
    Definition,
    DefinitionError,
    EnableWhen,
    Item,
    ItemType,
    Option,
    ScoreRule,
    Text,
)

TRANSLATION = "http://hl7.org/fhir/StructureDefinition/translation"
ORDINAL = "http://hl7.org/fhir/StructureDefinition/ordinalValue"
UNIT = "http://hl7.org/fhir/StructureDefinition/questionnaire-unit"
OBSERVATION_EXTRACT = "http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-observationExtract"
EXT = "https://vitalgate.org/fhir/StructureDefinition/"
LANGUAGES = ("en", "zh-Hans")
# Record fields an answer may set (a subset of store.patient_record.RECORD_FIELDS: scalar, patient-owned).
FIELDS = ("birth_year", "sex", "language", "journey_stage", "preferred_channel", "glucose_unit")
_ID = re.compile(r"^[a-z0-9][a-z0-9\-]{0,63}$")
_BAND = re.compile(r"^(-?\d+(?:\.\d+)?)-(-?\d+(?:\.\d+)?):([a-z][a-z0-9\-]*)$")
_OPERATORS = {"exists", "=", "!=", ">", "<", ">=", "<="}


def _ext(node: dict[str, Any], url: str) -> Any:
    for e in node.get("extension", []) or []:
        if e.get("url") == url:
            return next((v for k, v in e.items() if k.startswith("value")), e)
    return None


def _translated(node: dict[str, Any], key: str, where: str) -> Text:
    en = node.get(key)
    zh = None
    for e in (node.get(f"_{key}") or {}).get("extension", []) or []:
        if e.get("url") == TRANSLATION:
            parts = {p.get("url"): p.get("valueCode") or p.get("valueString") for p in e.get("extension", [])}
            if parts.get("lang") == "zh-Hans":
                zh = parts.get("content")
    if not en or not zh:
        raise DefinitionError(f"{where}: needs {key} in English and a zh-Hans translation extension on _{key}")
    return Text(en, zh)


def _tag(value: Any, where: str) -> str | None:
    if value is None:
        return None
    try:
        compile_segment(str(value))
    except SegmentError as exc:
        raise DefinitionError(f"{where}: tag {value!r} is not a valid tag ({exc})") from exc
    if any(c in str(value) for c in " ()*") or str(value) != str(value).lower():
        raise DefinitionError(f"{where}: tag {value!r} must be one lower-case word like 'smoking:current'")
    return str(value)


def _answer_value(cond: dict[str, Any]) -> Any:
    for key, value in cond.items():
        if key.startswith("answer"):
            return value.get("code") if key == "answerCoding" else value
    return None


def _item(raw: dict[str, Any], section: str | None, seen: dict[str, Item]) -> Item:
    link_id = raw.get("linkId", "?")
    where = f"item {link_id!r}"
    if link_id in seen:
        raise DefinitionError(f"{where}: duplicate linkId")
    try:
        item_type = ItemType(str(raw.get("type")))
    except ValueError:
        raise DefinitionError(f"{where}: type {raw.get('type')!r} is not supported ({', '.join(ItemType)})") from None
    options = []
    for n, o in enumerate(raw.get("answerOption", []) or []):
        coding = o.get("valueCoding")
        if not coding or not coding.get("code"):
            raise DefinitionError(f"{where}: answer option {n + 1} needs a valueCoding with a code")
        ordinal = _ext(o, ORDINAL)
        options.append(
            Option(
                coding["code"],
                _translated(coding, "display", f"{where} option {coding['code']!r}"),
                coding.get("system"),
                float(ordinal) if ordinal is not None else None,
                _tag(_ext(o, EXT + "tag"), f"{where} option {coding['code']!r}"),
                _ext(o, EXT + "field-value"),
            )
        )
    if item_type == ItemType.CHOICE and not options:
        raise DefinitionError(f"{where}: a choice item needs answerOption entries")
    if options and item_type != ItemType.CHOICE:
        raise DefinitionError(f"{where}: only choice items take answerOption")
    unit = _ext(raw, UNIT)
    if item_type == ItemType.DECIMAL and not (unit and unit.get("code")):
        raise DefinitionError(f"{where}: a decimal item needs its unit (questionnaire-unit extension, UCUM code)")
    conditions = []
    for cond in raw.get("enableWhen", []) or []:
        question, operator = cond.get("question"), cond.get("operator")
        if question not in seen or not seen[question].answerable:
            raise DefinitionError(f"{where}: enableWhen refers to {question!r}, not an earlier question")
        if operator not in _OPERATORS:
            raise DefinitionError(f"{where}: enableWhen operator {operator!r} is not supported")
        conditions.append(EnableWhen(question, operator, _answer_value(cond)))
    record_field = _ext(raw, EXT + "record-field")
    if record_field is not None and record_field not in FIELDS:
        raise DefinitionError(f"{where}: record-field {record_field!r} is not one of {', '.join(FIELDS)}")
    observation = bool(_ext(raw, OBSERVATION_EXTRACT))
    codes = raw.get("code") or []
    if observation and (item_type != ItemType.DECIMAL or not codes):
        raise DefinitionError(f"{where}: observationExtract needs a decimal item with a code")
    sop = _ext(raw, EXT + "schedules-sop")
    if sop is not None and item_type != ItemType.DATE:
        raise DefinitionError(f"{where}: schedules-sop belongs on a date item")
    return Item(
        link_id,
        item_type,
        _translated(raw, "text", where),
        section,
        bool(raw.get("required")),
        tuple(options),
        tuple(conditions),
        raw.get("enableBehavior", "all") == "all",
        unit.get("code") if unit else None,
        {k: codes[0][k] for k in ("system", "code", "display") if k in codes[0]} if codes else None,
        record_field,
        _tag(_ext(raw, EXT + "tag-when-true"), where),
        _tag(_ext(raw, EXT + "tag-when-false"), where),
        observation,
        sop,
    )


def _walk(raws: list[dict[str, Any]], section: str | None, seen: dict[str, Item]) -> None:
    for raw in raws:
        item = _item(raw, section, seen)
        seen[item.link_id] = item
        if item.type == ItemType.GROUP:
            _walk(raw.get("item", []) or [], item.link_id, seen)


def _score(raw: dict[str, Any], items: dict[str, Item]) -> ScoreRule:
    parts: dict[str, list[Any]] = {}
    for e in raw.get("extension", []):
        parts.setdefault(e.get("url"), []).append(next((v for k, v in e.items() if k.startswith("value")), None))
    name = (parts.get("name") or [None])[0]
    where = f"score {name!r}"
    if not name or not _ID.match(str(name)):
        raise DefinitionError(f"{where}: needs a name (lower-case id)")
    for link_id in parts.get("item", []):
        item = items.get(link_id)
        if item is None or item.type not in (ItemType.CHOICE, ItemType.BOOLEAN, ItemType.INTEGER, ItemType.DECIMAL):
            raise DefinitionError(f"{where}: item {link_id!r} is not a scorable question of this questionnaire")
        if item.type == ItemType.CHOICE and any(o.ordinal is None for o in item.options):
            raise DefinitionError(f"{where}: item {link_id!r} has answer options without an ordinalValue")
    bands = []
    for text in parts.get("band", []):
        match = _BAND.match(str(text))
        if not match:
            raise DefinitionError(f"{where}: band {text!r} is not 'low-high:label'")
        bands.append(Band(float(match.group(1)), float(match.group(2)), match.group(3)))
    title_en = (parts.get("title") or [name])[0]
    code = (parts.get("code") or [None])[0]
    return ScoreRule(
        str(name),
        Text(title_en, (parts.get("title-zh-Hans") or [title_en])[0]),
        tuple(parts.get("item", [])),
        code,
        tuple(bands),
    )


def _child(node: Any, step: int | str) -> Any:
    if isinstance(node, dict):
        return node.get(step)
    if isinstance(node, list) and isinstance(step, int) and 0 <= step < len(node):
        return node[step]
    return None


def _fhir_error(resource: dict[str, Any], exc: ValidationError) -> DefinitionError:
    """fhir.resources' error with the path turned into the offending item's linkId."""
    first = exc.errors()[0]
    node: Any = resource
    link_id = None
    for step in first.get("loc", ()):
        node = _child(node, step)
        if node is None:
            break
        if isinstance(node, dict) and "linkId" in node:
            link_id = node["linkId"]
    where = f"item {link_id!r}" if link_id else "Questionnaire"
    path = ".".join(str(s) for s in first.get("loc", ()))
    return DefinitionError(f"{where}: not a valid FHIR R4 Questionnaire at {path}: {first.get('msg')}")


def parse_definition(resource: dict[str, Any]) -> Definition:
    """Validate a Questionnaire (FHIR first, then what VitalGate needs); DefinitionError names the item."""
    from fhir.resources.R4B.questionnaire import Questionnaire  # heavy import, only where definitions load

    if resource.get("resourceType") != "Questionnaire":
        raise DefinitionError("Questionnaire: resourceType must be 'Questionnaire'")
    try:
        Questionnaire.model_validate(resource)
    except ValidationError as exc:
        raise _fhir_error(resource, exc) from exc
    qid, version = resource.get("id"), resource.get("version")
    if not qid or not _ID.match(qid):
        raise DefinitionError("Questionnaire: id must be a lower-case id like 'phq-9'")
    if not version:
        raise DefinitionError(f"Questionnaire {qid}: needs a version")
    seen: dict[str, Item] = {}
    _walk(resource.get("item", []) or [], None, seen)
    if not any(i.answerable for i in seen.values()) and not _ext(resource, EXT + "licence-required"):
        raise DefinitionError(f"Questionnaire {qid}: has no question")
    scores = tuple(_score(e, seen) for e in resource.get("extension", []) or [] if e.get("url") == EXT + "score")
    return Definition(
        qid,
        str(version),
        _translated(resource, "title", f"Questionnaire {qid}"),
        tuple(seen.values()),
        scores,
        _ext(resource, EXT + "licence-required"),
        resource.get("copyright"),
        resource,
    )
