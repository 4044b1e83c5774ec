"""Signed webhook: a program's own SMS / voice / WeChat gateway receives JSON, signed with HMAC-SHA256.

Headers: X-VitalGate-Signature (t=<unix>,v1=<hex>, notify.signing), Idempotency-Key (the ledger's
key: a resend after a crash carries the same key, so the gateway sends the text once). A 2xx
answer is success; its JSON `message_id` (or `id`) is the provider message id receipts refer to.
4xx other than 408/429 is permanent (the gateway refused this message); the rest is retried.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import aiohttp

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

    def __init__(self, config: WebhookChannel) -> None:
        self.config = config
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        # aiohttp (C-accelerated HTTP parsing, keep-alive pool): a few times fewer CPU cycles per request
        # than httpx, which decides whether the ledger keeps up with a burst on a small machine.
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.config.timeout_s),
                connector=aiohttp.TCPConnector(limit=100),
            )
        return self._session

    async def send(self, message: Outgoing) -> SendResult:
        body = payload(message)
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(self.config.secret.get_secret_value(), body, datetime.now(UTC)),
            IDEMPOTENCY_HEADER: message.idempotency_key,
        }
        try:
            async with self._client().post(self.config.url, data=body, headers=headers) as response:
                answer = await response.read()
                status = response.status
        except (TimeoutError, aiohttp.ClientError) as exc:
            return SendResult(False, error=f"{type(exc).__name__}: {exc}"[:500])
        if 200 <= status < 300:
            return SendResult(True, provider_message_id=_message_id(answer))
        permanent = 400 <= status < 500 and status not in _RETRYABLE_4XX
        return SendResult(False, error=f"HTTP {status}", permanent=permanent)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()


def _message_id(answer: bytes) -> str | None:
    try:
        data = json.loads(answer)
    except ValueError:
        return None
    if isinstance(data, dict):
        value = data.get("message_id") or data.get("id")
        return str(value) if value is not None else None
    return None
