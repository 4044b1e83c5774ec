"""One MQTT message -> staging rows and dead letters; then the batch-wide check for conflicting duplicates.

Whatever a message holds, it ends here as rows, dead letters or both: nothing raises out (issue 13
item 3: a 200 KB nested array once stopped ingest for good).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import structlog

from vitalgate.contract import DeviceClaim, GatewayStatus, Reading
from vitalgate.core.mqtt import Message
from vitalgate.ingest.receipts import message_ids
from vitalgate.ingest.rows import staging_row
from vitalgate.ingest.validate import gateway_of, parse_message
from vitalgate.store.readings import STAGING_COLUMNS, DeadLetter

log = structlog.get_logger(__name__)

# Payloads above this are dead-lettered unparsed (Settings.ingest_max_payload_bytes). A full
# 1,000-reading message of the contract is ~500 kB, so 1 MiB leaves room and bounds the work.
DEFAULT_MAX_PAYLOAD_BYTES = 1024 * 1024

# What a reading says (kind and values, the columns store.readings.VALUE_HASH_SQL fingerprints).
_VALUE_COLUMNS = tuple(
    STAGING_COLUMNS.index(c)
    for c in ("kind", "glucose_mg_dl", "systolic_mmhg", "diastolic_mmhg", "map_mmhg", "pulse_bpm")
)
CONFLICT_REASON = "conflicting duplicate"


@dataclass(slots=True)
class Parts:
    """One message, validated: staging rows (aligned with their readings) and dead letters."""

    topic: str
    readings: list[Reading]
    rows: list[tuple[Any, ...]]
    rejects: list[DeadLetter]
    # For the commit receipt: the topic's gateway (the broker's ACL ties it to the publisher) and
    # every reading id this message settles once committed (valid, held or dead-lettered).
    gateway_id: str | None = None
    receipt_ids: list[UUID] = field(default_factory=list)
    # A hub's pairing claims (vitalgate/v1/<gw>/claims), stored in the batch's transaction.
    claims: list[DeviceClaim] = field(default_factory=list)
    # A hub's retained status (vitalgate/v1/<gw>/status): why a patient's data stopped.
    status: GatewayStatus | None = None


def split_message(message: Message, now: Any, max_payload_bytes: int = DEFAULT_MAX_PAYLOAD_BYTES) -> Parts:
    """Validate one message into rows and dead letters; never raises."""
    topic, payload = message.topic, message.payload
    if (claim_gateway := claims_gateway_of(topic)) is not None:
        return _split_claim(topic, payload, claim_gateway)
    if (status_gateway := status_gateway_of(topic)) is not None:
        return _split_status(topic, payload, status_gateway)
    gateway_id = gateway_of(topic)
    if len(payload) > max_payload_bytes:
        reason = f"payload of {len(payload)} bytes is over the {max_payload_bytes}-byte limit (not parsed)"
        return Parts(topic, [], [], [(topic, payload, reason)], gateway_id)
    try:
        parsed = parse_message(topic, payload, now)
        gateway = parsed.gateway_id or "unknown"
        rows = [staging_row(reading, gateway) for reading in parsed.readings]
    except Exception as exc:  # isolate: one message must never stop ingest
        log.exception("ingest.message_failed", topic=topic, bytes=len(payload))
        reason = f"validation failed: {type(exc).__name__}: {str(exc)[:300]}"
        return Parts(topic, [], [], [(topic, payload, reason)], gateway_id, message_ids([], [payload]))
    rejected = [r.payload for r in parsed.rejected]
    return Parts(
        topic,
        parsed.readings,
        rows,
        [(topic, r.payload, r.reason) for r in parsed.rejected],
        gateway_id,
        message_ids(parsed.readings, rejected),
    )


def receipts_by_gateway(parts: list[Parts]) -> dict[str, tuple[list[UUID], list[str]]]:
    """A committed batch's settled reading ids and claim serials per gateway (each only to its own gateway)."""
    out: dict[str, tuple[list[UUID], list[str]]] = {}
    for part in parts:
        if part.gateway_id is not None and (part.receipt_ids or part.claims):
            ids, serials = out.setdefault(part.gateway_id, ([], []))
            ids.extend(part.receipt_ids)
            serials.extend(claim.device_serial for claim in part.claims)
    return out


