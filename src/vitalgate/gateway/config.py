"""Hub settings (VITALGATE_GATEWAY_*), validated once and passed down as one typed object."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class HubConfig(BaseSettings):
    """How the edge hub runs; the gateway id and broker come from vitalgate.settings.Settings."""

    model_config = SettingsConfigDict(env_prefix="VITALGATE_GATEWAY_", extra="ignore")

    # bleak: the OS Bluetooth stack (production). hci: bumble on a raw HCI transport (a USB
    # dongle without BlueZ, or tcp-client:host:port). virtual: demo devices on an in-process radio.
    radio: Literal["bleak", "hci", "virtual"] = "bleak"
    # radio=bleak on Linux: register the hub's BlueZ pairing agent (Just Works and --passkey pairing need
    # one). Off only where another agent (e.g. a desktop session's) already answers BlueZ.
    bluez_agent: bool = True
    # bumble transport name for radio=hci, e.g. usb:0, serial:/dev/ttyUSB0,1000000, tcp-client:127.0.0.1:9000
    hci_transport: str = "usb:0"
    # None: <data dir>/hub.sqlite.
    hub_db: Path | None = None
    # ~100 k readings is months of data for a household (a few readings a day per device) and
    # ~50 MB of SQLite; beyond it the oldest are dropped with a loud counter.
    outbox_max_rows: int = Field(default=100_000, ge=100)
    # Readings per MQTT message (the contract allows up to 1000).
    batch_size: int = Field(default=500, ge=1, le=1000)
    # Home meters are synced a few times a day; a minute keeps a new reading's latency low
    # without keeping the radio busy.
    sync_interval_s: float = Field(default=60.0, gt=0)
    # BLE adapters hold few simultaneous links (BlueZ typically 5-7); stay under that.
    max_concurrent_syncs: int = Field(default=4, ge=1, le=32)
    connect_attempts: int = Field(default=3, ge=1, le=10)
    # How long one connection attempt waits for the device to show up (seconds).
    connect_timeout_s: float = Field(default=10.0, gt=0, le=120)
    sync_timeout_s: float = Field(default=120.0, gt=0)
    # How long a published reading waits for ingest's commit receipt before it is published again
    # (ingest stores an id once, so a resend is harmless; too short only wastes bandwidth).
    receipt_timeout_s: float = Field(default=60.0, gt=0, le=24 * 3600)
    # A device clock further than this from the hub's is not used: readings are placed by reception
    # time and flagged time_uncertain (gateway/timing.py).
    max_clock_skew_hours: float = Field(default=24.0, gt=0)
    # Publisher reconnect backoff bounds (seconds).
    reconnect_min_s: float = Field(default=0.5, gt=0)
    reconnect_max_s: float = Field(default=30.0, gt=0)
    # Virtual radio fleet (--virtual): how many demo devices and records each.
    virtual_meters: int = Field(default=1, ge=0, le=200)
    virtual_cuffs: int = Field(default=1, ge=0, le=200)
    virtual_records: int = Field(default=5, ge=0, le=65_000)

    def hub_path(self, data_dir: Path) -> Path:
        """The hub's SQLite file."""
        return self.hub_db if self.hub_db is not None else data_dir / "hub.sqlite"
