"""The MQTT wire contract shared by gateway and ingest; imports nothing of the project."""

from vitalgate.contract.claim import check_claim_code, claim_code
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
    "DeviceRef",
    "DeviceSyncState",
    "GatewayStatus",
    "Quantity",
    "Reading",
    "ReadingBatch",
    "check_claim_code",
    "claim_code",
    "offline_status",
    "reading_id",
    "readings_topic",
    "receipts_topic",
    "status_topic",
]
