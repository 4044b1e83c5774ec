"""Wire contract v1: commit receipts from ingest to a hub on vitalgate/v1/{gateway_id}/receipts.

A receipt names readings whose fate is durable in the server's database: stored now, stored
before (a duplicate), dead-lettered or held for review. Only then may the hub delete them from
its outbox; a reading without a receipt is re-published after the hub's receipt timeout, which is
harmless because ingest stores a reading id once. Ingest publishes receipts after the commit,
QoS 1, at most MAX_RECEIPT_IDS ids per message.
"""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from vitalgate.contract.readings import MAX_BATCH, SCHEMA_VERSION, TOPIC_PREFIX

# One receipt per committed reading batch and gateway: a batch holds at most MAX_BATCH readings.
MAX_RECEIPT_IDS = MAX_BATCH


def receipts_topic(gateway_id: str) -> str:
    """Topic ingest publishes a hub's commit receipts to (the hub subscribes to its own only)."""
    return f"{TOPIC_PREFIX}/{gateway_id}/receipts"


class CommitReceipt(BaseModel):
    """Readings of one gateway whose outcome is committed to the database."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: Literal[1] = SCHEMA_VERSION
    gateway_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    reading_ids: list[uuid.UUID] = Field(default_factory=list, max_length=MAX_RECEIPT_IDS)
    committed_at: AwareDatetime
    # Device serials whose DeviceClaim (contract.claim) the server has stored: the hub stops re-sending them.
    claims: list[str] = Field(default_factory=list, max_length=256)
