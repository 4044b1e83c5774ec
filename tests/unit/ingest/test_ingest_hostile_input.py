"""Hostile input (pure): every message ends as rows or dead letters, never as an exception (issue 13 items 3, 6, 8).

Each regression case below raised or was accepted before the fix: the 200 KB nested array raised
RecursionError out of ingest/validate.py, a 5,000-digit integer raised ValueError, 1,500 readings,
10 MB context strings and 100,000 context keys were accepted.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vitalgate.core.mqtt import Message
from vitalgate.ingest import loadgen
from vitalgate.ingest.messages import CONFLICT_REASON, drop_batch_conflicts, split_message
from vitalgate.ingest.validate import parse_message

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
GW = "gw-hostile"
TOPIC = f"vitalgate/v1/{GW}/readings"


def _doc(n: int = 3, prefix: str = "HOS") -> dict:
    return json.loads(loadgen.payloads(GW, loadgen.devices(prefix, 3), n, now=NOW, per_message=n)[0])


def _message(payload: bytes) -> Message:
    return Message(topic=TOPIC, payload=payload, qos=1, mid=1, retain=False)


def test_a_deeply_nested_200_kb_array_is_a_dead_letter_not_a_crash():
    for payload in (
        b"[" * 100_000 + b"]" * 100_000,
        json.dumps({**_doc(1), "readings": []}).encode()[:-2] + b"[" * 100_000 + b"]" * 100_000 + b"]}",
    ):
        parsed = parse_message(TOPIC, payload, NOW)
        assert parsed.readings == [] and len(parsed.rejected) == 1
        assert parsed.rejected[0].reason == "not JSON: nested too deeply"


def test_an_integer_of_5000_digits_is_a_dead_letter_not_a_crash():
    payload = json.dumps(_doc(1)).encode().replace(b'"sequence_number": 0', b'"sequence_number": ' + b"9" * 5000)
    assert b"9" * 5000 in payload
    parsed = parse_message(TOPIC, payload, NOW)
    assert parsed.readings == [] and len(parsed.rejected) == 1 and "not JSON" in parsed.rejected[0].reason


def test_more_readings_than_the_contract_allows_reject_the_whole_message():
    doc = _doc(1)
    doc["readings"] = doc["readings"] * 1500
    parsed = parse_message(TOPIC, json.dumps(doc).encode(), NOW)
    assert parsed.readings == []
    assert "1500 readings in one message; the contract allows 1000" in parsed.rejected[0].reason


def test_oversized_context_and_status_are_rejected_per_reading():
    doc = _doc(4)
    doc["readings"][0]["context"] = {"note": "x" * 10_000_000}
    doc["readings"][1]["context"] = {f"k{i}": i for i in range(100_000)}
    doc["readings"][2]["status"] = ["s" * 10_000]
    parsed = split_message(_message(json.dumps(doc).encode()), NOW, max_payload_bytes=64 * 1024 * 1024)
    assert len(parsed.rows) == 1 and len(parsed.rejects) == 3
    reasons = " | ".join(reason for _, _, reason in parsed.rejects)
    assert "reading 0: context.note" in reasons and "reading 1: context" in reasons and "reading 2: status.0" in reasons


def test_a_payload_over_the_limit_is_dead_lettered_unparsed():
    payload = json.dumps(_doc(3)).encode()
    parts = split_message(_message(payload), NOW, max_payload_bytes=len(payload) - 1)
    assert parts.rows == [] and len(parts.rejects) == 1
    assert f"payload of {len(payload)} bytes is over the {len(payload) - 1}-byte limit" in parts.rejects[0][2]
    assert len(split_message(_message(payload), NOW, max_payload_bytes=len(payload)).rows) == 3


def test_the_same_reading_id_with_another_value_in_one_batch_is_a_conflicting_duplicate():
    first = _doc(2, prefix="CNF")
    again = json.loads(json.dumps(first))
    second = json.loads(json.dumps(first))
    reading = second["readings"][0]
    name = "glucose" if reading["kind"] == "glucose" else "systolic"
    reading["values"][name]["value"] += 10
    parts = [split_message(_message(json.dumps(d).encode()), NOW) for d in (first, again, second)]
    assert drop_batch_conflicts(parts) == 1
    assert [len(p.rows) for p in parts] == [2, 2, 1]  # an identical resend stays (stored once by the merge)
    assert parts[2].rejects[0][2].startswith(f"{CONFLICT_REASON}: reading {reading['id']}")
    assert all(len(p.rows) == len(p.readings) for p in parts)


# --- fuzzing: raw bytes, and JSON that is structurally a batch but hostile in its parts -------------

_leaf = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=10**30, max_value=10**40)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=50)
    | st.just("\u0000")
    | st.just("x" * 5000)
    | st.just("2026-11-25T12:00:00+00:00")
    | st.just("1970-01-01T00:00:00Z")
    | st.just("9999-12-31T23:59:59Z")
)
_hostile = st.recursive(
    _leaf,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=10), inner, max_size=5),
    max_leaves=20,
)


def _paths(doc: object, prefix: tuple = ()) -> list[tuple]:
    found = [prefix]
    if isinstance(doc, dict):
        for key, value in doc.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(doc, list):
        for index, value in enumerate(doc):
            found += _paths(value, (*prefix, index))
    return found


def _replace(doc: object, path: tuple, value: object) -> object:
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(doc, dict):
        return {**doc, head: _replace(doc[head], rest, value)}
    assert isinstance(doc, list)
    return [_replace(item, rest, value) if i == head else item for i, item in enumerate(doc)]


BASE = _doc(3)
BASE_PATHS = _paths(BASE)


def _empty_batch(payload: bytes) -> bool:
    doc = json.loads(payload)
    return isinstance(doc, dict) and doc.get("readings") == []


def _assert_settled(payload: bytes) -> None:
    parts = split_message(_message(payload), NOW)
    # A valid envelope with "readings": [] (the contract allows it) settles nothing and is simply acked.
    assert parts.rows or parts.rejects or _empty_batch(payload), payload[:200]
    assert len(parts.rows) == len(parts.readings)
    assert all(isinstance(reason, str) and reason for _, _, reason in parts.rejects)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2048))
def test_fuzz_raw_payload_bytes_never_crash(payload: bytes) -> None:
    _assert_settled(payload)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(BASE_PATHS), _hostile), min_size=1, max_size=4))
def test_fuzz_structurally_valid_hostile_json_never_crashes(mutations: list[tuple[tuple, object]]) -> None:
    doc: object = BASE
    for path, value in mutations:
        try:
            doc = _replace(doc, path, value)
        except (KeyError, IndexError, AssertionError, TypeError):
            continue  # an earlier mutation removed this path
    _assert_settled(json.dumps(doc, allow_nan=True).encode())
