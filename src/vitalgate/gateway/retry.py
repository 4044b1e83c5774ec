"""Backoff as a pure function of the attempt and the error (no hand-rolled sleep loops elsewhere)."""

from __future__ import annotations

import random

from vitalgate.devices.errors_gatt import DeviceError, DeviceNotFound, PairingError

# A device that is not advertising is usually asleep between readings: waiting longer costs
# nothing. A dropped link is often radio noise: retry soon.
_BASE_S = {DeviceNotFound: 5.0, PairingError: 30.0}
_DEFAULT_BASE_S = 1.0


def backoff_s(attempt: int, error: BaseException | None = None, *, cap_s: float = 300.0, jitter: float = 0.0) -> float:
    """Seconds to wait before retry number `attempt` (1-based): base * 2^(attempt-1), capped, +/- jitter."""
    if attempt < 1:
        raise ValueError("attempt counts from 1")
    base = _DEFAULT_BASE_S
    if isinstance(error, DeviceError):
        base = next((b for cls, b in _BASE_S.items() if isinstance(error, cls)), _DEFAULT_BASE_S)
    delay = min(cap_s, base * 2 ** min(attempt - 1, 20))
    # Jitter spreads the reconnects of many hubs after a broker restart.
    return delay * (1 + jitter * (2 * random.random() - 1)) if jitter else delay


def reconnect_delay_s(attempt: int, *, minimum_s: float, maximum_s: float, jitter: float = 0.2) -> float:
    """Broker reconnect delay: minimum * 2^(attempt-1), capped at maximum, with jitter."""
    if attempt < 1:
        raise ValueError("attempt counts from 1")
    delay = min(maximum_s, minimum_s * 2 ** min(attempt - 1, 20))
    return delay * (1 + jitter * (2 * random.random() - 1)) if jitter else delay