def claims_gateway_of(topic: str) -> str | None:
    """vitalgate/v1/{gateway_id}/claims -> gateway_id."""
    parts = topic.split("/")
    if len(parts) == 4 and parts[0] == "vitalgate" and parts[1] == "v1" and parts[3] == "claims":
        return parts[2]
    return None


def status_gateway_of(topic: str) -> str | None:
    """vitalgate/v1/{gateway_id}/status -> gateway_id."""
    parts = topic.split("/")
    if len(parts) == 4 and parts[0] == "vitalgate" and parts[1] == "v1" and parts[3] == "status":
        return parts[2]
    return None


def _split_status(topic: str, payload: bytes, gateway_id: str) -> Parts:
    """A GatewayStatus message of its own gateway, or a dead letter (no receipt: it settles no reading)."""
    try:
        status = GatewayStatus.model_validate_json(payload)
    except (ValueError, RecursionError) as exc:
        return Parts(topic, [], [], [(topic, payload, f"bad status: {str(exc)[:300]}")])
    if status.gateway_id != gateway_id:
        reason = f"status gateway_id {status.gateway_id!r} does not match topic {gateway_id!r}"
        return Parts(topic, [], [], [(topic, payload, reason)])
    return Parts(topic, [], [], [], None, status=status)


def _split_claim(topic: str, payload: bytes, gateway_id: str) -> Parts:
    """A DeviceClaim message: valid and from its own gateway, or a dead letter."""
    try:
        claim = DeviceClaim.model_validate_json(payload)
    except (ValueError, RecursionError) as exc:
        return Parts(topic, [], [], [(topic, payload, f"bad claim: {str(exc)[:300]}")])
    if claim.gateway_id != gateway_id:
        reason = f"claim gateway_id {claim.gateway_id!r} does not match topic {gateway_id!r}"
        return Parts(topic, [], [], [(topic, payload, reason)])
    return Parts(topic, [], [], [], gateway_id, claims=[claim])


def value_of(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """The part of a staging row a duplicate must repeat exactly."""
    return tuple(row[i] for i in _VALUE_COLUMNS)


def drop_batch_conflicts(parts: list[Parts]) -> int:
    """Within one batch, a reading id seen again with other values: the later one is a dead letter."""
    seen: dict[UUID, tuple[Any, ...]] = {}
    dropped = 0
    for part in parts:
        conflicts = []
        for index, row in enumerate(part.rows):
            value = value_of(row)
            first = seen.setdefault(row[0], value)
            if first != value:
                conflicts.append(index)
        if conflicts:
            dropped += len(conflicts)
            _move_to_rejects(part, set(conflicts), "differs from the same reading earlier in this batch")
    return dropped


def drop_stored_conflicts(parts: list[Parts], ids: Collection[UUID]) -> list[DeadLetter]:
    """Dead letters for rows whose id is stored with other values (store.readings.conflicting_duplicates)."""
    letters: list[DeadLetter] = []
    if not ids:
        return letters
    for part in parts:
        for row, reading in zip(part.rows, part.readings, strict=True):
            if row[0] in ids:
                letters.append(
                    (part.topic, reading.model_dump_json().encode(), _conflict(row, "differs from the stored one"))
                )
    return letters


def _move_to_rejects(part: Parts, indexes: set[int], why: str) -> None:
    for index in sorted(indexes):
        part.rejects.append(
            (part.topic, part.readings[index].model_dump_json().encode(), _conflict(part.rows[index], why))
        )
    part.rows = [row for i, row in enumerate(part.rows) if i not in indexes]
    part.readings = [reading for i, reading in enumerate(part.readings) if i not in indexes]


def _conflict(row: tuple[Any, ...], why: str) -> str:
    return f"{CONFLICT_REASON}: reading {row[0]} {why} (values {value_of(row)[1:]})"
