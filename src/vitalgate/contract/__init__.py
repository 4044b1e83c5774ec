"""The MQTT wire contract shared by gateway and ingest; imports nothing of the project."""

from vitalgate.contract.claim import DeviceClaim, claim_hash, claims_topic, new_claim_code, normalise_claim_code
from vitalgate.contract.readings import (
    SCHEMA_VERSION,
    DeviceRef,
    Quantity,
    Reading,
    ReadingBatch,
    reading_id,
    readings_topic,
    status_topic,
)
from vitalgate.contract.receipts import MAX_RECEIPT_IDS, CommitReceipt, receipts_topic
from vitalgate.contract.status import DeviceSyncState, GatewayStatus, offline_status

__all__ = [
    "MAX_RECEIPT_IDS",
    "SCHEMA_VERSION",
    "CommitReceipt",
    "DeviceClaim",
    "DeviceRef",
    "DeviceSyncState",
    "GatewayStatus",
    "Quantity",
    "Reading",
    "ReadingBatch",
    "claim_hash",
    "claims_topic",
    "new_claim_code",
    "normalise_claim_code",
    "offline_status",
    "reading_id",
    "readings_topic",
    "receipts_topic",
    "status_topic",
]
