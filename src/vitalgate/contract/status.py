"""Wire contract v1: the retained gateway status on vitalgate/v1/{gateway_id}/status."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from vitalgate.contract.readings import SCHEMA_VERSION


class DeviceSyncState(BaseModel):
    """What the hub knows about one paired device (opaque address/serial, no patient identity)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    address: str = Field(max_length=64)
    serial: str = Field(max_length=64)
    kind: Literal["glucose_meter", "bp_cuff"]
    last_sync_at: AwareDatetime | None = None
    last_error: str | None = Field(default=None, max_length=300)


class GatewayStatus(BaseModel):
    """Retained status; the broker publishes the `offline` form as the last will."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: Literal[1] = SCHEMA_VERSION
    gateway_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    state: Literal["online", "offline"]
    online: bool
    # Readings in the outbox: not yet published, or published and waiting for their commit receipt.
    backlog: int | None = Field(default=None, ge=0)
    # Of the backlog, readings published (PUBACK) whose commit receipt has not come yet.
    unconfirmed: int | None = Field(default=None, ge=0)
    # Readings the bounded outbox discarded (oldest first) since the hub was installed: any
    # value above zero is data loss an operator must see.
    dropped: int | None = Field(default=None, ge=0)
    last_publish_at: AwareDatetime | None = None
    devices: list[DeviceSyncState] = Field(default_factory=list, max_length=256)
    updated_at: AwareDatetime | None = None


def offline_status(gateway_id: str) -> GatewayStatus:
    """The last-will form: only what is true whenever the hub vanished."""
    return GatewayStatus(gateway_id=gateway_id, state="offline", online=False)
