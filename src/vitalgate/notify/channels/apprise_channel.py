"""Apprise: one URL per channel reaches SMS gateways (Twilio, AWS SNS, MessageBird...), push, ntfy, WeCom bots.

Apprise URLs address a fixed target (a topic, a bot, a number list), so the recipient's address is
sent in the body for gateways that route by it; a program that needs per-recipient routing through
Apprise puts `{to}` in its URL (e.g. twilio://sid:token@from/{to}) and it is filled in per message.
"""

from __future__ import annotations

from urllib.parse import quote

import apprise

from vitalgate.notify.channels.base import Outgoing, SendResult
from vitalgate.notify.config import AppriseChannel

_HTTP_SCHEMES = frozenset({"json", "jsons", "form", "forms", "xml", "xmls"})


class AppriseTransport:
    name = "apprise"

    def __init__(self, config: AppriseChannel) -> None:
        self.config = config

    async def send(self, message: Outgoing) -> SendResult:
        url = self.config.url.get_secret_value().replace("{to}", quote(message.to, safe="+@"))
        if url.split("://", 1)[0] in _HTTP_SCHEMES:
            # Apprise's HTTP schemes send `+Name=value` URL arguments as headers: the key travels along.
            url += ("&" if "?" in url else "?") + f"+Idempotency-Key={quote(message.idempotency_key, safe='')}"
        notifier = apprise.Apprise()
        if not notifier.add(url):
            return SendResult(False, error="Apprise does not accept the configured URL", permanent=True)
        ok = await notifier.async_notify(
            body=message.text,
            title=message.subject,
            notify_type=apprise.NotifyType.WARNING if message.urgent else apprise.NotifyType.INFO,
        )
        return SendResult(True) if ok else SendResult(False, error="Apprise reported the notification failed")

    async def close(self) -> None:
        return None
