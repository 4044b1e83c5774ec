"""How long the hub waits before retrying a device: the core backoff with a base chosen by the error."""

from __future__ import annotations

from vitalgate.core.backoff import backoff_s
from vitalgate.devices.errors_gatt import DeviceError, DeviceNotFound, PairingError

# A device that is not advertising is usually asleep between readings: waiting longer costs
# nothing. A dropped link is often radio noise: retry soon.
_BASE_S = {DeviceNotFound: 5.0, PairingError: 30.0}
_DEFAULT_BASE_S = 1.0


def device_backoff_s(
    attempt: int, error: BaseException | None = None, *, cap_s: float = 300.0, jitter: float = 0.0
) -> float:
    """Seconds to wait before retry number `attempt` (1-based) of a device that failed with `error`."""
    base = _DEFAULT_BASE_S
    if isinstance(error, DeviceError):
        base = next((b for cls, b in _BASE_S.items() if isinstance(error, cls)), _DEFAULT_BASE_S)
    return backoff_s(attempt, base_s=base, cap_s=cap_s, jitter=jitter)
