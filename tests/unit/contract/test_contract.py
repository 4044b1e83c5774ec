"""Wire contract: committed JSON Schema is current, HI/LO comparator, claim codes, status model."""

from __future__ import annotations

import json
import math
import uuid
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from vitalgate.contract import (
    DeviceRef,
    GatewayStatus,
    Quantity,
    Reading,
    ReadingBatch,
    claim_hash,
    new_claim_code,
    normalise_claim_code,
    offline_status,
    reading_id,
)
from vitalgate.contract.schema_export import SCHEMA_DIR, render, schemas, stale_schemas, write_schemas


def test_committed_schema_files_equal_the_models() -> None:
    assert stale_schemas() == [], "run `vitalgate gateway schema` and commit contract/schema/"
    for name, doc in schemas().items():
        assert json.loads((SCHEMA_DIR / name).read_text()) == json.loads(render(doc))


def test_a_model_change_makes_the_schema_stale(tmp_path) -> None:
    write_schemas(tmp_path)
    assert stale_schemas(tmp_path) == []
    path = tmp_path / "readings-v1.json"
    doc = json.loads(path.read_text())
    doc["$defs"]["Quantity"]["properties"].pop("comparator")
    path.write_text(json.dumps(doc))
    assert stale_schemas(tmp_path) == ["readings-v1.json"]


def test_schema_describes_the_comparator_and_the_topic() -> None:
    doc = schemas()["readings-v1.json"]
    assert doc["x-mqtt-topic"] == "vitalgate/v1/{gateway_id}/readings"
    comparator = doc["$defs"]["Quantity"]["properties"]["comparator"]
    assert {"enum": ["<", ">"], "type": "string"} in comparator["anyOf"]


def _reading(quantity: Quantity) -> Reading:
    now = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    return Reading(
        id=reading_id("S1", 1, now),
        device=DeviceRef(serial="S1", kind="glucose_meter"),
        kind="glucose",
        values={"glucose": quantity},
        measured_at=now,
        device_time=now.replace(tzinfo=None),
        received_at=now,
        status=["result too high"],
    )


def test_hi_result_travels_as_a_bound_and_round_trips() -> None:
    reading = _reading(Quantity(value=500, unit="mg/dL", comparator=">"))
    again = Reading.model_validate_json(reading.model_dump_json())
    assert again.values["glucose"].comparator == ">" and again.values["glucose"].value == 500


@pytest.mark.parametrize("bad", [math.inf, -math.inf, math.nan])
def test_non_finite_values_are_refused(bad: float) -> None:
    with pytest.raises(ValidationError, match="finite"):
        Quantity(value=bad, unit="mg/dL")


def test_unknown_comparator_is_refused() -> None:
    with pytest.raises(ValidationError):
        Quantity(value=10, unit="mg/dL", comparator=">=")  # type: ignore[arg-type]


def test_batch_without_comparator_still_validates() -> None:
    """Step-1 payloads (no comparator key) stay valid: the field is optional."""
    now = datetime.now(UTC)
    raw = _reading(Quantity(value=100, unit="mg/dL")).model_dump(mode="json")
    raw["values"]["glucose"].pop("comparator")
    batch = ReadingBatch.model_validate({"gateway_id": "gw-1", "sent_at": now.isoformat(), "readings": [raw]})
    assert batch.readings[0].values["glucose"].comparator is None


def test_claim_codes_are_random_readable_and_hashed_after_normalising() -> None:
    """Issue 13: the old code was a checksum of the serial, so anyone could compute it."""
    codes = {new_claim_code() for _ in range(5000)}
    assert len(codes) == 5000
    code = next(iter(codes))
    assert len(code) == 14 and code[4] == code[9] == "-" and not set(code.replace("-", "")) & set("ILOU")
    assert normalise_claim_code(code.lower().replace("-", " ")) == code
    assert claim_hash(code) == claim_hash(code.lower().replace("0", "O").replace("1", "l"))
    assert len(claim_hash(code)) == 64 and claim_hash(code) != claim_hash(new_claim_code())
    with pytest.raises(ValueError):
        claim_hash("1234-5678")


def test_status_models() -> None:
    offline = offline_status("gw-1")
    assert offline.online is False and offline.state == "offline"
    with pytest.raises(ValidationError):
        GatewayStatus(gateway_id="gw/1", state="online", online=True)  # topic separator in an id
    with pytest.raises(ValidationError):
        GatewayStatus(gateway_id="gw-1", state="online", online=True, backlog=-1)


def test_reading_id_ignores_tzinfo_and_separates_sequence_numbers() -> None:
    t = datetime(2026, 1, 1, 8, 0)
    assert reading_id("S", 1, t) == reading_id("S", 1, t.replace(tzinfo=UTC))
    assert reading_id("S", 1, t) != reading_id("S", 2, t)
    assert isinstance(reading_id("S", None, t), uuid.UUID)
