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
from vitalgate.contract.status import DeviceSyncState, GatewayStatus, offline_status

__all__ = [
    "SCHEMA_VERSION",
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
    "status_topic",
]
