"""Signed webhook: a program's own SMS / voice / WeChat gateway receives JSON, signed with HMAC-SHA256.

Headers: X-VitalGate-Signature (t=<unix>,v1=<hex>, notify.signing), Idempotency-Key (the ledger's
key: a resend after a crash carries the same key, so the gateway sends the text once). A 2xx
answer is success; its JSON `message_id` (or `id`) is the provider message id receipts refer to.
4xx other than 408/429 is permanent (the gateway refused this message); the rest is retried.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx

from vitalgate.notify.channels.base import Outgoing, SendResult
from vitalgate.notify.config import WebhookChannel
from vitalgate.notify.signing import IDEMPOTENCY_HEADER, SIGNATURE_HEADER, sign

_RETRYABLE_4XX = frozenset({408, 409, 425, 429})


def payload(message: Outgoing) -> bytes:
    """The JSON body (compact, keys sorted: the signed bytes are exactly what is sent)."""
    body = {
        "delivery_id": message.delivery_id,
        "idempotency_key": message.idempotency_key,
        "medium": message.medium,
        "to": message.to,
        "subject": message.subject,
        "text": message.text,
        "locale": message.locale,
        "urgent": message.urgent,
        "link": message.link,
    }
    return json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


class WebhookTransport:
    name = "webhook"

    def __init__(self, config: WebhookChannel, *, client: httpx.AsyncClient | None = None) -> None:
        self.config = config
        self._client = client or httpx.AsyncClient(
            timeout=config.timeout_s, limits=httpx.Limits(max_connections=100, max_keepalive_connections=100)
        )

    async def send(self, message: Outgoing) -> SendResult:
        body = payload(message)
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(self.config.secret.get_secret_value(), body, datetime.now(UTC)),
            IDEMPOTENCY_HEADER: message.idempotency_key,
        }
        try:
            response = await self._client.post(self.config.url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            return SendResult(False, error=f"{type(exc).__name__}: {exc}"[:500])
        if response.is_success:
            return SendResult(True, provider_message_id=_message_id(response))
        permanent = 400 <= response.status_code < 500 and response.status_code not in _RETRYABLE_4XX
        return SendResult(False, error=f"HTTP {response.status_code}", permanent=permanent)

    async def close(self) -> None:
        await self._client.aclose()


def _message_id(response: httpx.Response) -> str | None:
    try:
        data = response.json()
    except ValueError:
        return None
    if isinstance(data, dict):
        value = data.get("message_id") or data.get("id")
        return str(value) if value is not None else None
    return None
