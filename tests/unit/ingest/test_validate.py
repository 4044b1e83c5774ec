"""Message validation (pure): good readings pass, each bad part is rejected with a reason on its own."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from vitalgate.ingest import loadgen
from vitalgate.ingest.rows import staging_row
from vitalgate.ingest.validate import parse_message
from vitalgate.store.readings import STAGING_COLUMNS, STAGING_TYPES

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
GW = "gw-validate"
TOPIC = f"vitalgate/v1/{GW}/readings"


def _doc(n: int = 4) -> dict:
    fleet = loadgen.devices("VAL", 2)
    return json.loads(loadgen.payloads(GW, fleet, n, now=NOW)[0])


def _encode(doc: dict) -> bytes:
    return json.dumps(doc).encode()


def test_a_valid_batch_passes_whole_and_rows_match_the_staging_layout():
    parsed = parse_message(TOPIC, _encode(_doc()), NOW)
    assert parsed.rejected == [] and len(parsed.readings) == 4
    kinds = {r.kind for r in parsed.readings}
    assert kinds == {"glucose", "blood_pressure"}
    row = staging_row(parsed.readings[0], GW)
    assert len(row) == len(STAGING_COLUMNS) == len(STAGING_TYPES)
    assert isinstance(row[-1], dict)  # context travels as a dict: the COPY is binary jsonb


def test_impossible_values_are_rejected_one_by_one_and_far_future_times_left_to_the_store():
    doc = _doc(6)
    bp = next(i for i, r in enumerate(doc["readings"]) if r["kind"] == "blood_pressure")
    doc["readings"][bp]["values"]["systolic"]["value"] = 900  # mmHg: a transport or device error
    future = next(i for i, r in enumerate(doc["readings"]) if i != bp)
    doc["readings"][future]["measured_at"] = (NOW + timedelta(days=3650)).isoformat()
    parsed = parse_message(TOPIC, _encode(doc), NOW)
    # The far-future reading is well-formed: store.holds moves it to the review queue (future_time).
    assert len(parsed.readings) == 5
    assert len(parsed.rejected) == 1
    reason = parsed.rejected[0].reason
    assert f"reading {bp}:" in reason and "systolic 900" in reason and "plausible" in reason
    # Each dead letter keeps just the offending reading, so it can be inspected and replayed.
    assert json.loads(parsed.rejected[0].payload)["id"]


def test_whole_message_rejects_keep_the_raw_payload():
    cases = {
        b"{not json": "not JSON",
        b"[1, 2]": "not a JSON object",
        _encode({**_doc(1), "schema_version": 2}): "unsupported schema_version 2",
        _encode({**_doc(1), "gateway_id": "gw-other"}): "does not match topic",
        _encode({**_doc(1), "readings": "none"}): "readings must be a list",
        _encode({**_doc(1), "sent_at": "yesterday"}): "bad envelope",
    }
    for payload, reason in cases.items():
        parsed = parse_message(TOPIC, payload, NOW)
        assert parsed.readings == [], reason
        assert len(parsed.rejected) == 1 and reason in parsed.rejected[0].reason
        assert parsed.rejected[0].payload == payload


def test_a_topic_outside_the_contract_is_rejected():
    parsed = parse_message("vitalgate/v2/gw/readings", _encode(_doc(1)), NOW)
    assert parsed.gateway_id is None and "unexpected topic" in parsed.rejected[0].reason
