"""Validation of one MQTT message into good readings and rejected parts (pure; no I/O).

A bad reading is rejected on its own: its good neighbours in the same batch are still stored.
Nothing a message contains may raise out of here: one hostile message must never stop ingest.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

from pydantic import ValidationError

from vitalgate.contract import SCHEMA_VERSION, Reading, ReadingBatch
from vitalgate.contract.readings import MAX_BATCH

# Times are checked against the server clock at storage (store/holds.py): a reading too far in the
# future or the past is held for review there, not rejected here.


@dataclass(slots=True)
class Rejected:
    payload: bytes
    reason: str


@dataclass(slots=True)
class ParsedMessage:
    gateway_id: str | None
    readings: list[Reading] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)


def gateway_of(topic: str) -> str | None:
    """vitalgate/v1/{gateway_id}/readings -> gateway_id."""
    parts = topic.split("/")
    if len(parts) == 4 and parts[0] == "vitalgate" and parts[1] == "v1" and parts[3] == "readings":
        return parts[2]
    return None


def parse_message(topic: str, payload: bytes, now: datetime) -> ParsedMessage:
    """Split a message into valid readings and rejects with reasons; never raises."""
    try:
        return _parse(topic, payload, now)
    except Exception as exc:  # isolate: whatever one message does, it becomes a dead letter
        return ParsedMessage(gateway_of(topic), rejected=[Rejected(payload, f"validation failed: {_crash(exc)}")])


def _crash(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {str(exc)[:300]}"


def _parse(topic: str, payload: bytes, now: datetime) -> ParsedMessage:
    topic_gateway = gateway_of(topic)
    if topic_gateway is None:
        return ParsedMessage(None, rejected=[Rejected(payload, f"unexpected topic {topic!r}")])
    # Fast path: the whole message in one pass of pydantic-core's JSON parser (about twice the speed
    # of json.loads + per-reading validation). Any error sends it down the slow path, which finds
    # exactly which readings are bad so their good neighbours are still stored.
    try:
        batch = ReadingBatch.model_validate_json(payload)
    except ValidationError:
        return _parse_each(topic_gateway, payload, now)
    if batch.gateway_id != topic_gateway:
        return ParsedMessage(
            topic_gateway,
            rejected=[Rejected(payload, f"gateway_id {batch.gateway_id!r} does not match topic {topic_gateway!r}")],
        )
    return ParsedMessage(topic_gateway, list(batch.readings))


def _parse_each(topic_gateway: str, payload: bytes, now: datetime) -> ParsedMessage:
    """Slow path: parse the JSON, check the envelope, then validate reading by reading."""
    try:
        doc = json.loads(payload)
    except RecursionError:
        return ParsedMessage(topic_gateway, rejected=[Rejected(payload, "not JSON: nested too deeply")])
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, an integer of over 4,300 digits
        return ParsedMessage(topic_gateway, rejected=[Rejected(payload, f"not JSON: {str(exc)[:300]}")])
    if not isinstance(doc, dict):
        return ParsedMessage(topic_gateway, rejected=[Rejected(payload, "not a JSON object")])
    if doc.get("schema_version") != SCHEMA_VERSION:
        return ParsedMessage(
            topic_gateway,
            rejected=[
                Rejected(
                    payload, f"unsupported schema_version {doc.get('schema_version')!r}, expected {SCHEMA_VERSION}"
                )
            ],
        )
    raw_readings = doc.get("readings")
    try:
        envelope = ReadingBatch.model_validate({**doc, "readings": []})
    except ValidationError as exc:
        return ParsedMessage(topic_gateway, rejected=[Rejected(payload, f"bad envelope: {_short(exc)}")])
    if envelope.gateway_id != topic_gateway:
        return ParsedMessage(
            topic_gateway,
            rejected=[Rejected(payload, f"gateway_id {envelope.gateway_id!r} does not match topic {topic_gateway!r}")],
        )
    if not isinstance(raw_readings, list):
        return ParsedMessage(topic_gateway, rejected=[Rejected(payload, "readings must be a list")])
    if len(raw_readings) > MAX_BATCH:
        return ParsedMessage(
            topic_gateway,
            rejected=[
                Rejected(payload, f"{len(raw_readings)} readings in one message; the contract allows {MAX_BATCH}")
            ],
        )
    parsed = ParsedMessage(topic_gateway)
    for index, raw in enumerate(raw_readings):
        try:
            reading = Reading.model_validate(raw)
        except ValidationError as exc:
            parsed.rejected.append(Rejected(_dump(raw), f"reading {index}: {_short(exc)}"))
            continue
        except Exception as exc:  # one reading's crash rejects that reading only
            parsed.rejected.append(Rejected(_dump(raw), f"reading {index}: validation failed: {_crash(exc)}"))
            continue
        parsed.readings.append(reading)
    return parsed


def _short(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:5])


def _dump(raw: object) -> bytes:
    try:
        return json.dumps(raw, default=str).encode()
    except (RecursionError, ValueError):
        return repr(raw)[:4096].encode("utf-8", "replace")
