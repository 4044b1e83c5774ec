"""Export the wire contract as JSON Schema files in contract/schema/ (`python -m contract.schema_export`)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from vitalgate.contract.claim import DeviceClaim
from vitalgate.contract.readings import SCHEMA_VERSION, ReadingBatch
from vitalgate.contract.receipts import CommitReceipt
from vitalgate.contract.status import GatewayStatus

SCHEMA_DIR = Path(__file__).parent / "schema"


def schemas() -> dict[str, dict[str, object]]:
    """File name -> JSON Schema document, for every message on the wire."""
    out: dict[str, dict[str, object]] = {}
    for name, model, topic in (
        ("readings", ReadingBatch, "vitalgate/v1/{gateway_id}/readings"),
        ("status", GatewayStatus, "vitalgate/v1/{gateway_id}/status"),
        ("receipts", CommitReceipt, "vitalgate/v1/{gateway_id}/receipts"),
        ("claims", DeviceClaim, "vitalgate/v1/{gateway_id}/claims"),
    ):
        doc = model.model_json_schema(mode="validation")
        doc = {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": f"https://vitalgate.example/schema/{name}-v{SCHEMA_VERSION}.json",
            "x-mqtt-topic": topic,
            **doc,
        }
        out[f"{name}-v{SCHEMA_VERSION}.json"] = doc
    return out


def render(doc: dict[str, object]) -> str:
    """Stable text form (sorted keys, trailing newline) so diffs stay readable."""
    return json.dumps(doc, indent=2, sort_keys=True) + "\n"


def write_schemas(directory: Path = SCHEMA_DIR) -> list[Path]:
    """Write every schema file; returns the paths written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, doc in schemas().items():
        path = directory / name
        path.write_text(render(doc), encoding="utf-8")
        written.append(path)
    return written


def stale_schemas(directory: Path = SCHEMA_DIR) -> list[str]:
    """Names of committed schema files that differ from the models (empty = current)."""
    stale = []
    for name, doc in schemas().items():
        path = directory / name
        if not path.exists() or path.read_text(encoding="utf-8") != render(doc):
            stale.append(name)
    return stale


if __name__ == "__main__":
    for written_path in write_schemas(Path(sys.argv[1]) if len(sys.argv) > 1 else SCHEMA_DIR):
        print(written_path)
