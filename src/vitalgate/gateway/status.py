"""The hub's status, built from its SQLite state: published retained on MQTT and shown by `gateway status`."""

from __future__ import annotations

from datetime import UTC, datetime

from vitalgate.contract import DeviceSyncState, GatewayStatus
from vitalgate.gateway.outbox import HubStore


def _aware(value: str | None) -> datetime | None:
    if not value:
        return None
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


# A hub that published "online" within this long is taken as running (3 heartbeats).
ONLINE_WITHIN_S = 90.0


def seems_online(store: HubStore, now: datetime | None = None) -> bool:
    """Local view for `gateway status`: did a running hub publish "online" recently?"""
    last = store.last_status()
    if last is None:
        return False
    online, at = last
    return online and ((now or datetime.now(UTC)) - at).total_seconds() < ONLINE_WITHIN_S


def build_status(store: HubStore, gateway_id: str, *, online: bool, now: datetime | None = None) -> GatewayStatus:
    """Backlog, loss counter, last publish and per-device sync state (no patient data: the hub has none)."""
    devices = [
        DeviceSyncState(
            address=d.address,
            serial=d.serial,
            kind=d.kind,
            last_sync_at=_aware(d.last_sync_at),
            last_error=d.last_error,
        )
        for d in store.devices()[:256]
    ]
    return GatewayStatus(
        gateway_id=gateway_id,
        state="online" if online else "offline",
        online=online,
        backlog=store.backlog(),
        unconfirmed=store.unconfirmed(),
        dropped=store.dropped(),
        last_publish_at=store.last_publish_at(),
        devices=devices,
        updated_at=now or datetime.now(UTC),
    )
