"""HMAC-SHA256 signatures of webhook bodies, with a timestamp and a replay window (both directions).

Header `X-VitalGate-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`: the
timestamp is signed with the body, so a captured request cannot be replayed after the window, and
comparing in constant time gives nothing away (the scheme of Stripe's and Slack's webhooks).
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

SIGNATURE_HEADER = "X-VitalGate-Signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"
DEFAULT_WINDOW_S = 300


class SignatureError(Exception):
    """The signature is missing, malformed, wrong, or outside the replay window."""


def _mac(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def sign(secret: str, body: bytes, now: datetime) -> str:
    """The signature header value for `body` sent at `now`."""
    timestamp = int(now.timestamp())
    return f"t={timestamp},v1={_mac(secret, timestamp, body)}"


def verify(secret: str, header: str | None, body: bytes, now: datetime, *, window_s: int = DEFAULT_WINDOW_S) -> int:
    """Check a signature header; returns its timestamp, raises SignatureError otherwise."""
    if not header:
        raise SignatureError("no signature")
    fields = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        timestamp = int(fields["t"])
        given = fields["v1"]
    except (KeyError, ValueError) as exc:
        raise SignatureError("malformed signature") from exc
    if abs(now.timestamp() - timestamp) > window_s:
        raise SignatureError("signature outside the replay window")
    if not hmac.compare_digest(given, _mac(secret, timestamp, body)):
        raise SignatureError("signature does not match")
    return timestamp
