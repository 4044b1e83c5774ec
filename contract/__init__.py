"""The MQTT wire contract shared by gateway and ingest; imports nothing of the project."""

from contract.readings import (
    SCHEMA_VERSION,
    DeviceRef,
    Quantity,
    Reading,
    ReadingBatch,
    readings_topic,
    reading_id,
    status_topic,
)

__all__ = [
    "SCHEMA_VERSION",
    "DeviceRef",
    "Quantity",
    "Reading",
    "ReadingBatch",
    "reading_id",
    "readings_topic",
    "status_topic",
]
