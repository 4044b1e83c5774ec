"""Exponential backoff as a pure function of the attempt number (the one delay rule of every retry loop)."""

from __future__ import annotations

import random


def backoff_s(attempt: int, *, base_s: float, cap_s: float, jitter: float = 0.0) -> float:
    """Seconds to wait before retry number `attempt` (1-based): base * 2^(attempt-1), capped, +/- jitter.

    `jitter` is a fraction (0.2 = +/-20 %): it spreads the reconnects of many clients after an outage.
    """
    if attempt < 1:
        raise ValueError("attempt counts from 1")
    factor: int = 2 ** min(attempt - 1, 20)
    delay = min(cap_s, base_s * factor)
    return delay * (1 + jitter * (2 * random.random() - 1)) if jitter else delay
